import Foundation
import Testing
import ModelFiles
import Tensors

@Suite struct SafetensorsTests {
    static let pythonFile = Paths.repository.appendingPathComponent("Tests/Golden/safetensors/python.safetensors")

    func openError(_ bytes: [UInt8]) throws -> ModelFileError? {
        let url = try temporaryFile("test.safetensors", contents: bytes)
        return modelFileError { _ = try SafetensorsFile(contentsOf: url) }
    }

    /// A file with the given JSON header and data bytes.
    func file(header: String, data: [UInt8] = []) -> [UInt8] {
        var bytes: [UInt8] = []
        append(UInt64(header.utf8.count), to: &bytes)
        return bytes + Array(header.utf8) + data
    }

    var sampleWriter: SafetensorsWriter {
        var writer = SafetensorsWriter()
        writer.add("weights", Tensor(shape: [2, 3], data: [1, -2, 3.5, .infinity, -0.0, 1e-30]))
        writer.add("scalar", Tensor(shape: [], data: [42]))
        writer.add("empty", Tensor(shape: [0, 3], data: []))
        writer.add("ids", int32: [7, -1, .max, .min], shape: [4])
        writer.add("positions", int64: [1 << 40, -3], shape: [1, 2])
        writer.metadata = ["format": "pt", "model": "test/ünïcode"]
        return writer
    }

    @Test func roundTrip() throws {
        let url = try temporaryFile("round.safetensors", contents: [])
        try sampleWriter.write(to: url)
        let file = try SafetensorsFile(contentsOf: url)
        #expect(file.metadata == ["format": "pt", "model": "test/ünïcode"])
        #expect(Set(file.tensors.map(\.name)) == ["weights", "scalar", "empty", "ids", "positions"])

        let weights = try file.tensor(named: "weights")
        #expect(weights.shape == [2, 3])
        #expect(weights.data.map(\.bitPattern) == [1, -2, 3.5, Float.infinity, -0.0, 1e-30].map(\.bitPattern))
        #expect(try file.tensor(named: "scalar") == Tensor(shape: [], data: [42]))
        #expect(try file.tensor(named: "empty") == Tensor(shape: [0, 3], data: []))
        #expect(try file.int32Values(named: "ids") == [7, -1, .max, .min])
        #expect(try file.int64Values(named: "ids") == [7, -1, Int64(Int32.max), Int64(Int32.min)])
        #expect(try file.int64Values(named: "positions") == [1 << 40, -3])
        #expect(file.tensorInfo(named: "positions")?.shape == [1, 2])
        #expect(try file.tensor(named: "ids").data == [7, -1, 2_147_483_648, -2_147_483_648])

        // The header is padded to 8 bytes and wider elements come first, so every tensor is aligned.
        let bytes = try Data(contentsOf: url)
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(headerLength % 8 == 0)
        #expect(file.tensors.allSatisfy { $0.offset % $0.dtype.byteSize == 0 })
        #expect(file.tensors.first?.name == "positions")
    }

    @Test func replacingATensor() throws {
        var writer = sampleWriter
        writer.add("ids", int32: [5], shape: [1])
        let url = try temporaryFile("replace.safetensors", contents: [])
        try writer.write(to: url)
        let file = try SafetensorsFile(contentsOf: url)
        #expect(try file.int32Values(named: "ids") == [5])
        #expect(file.tensors.count == 5)
    }

    @Test func readsPythonWrittenFile() throws {
        let file = try SafetensorsFile(contentsOf: Self.pythonFile)
        #expect(file.metadata == ["format": "pt", "note": "lmdbg reference"])
        #expect(try file.tensor(named: "f32") == Tensor(shape: [2, 3], data: [-1, -0.5, 0, 0.5, 1, 1.5]))
        #expect(try file.tensor(named: "f16").data == [1, -2.5, 65504, 0x1p-24])
        #expect(try file.tensor(named: "bf16").data == [1, -3, 0x1p100])
        #expect(try file.int32Values(named: "i32") == [-1, 2, .max, .min])
        #expect(file.tensorInfo(named: "i32")?.shape == [2, 2])
        #expect(try file.int64Values(named: "i64") == [1 << 40, -5, 0])
        #expect(file.tensorInfo(named: "u8")?.dtype == .u8)
        #expect(modelFileError { _ = try file.tensor(named: "u8") } == .unsupportedTensorType(tensor: "u8", type: "U8"))
        #expect(modelFileError { _ = try file.int32Values(named: "f32") } == .unsupportedTensorType(tensor: "f32", type: "F32"))
        #expect(modelFileError { _ = try file.tensor(named: "nope") } == .missingTensor("nope"))
    }

    @Test func corruptHeaders() throws {
        #expect(try openError([1, 2, 3]) == .truncated(section: .header, offset: 8, fileSize: 3))
        var hugeLength: [UInt8] = []
        append(UInt64.max, to: &hugeLength)
        #expect(try openError(hugeLength + Array("{}".utf8))?.isTruncated(in: .header) == true)
        #expect(try openError(file(header: "{\"a\": ")) == .invalidHeader(reason: "not valid JSON"))
        #expect(try openError(file(header: "[1, 2]")) == .invalidHeader(reason: "the header is not a JSON object"))
        #expect(try openError(file(header: #"{"__metadata__": {"a": 1}}"#))
            == .invalidHeader(reason: "__metadata__ is not an object of strings"))
        #expect(try openError(file(header: #"{"t": 5}"#)) == .invalidTensorInfo(tensor: "t", reason: "the entry is not a JSON object"))
        #expect(try openError(file(header: #"{"t": {"shape": [1], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]))
            == .invalidTensorInfo(tensor: "t", reason: "no dtype string"))
        #expect(try openError(file(header: #"{"t": {"dtype": "Q4", "shape": [1], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]))
            == .unsupportedTensorType(tensor: "t", type: "Q4"))
        for shape in ["[-1]", "[1.5]", "\"big\"", "[\"1\"]"] {
            #expect(try openError(file(header: #"{"t": {"dtype": "F32", "shape": \#(shape), "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]))
                == .invalidTensorInfo(tensor: "t", reason: "the shape is not an array of non-negative integers"))
        }
        for offsets in ["[4, 0]", "[0]", "[0, 4, 8]", "[-4, 0]"] {
            #expect(try openError(file(header: #"{"t": {"dtype": "F32", "shape": [1], "data_offsets": \#(offsets)}}"#, data: [0, 0, 0, 0]))
                == .invalidTensorInfo(tensor: "t", reason: "data_offsets is not [begin, end] with begin <= end"))
        }
        #expect(try openError(file(header: #"{"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]))
            == .invalidTensorInfo(tensor: "t", reason: "data_offsets span 4 bytes, but F32 [2] needs 8"))
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(try openError(file(header: deep))?.description.hasPrefix("invalid safetensors header") == true)
        let overflowing = #"{"t": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 4]}}"#
        #expect(try openError(file(header: overflowing))
            == .invalidTensorInfo(tensor: "t", reason: "shape [4294967296, 4294967296] overflows"))
    }

    @Test func dataOutsideTheFile() throws {
        // A gap before the tensor: the offset is corrupt rather than the file cut short.
        let header = #"{"t": {"dtype": "F32", "shape": [1], "data_offsets": [1000, 1004]}}"#
        let bytes = file(header: header, data: [0, 0, 0, 0])
        let start = 8 + header.utf8.count
        #expect(try openError(bytes) == .tensorOutsideFile(tensor: "t", start: start + 1000, end: start + 1004, fileSize: bytes.count))
        let far = #"{"t": {"dtype": "F32", "shape": [1], "data_offsets": [9223372036854775800, 9223372036854775804]}}"#
        guard case .tensorOutsideFile(tensor: "t", _, _, _)? = try openError(file(header: far)) else {
            Issue.record("a far offset was accepted")
            return
        }
    }

    /// Every proper prefix of a written file fails with `truncated`, in the header or in the data.
    @Test func everyPrefixIsTruncated() throws {
        let bytes = Array(try sampleWriter.serialized())
        let headerEnd = 8 + bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        for length in 0..<bytes.count {
            let error = try openError(Array(bytes[0..<length]))
            guard case let .truncated(section, _, fileSize)? = error else {
                Issue.record("prefix of \(length) bytes: \(String(describing: error))")
                continue
            }
            #expect(section == (length < headerEnd ? .header : .tensorData), "prefix of \(length) bytes")
            #expect(fileSize == length)
        }
    }

    @Test func randomCorruptionNeverCrashes() throws {
        let original = Array(try sampleWriter.serialized())
        var generator = SplitMix64(seed: 7)
        var rejected = 0
        for _ in 0..<500 {
            var bytes = original
            for _ in 0..<Int(generator.next() % 3 + 1) {
                bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
            }
            let url = try temporaryFile("fuzz.safetensors", contents: bytes)
            defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
            do {
                let file = try SafetensorsFile(contentsOf: url)
                for info in file.tensors where [.f32, .f16, .bf16, .i32, .i64].contains(info.dtype) {
                    _ = try file.tensor(named: info.name)
                }
            } catch is ModelFileError {
                rejected += 1
            }
        }
        #expect(rejected > 50)
    }
}
