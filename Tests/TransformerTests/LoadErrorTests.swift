import Foundation
import ModelFiles
import Testing
@testable import Transformer

/// Files the engine cannot run are refused with an error that names why.
struct LoadErrorTests {
    /// A GGUF file with no tensors and one metadata entry, `general.architecture` = `architecture`.
    static func ggufNaming(_ architecture: String) throws -> URL {
        var bytes = Array("GGUF".utf8)
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        func append(_ string: String) {
            append(UInt64(string.utf8.count))
            bytes += string.utf8
        }
        append(UInt32(3))  // version
        append(UInt64(0))  // tensors
        append(UInt64(1))  // metadata entries
        append("general.architecture")
        append(UInt32(8))  // string
        append(architecture)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lmdbg-\(architecture)-\(UUID()).gguf")
        try Data(bytes).write(to: url)
        return url
    }

    @Test func otherArchitecturesAreRejectedByName() throws {
        let url = try Self.ggufNaming("mamba")
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: TransformerError.unsupportedArchitecture("mamba")) { try LanguageModel.load(url) }
        let description = TransformerError.unsupportedArchitecture("mamba").description
        #expect(description.contains("'mamba'") && description.contains("llama, gemma3"))
    }

    /// gpt2-tiny's HF directory with its token embedding stored as float64, which the engine does not read.
    @Test func weightsOfAnUnsupportedTypeAreNamed() throws {
        let source = HuggingFaceTests.directory("gpt2-tiny")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lmdbg-i32-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for file in ["config.json", "vocab.json", "merges.txt"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: directory.appendingPathComponent(file))
        }
        let original = try SafetensorsFile(contentsOf: source.appendingPathComponent("model.safetensors"))
        var writer = SafetensorsWriter()
        for info in original.tensors {
            if info.name == "transformer.wte.weight" {
                writer.add(info.name, int64: Array(repeating: 0, count: info.elementCount), shape: info.shape)
            } else {
                writer.add(info.name, try original.tensor(named: info.name))
            }
        }
        // The writer makes no F64; the only I64 tensor becomes one by its header's dtype (same size).
        var file = try writer.serialized()
        let i64 = try #require(file.range(of: Data(#""I64""#.utf8)))
        file.replaceSubrange(i64, with: Data(#""F64""#.utf8))
        try file.write(to: directory.appendingPathComponent("model.safetensors"))
        #expect(throws: ModelFileError.unsupportedTensorType(tensor: "transformer.wte.weight", type: "F64")) {
            try LanguageModel.load(directory)
        }
    }
}
