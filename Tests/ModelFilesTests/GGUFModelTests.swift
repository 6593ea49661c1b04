import Foundation
import Testing
import ModelFiles
import Tensors

@Suite(.enabled(if: Paths.exists(Paths.smolLM2), "SmolLM2 model file not present"))
struct SmolLM2FileTests {
    let file: GGUFFile

    init() throws {
        file = try GGUFFile(contentsOf: Paths.smolLM2)
    }

    @Test func header() {
        #expect(file.version == 3)
        #expect(file.tensors.count == 272)
        #expect(file.metadata.count == 33)
        #expect(file.metadataKeys.count == 33)
        #expect(file.metadataKeys.first == "general.architecture")
        #expect(file.metadataKeys.last == "general.quantization_version")
        #expect(file.alignment == 32)
        #expect(file.dataOffset == 1_785_664)
    }

    @Test func metadata() throws {
        #expect(try file.string(forKey: "general.architecture") == "llama")
        #expect(try file.int(forKey: "llama.block_count") == 30)
        #expect(try file.int(forKey: "llama.embedding_length") == 576)
        #expect(try file.int(forKey: "llama.feed_forward_length") == 1536)
        #expect(try file.int(forKey: "llama.attention.head_count") == 9)
        #expect(try file.int(forKey: "llama.attention.head_count_kv") == 3)
        #expect(try file.float(forKey: "llama.rope.freq_base") == 100_000)
        #expect(try file.float(forKey: "llama.attention.layer_norm_rms_epsilon") == 1e-5)
        #expect(try file.bool(forKey: "tokenizer.ggml.add_bos_token") == false)
        #expect(file.metadata["llama.block_count"] == .uint32(30))

        let tokens = try file.stringArray(forKey: "tokenizer.ggml.tokens")
        #expect(tokens.count == 49152)
        #expect(tokens[0] == "<|endoftext|>")
        #expect(tokens[1] == "<|im_start|>")
        #expect(try file.stringArray(forKey: "tokenizer.ggml.merges").count == 48900)
        #expect(try file.intArray(forKey: "tokenizer.ggml.token_type").count == 49152)
        #expect(try file.stringArray(forKey: "general.languages") == ["en"])
    }

    @Test func metadataErrors() {
        #expect(modelFileError { _ = try file.int(forKey: "llama.no_such_key") } == .missingMetadata(key: "llama.no_such_key"))
        #expect(modelFileError { _ = try file.string(forKey: "llama.block_count") }
            == .metadataTypeMismatch(key: "llama.block_count", expected: "a string", found: "uint32"))
        #expect(modelFileError { _ = try file.floatArray(forKey: "tokenizer.ggml.tokens") }
            == .metadataTypeMismatch(key: "tokenizer.ggml.tokens", expected: "an array of floats", found: "array of string"))
    }

    @Test func tensorInfos() throws {
        let embedding = try #require(file.tensorInfo(named: "token_embd.weight"))
        #expect(embedding.dimensions == [576, 49152])
        #expect(embedding.shape == [49152, 576])
        #expect(embedding.type == .q8_0)
        #expect(embedding.offset == 1_785_664)
        #expect(embedding.byteCount == 30_081_024)

        let down = try #require(file.tensorInfo(named: "blk.0.ffn_down.weight"))
        #expect(down.dimensions == [1536, 576])
        #expect(down.shape == [576, 1536])
        #expect(down.type == .q4_1)
        #expect(down.offset == 31_868_992)
        #expect(down.byteCount == 552_960)

        #expect(file.tensorInfo(named: "blk.29.attn_norm.weight")?.shape == [576])
        #expect(file.tensorInfo(named: "blk.30.attn_norm.weight") == nil)
        #expect(modelFileError { _ = try file.tensor(named: "nope") } == .missingTensor("nope"))
    }

    @Test func rowsMatchTheWholeTensor() throws {
        let info = try #require(file.tensorInfo(named: "token_embd.weight"))
        let whole = try file.tensor(named: "token_embd.weight")
        for rows in [0..<1, 1000..<1003, 49151..<49152, 7..<7] {
            var buffer = [Float](repeating: .nan, count: rows.count * 576)
            try buffer.withUnsafeMutableBufferPointer { try file.dequantizeRows(info, rows, into: $0) }
            #expect(buffer == Array(whole.data[rows.lowerBound * 576..<rows.upperBound * 576]), "rows \(rows)")
        }
    }

    /// Cuts of the real file in each section fail with `truncated`, naming that section.
    @Test(arguments: [
        (0, FileSection.header), (3, .header), (4, .header), (8, .header), (23, .header),
        (24, .metadata), (100, .metadata), (1000, .metadata), (100_000, .metadata), (1_000_000, .metadata),
        (1_769_506, .metadata),
        (1_769_507, .tensorInfo), (1_770_000, .tensorInfo), (1_785_663, .tensorInfo),
        (1_785_664, .tensorData), (1_785_665, .tensorData), (2_000_000, .tensorData),
    ])
    func cutsOfTheRealFile(length: Int, section: FileSection) throws {
        let handle = try FileHandle(forReadingFrom: Paths.smolLM2)
        defer { try? handle.close() }
        let prefix = try handle.read(upToCount: length) ?? Data()
        let url = try temporaryFile("cut.gguf", contents: Array(prefix))
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let error = modelFileError { _ = try GGUFFile(contentsOf: url) }
        guard case let .truncated(actualSection, offset, fileSize)? = error else {
            Issue.record("cut at \(length): \(String(describing: error))")
            return
        }
        #expect(actualSection == section)
        #expect(fileSize == length)
        #expect(offset > length)
    }

    @Test func wholeTensorDequantization() throws {
        // Reference values from gguf-py (`gguf.quants.dequantize` on the same tensors).
        let norm = try file.tensor(named: "blk.0.attn_norm.weight")
        #expect(norm.shape == [576])
        #expect(norm.data.prefix(4).map(\.bitPattern) == [0x3c65_0000, 0x3cc3_0000, 0xbca2_0000, 0xbcf8_0000])

        let gate = try file.tensor(named: "blk.0.ffn_gate.weight")
        #expect(gate.shape == [1536, 576])
        #expect(gate.data[1000 * 576 + 100].bitPattern == 0xbe3e_9800)
        #expect(gate.data.last?.bitPattern == 0x3d65_8000)
        #expect(bitPatternSum(gate) == 1_867_911_602_141_696)

        let embedding = try file.tensor(named: "token_embd.weight")
        #expect(embedding.shape == [49152, 576])
        #expect(bitPatternSum(embedding) == 58_597_194_097_596_096)
    }


}

@Suite(.enabled(if: Paths.exists(Paths.gemma3), "Gemma 3 model file not present"))
struct Gemma3FileTests {
    let file: GGUFFile

    init() throws {
        file = try GGUFFile(contentsOf: Paths.gemma3)
    }

    @Test func metadata() throws {
        #expect(file.tensors.count == 236)
        #expect(try file.string(forKey: "general.architecture") == "gemma3")
        #expect(try file.int(forKey: "gemma3.block_count") == 18)
        #expect(try file.int(forKey: "gemma3.embedding_length") == 640)
        #expect(try file.int(forKey: "gemma3.attention.key_length") == 256)
        #expect(try file.int(forKey: "gemma3.attention.sliding_window") == 512)
        #expect(try file.float(forKey: "gemma3.rope.freq_base") == 1_000_000)
        #expect(try file.bool(forKey: "tokenizer.ggml.add_bos_token") == true)
        let tokens = try file.stringArray(forKey: "tokenizer.ggml.tokens")
        #expect(tokens.count == 262_144)
        #expect(Array(tokens.prefix(3)) == ["<pad>", "<eos>", "<bos>"])
        let scores = try file.floatArray(forKey: "tokenizer.ggml.scores")
        #expect(scores.count == 262_144)
        #expect(scores.first == -1000)
    }

    /// Whole tensors of every type in the file, against checksums of gguf-py's output.
    @Test(arguments: [
        ("output_norm.weight", GGMLType.f32, [640], UInt64(701_339_467_776)),
        ("token_embd.weight", .q8_0, [262_144, 640], 348_470_681_577_118_976),
        ("blk.0.attn_k.weight", .q5_0, [256, 640], 330_507_168_903_168),
        ("blk.0.attn_output.weight", .q4_K, [640, 1024], 1_368_226_423_918_736),
        ("blk.0.ffn_down.weight", .q6_K, [640, 2048], 2_693_469_328_728_834),
    ])
    func wholeTensor(name: String, type: GGMLType, shape: [Int], checksum: UInt64) throws {
        #expect(file.tensorInfo(named: name)?.type == type)
        let tensor = try file.tensor(named: name)
        #expect(tensor.shape == shape)
        #expect(bitPatternSum(tensor) == checksum)
    }
}

/// The sum of all float32 bit patterns: a checksum that any single differing bit changes.
func bitPatternSum(_ tensor: Tensor) -> UInt64 {
    tensor.data.withUnsafeBufferPointer { $0.reduce(0) { $0 &+ UInt64($1.bitPattern) } }
}
