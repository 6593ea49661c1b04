import Foundation
import Testing
import ModelFiles
import Tensors

@Suite struct GGUFSyntheticTests {
    func open(_ bytes: [UInt8]) throws -> GGUFFile {
        try GGUFFile(contentsOf: temporaryFile("test.gguf", contents: bytes))
    }

    func openError(_ bytes: [UInt8]) throws -> ModelFileError? {
        let url = try temporaryFile("test.gguf", contents: bytes)
        return modelFileError { _ = try GGUFFile(contentsOf: url) }
    }

    @Test func readsEveryValueType() throws {
        let builder = GGUFBuilder.sample
        let file = try open(builder.build().bytes)
        #expect(file.version == 3)
        #expect(file.metadataKeys == builder.metadata.map(\.0))
        for (key, value) in builder.metadata {
            #expect(file.metadata[key] == value, "\(key)")
        }
        #expect(modelFileError { _ = try file.int(forKey: "test.u64") }
            == .metadataTypeMismatch(key: "test.u64", expected: "an integer that fits in Int", found: "uint64"))
        #expect(try file.int(forKey: "test.i64") == -9_000_000_000_000_000_000)
        #expect(try file.float(forKey: "test.f64") == -2.25)
        #expect(try file.stringArray(forKey: "test.strings") == ["a", "", "ccc"])
        #expect(try file.floatArray(forKey: "test.floats") == [0.5, -1])
        #expect(try file.intArray(forKey: "test.empty") == [])
        #expect(try file.string(forKey: "test.unicode") == "héllo ☃")
    }

    @Test func valueAccessors() {
        #expect(GGUFValue.int8(-3).int == -3)
        #expect(GGUFValue.uint64(.max).int == nil)
        #expect(GGUFValue.float32(1).int == nil)
        #expect(GGUFValue.float64(0.1).float == Float(0.1))
        #expect(GGUFValue.float32(0.1).double == Double(Float(0.1)))
        #expect(GGUFValue.string("x").string == "x")
        #expect(GGUFValue.bool(false).bool == false)
        #expect(GGUFValue.uint8(1).bool == nil)
        let mixed = GGUFValue.array(.string, [.string("a"), .int32(1)])
        #expect(mixed.array?.count == 2)
        #expect(mixed.stringArray == nil)
        #expect(GGUFValue.array(.int16, [.int16(-1), .int16(2)]).intArray == [-1, 2])
        #expect(GGUFValue.array(.uint8, []).typeDescription == "array of uint8")
        #expect(GGUFValue.array(.string, [.string("a"), .uint8(2)]).description == "[\"a\", 2]")
    }

    @Test func readsTensors() throws {
        let output = GGUFBuilder.sample.build()
        let file = try open(output.bytes)
        #expect(file.dataOffset == output.dataOffset)
        #expect(file.tensors.map(\.name) == ["vector", "halves", "matrix"])

        #expect(try file.tensor(named: "vector") == Tensor(shape: [5], data: [1, -2, 3.5, 0, 1e-3]))
        let halves = try file.tensor(named: "halves")
        #expect(halves.shape == [3, 2])
        #expect(halves.data.map(\.bitPattern) == [1, -2, 0.5, 0, Float.infinity, 0x1p-24].map(\.bitPattern))
        let matrix = try file.tensor(named: "matrix")
        #expect(matrix.shape == [2, 32])
        let firstRow: [Float] = (0..<32).map { Float($0) * 0.5 }
        let secondRow: [Float] = (0..<32).map { Float($0 - 16) * 2 }
        #expect(Array(matrix.data[0..<32]) == firstRow)
        #expect(Array(matrix.data[32..<64]) == secondRow)

        let info = try #require(file.tensorInfo(named: "matrix"))
        #expect(info.offset == output.dataOffset + 64)
        #expect(info.byteCount == 68)
        var buffer = [Float](repeating: 0, count: 64)
        try buffer.withUnsafeMutableBufferPointer { try file.dequantize(info, into: $0) }
        #expect(buffer == matrix.data)
    }

    @Test func version2AndCustomAlignment() throws {
        var builder = GGUFBuilder.sample
        builder.version = 2
        builder.alignment = 64
        builder.metadata.append(("general.alignment", .uint32(64)))
        let output = builder.build()
        let file = try open(output.bytes)
        #expect(file.version == 2)
        #expect(file.alignment == 64)
        #expect(file.dataOffset % 64 == 0)
        #expect(file.dataOffset == output.dataOffset)
        #expect(try file.tensor(named: "vector").data == [1, -2, 3.5, 0, 1e-3])
    }

    @Test func badMagic() throws {
        var builder = GGUFBuilder.sample
        builder.magic = Array("GGML".utf8)
        #expect(try openError(builder.build().bytes) == .badMagic(found: Array("GGML".utf8)))
        #expect(try openError(Array("PK\u{3}\u{4} not a model at all".utf8)) == .badMagic(found: [0x50, 0x4B, 3, 4]))
    }

    @Test(arguments: [UInt32(0), 1, 4, 0x0300_0000])
    func unsupportedVersion(version: UInt32) throws {
        var builder = GGUFBuilder.sample
        builder.version = version
        #expect(try openError(builder.build().bytes) == .unsupportedVersion(version))
    }

    @Test func unknownTensorTypeID() throws {
        var builder = GGUFBuilder.sample
        builder.tensors[1].typeID = 99
        #expect(try openError(builder.build().bytes) == .unsupportedTensorType(tensor: "halves", type: "id 99"))
    }

    @Test func knownTypeWithoutDequantization() throws {
        var builder = GGUFBuilder.sample
        builder.tensors.append(.init(name: "iq", dimensions: [256], typeID: GGMLType.iq2_XXS.rawValue,
                                     data: [UInt8](repeating: 0, count: GGMLType.iq2_XXS.bytesPerBlock)))
        let file = try open(builder.build().bytes)
        #expect(file.tensorInfo(named: "iq")?.type == .iq2_XXS)
        #expect(modelFileError { _ = try file.tensor(named: "iq") } == .unsupportedTensorType(tensor: "iq", type: "IQ2_XXS (id 16)"))
        #expect(try file.tensor(named: "vector").count == 5)
    }

    /// Every proper prefix of a valid file fails with `truncated`, naming the section the cut falls in.
    @Test func everyPrefixIsTruncated() throws {
        let output = GGUFBuilder.sample.build()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lmdbg-prefixes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("prefix.gguf")
        for length in 0..<output.dataEnd {
            try Data(output.bytes[0..<length]).write(to: url)
            let error = modelFileError { _ = try GGUFFile(contentsOf: url) }
            let expected: FileSection =
                length < output.headerEnd ? .header
                : length < output.metadataEnd ? .metadata
                : length < output.tensorInfoEnd ? .tensorInfo
                : .tensorData
            guard case let .truncated(section, offset, fileSize)? = error else {
                Issue.record("prefix of \(length) bytes: \(String(describing: error))")
                continue
            }
            #expect(section == expected, "prefix of \(length) bytes")
            #expect(fileSize == length)
            #expect(offset > length)
        }
        #expect(try open(output.bytes).tensors.count == 3)
    }

    @Test func tensorOffsetOutsideFile() throws {
        for offset: UInt64 in [1 << 20, 1 << 62, .max - 3] {
            var builder = GGUFBuilder.sample
            builder.tensors[2].offsetOverride = offset
            let output = builder.build()
            guard case let .tensorOutsideFile(tensor, _, _, fileSize)? = try openError(output.bytes) else {
                Issue.record("offset \(offset) was accepted")
                continue
            }
            #expect(tensor == "matrix")
            #expect(fileSize == output.bytes.count)
        }
    }

    @Test func absurdLengthsAndCounts() throws {
        let huge: [UInt64] = [1 << 40, 1 << 62, .max]
        // Enough bytes after each claim for the reader to get as far as the claim itself.
        let padding = [UInt8](repeating: 0, count: 64)
        for count in huge {
            // A key whose length exceeds the file.
            var bytes = Array("GGUF".utf8)
            append(UInt32(3), to: &bytes)
            append(UInt64(0), to: &bytes)
            append(UInt64(1), to: &bytes)
            var longKey = bytes
            append(count, to: &longKey)
            longKey += Array("key".utf8) + padding
            #expect(try openError(longKey)?.isTruncated(in: .metadata) == true)

            // A string value and an array whose counts exceed the file.
            var longString = bytes
            appendString("key", to: &longString)
            append(GGUFValueType.string.rawValue, to: &longString)
            append(count, to: &longString)
            longString += padding
            #expect(try openError(longString)?.isTruncated(in: .metadata) == true)

            var longArray = bytes
            appendString("key", to: &longArray)
            append(GGUFValueType.array.rawValue, to: &longArray)
            append(GGUFValueType.uint8.rawValue, to: &longArray)
            append(count, to: &longArray)
            longArray += padding
            #expect(try openError(longArray)?.isTruncated(in: .metadata) == true)

            // Entry and tensor counts beyond what the file could hold.
            var manyEntries = Array("GGUF".utf8)
            append(UInt32(3), to: &manyEntries)
            append(UInt64(0), to: &manyEntries)
            append(count, to: &manyEntries)
            #expect(try openError(manyEntries)?.isTruncated(in: .metadata) == true)

            var manyTensors = Array("GGUF".utf8)
            append(UInt32(3), to: &manyTensors)
            append(count, to: &manyTensors)
            append(UInt64(0), to: &manyTensors)
            #expect(try openError(manyTensors)?.isTruncated(in: .tensorInfo) == true)
        }
    }

    @Test func malformedMetadata() throws {
        var unknownType = GGUFBuilder.sample.build().bytes
        // The first entry's type tag follows the 24-byte header and the key "general.architecture".
        let tagOffset = 24 + 8 + "general.architecture".utf8.count
        unknownType[tagOffset] = 13
        #expect(try openError(unknownType) == .invalidMetadata(key: "general.architecture", reason: "unknown value type 13"))

        var nested: GGUFValue = .array(.uint8, [])
        for _ in 0..<40 { nested = .array(.array, [nested]) }
        var deep = GGUFBuilder.sample
        deep.metadata.append(("deep", nested))
        guard case .invalidMetadata(key: "deep", _)? = try openError(deep.build().bytes) else {
            Issue.record("deeply nested arrays were accepted")
            return
        }

        var duplicate = GGUFBuilder.sample
        duplicate.metadata.append(("test.u8", .uint8(1)))
        #expect(try openError(duplicate.build().bytes) == .invalidMetadata(key: "test.u8", reason: "the key appears more than once"))

        for (value, error) in [
            (GGUFValue.uint32(0), ModelFileError.invalidMetadata(key: "general.alignment", reason: "0 is not a positive power of two")),
            (.uint32(48), .invalidMetadata(key: "general.alignment", reason: "48 is not a positive power of two")),
            (.string("32"), .metadataTypeMismatch(key: "general.alignment", expected: "an integer", found: "string")),
        ] {
            var builder = GGUFBuilder.sample
            builder.metadata.append(("general.alignment", value))
            #expect(try openError(builder.build().bytes) == error)
        }
    }

    @Test func malformedTensorInfos() throws {
        var duplicate = GGUFBuilder.sample
        duplicate.tensors[2].name = "vector"
        #expect(try openError(duplicate.build().bytes) == .invalidTensorInfo(tensor: "vector", reason: "the name appears more than once"))

        var tooManyDimensions = GGUFBuilder.sample
        tooManyDimensions.tensors[0].dimensions = [5, 1, 1, 1, 1]
        #expect(try openError(tooManyDimensions.build().bytes) == .invalidTensorInfo(tensor: "vector", reason: "5 dimensions (at most 4)"))

        var overflow = GGUFBuilder.sample
        overflow.tensors[0].dimensions = [1 << 32, 1 << 32, 1 << 32]
        guard case .invalidTensorInfo(tensor: "vector", _)? = try openError(overflow.build().bytes) else {
            Issue.record("overflowing dimensions were accepted")
            return
        }

        var tooLarge = GGUFBuilder.sample
        tooLarge.tensors[0].dimensions = [.max]
        #expect(try openError(tooLarge.build().bytes)
            == .invalidTensorInfo(tensor: "vector", reason: "dimension \(UInt64.max) is too large"))

        var partialBlock = GGUFBuilder.sample
        partialBlock.tensors[2].dimensions = [16, 4]
        #expect(try openError(partialBlock.build().bytes)
            == .invalidTensorInfo(tensor: "matrix", reason: "row length 16 is not a multiple of the Q8_0 block size 32"))
    }

    @Test func unreadableFiles() throws {
        #expect(try openError([]) == .truncated(section: .header, offset: 4, fileSize: 0))
        let missing = URL(fileURLWithPath: "/nonexistent/lmdbg/model.gguf")
        #expect(modelFileError { _ = try GGUFFile(contentsOf: missing) }
            == .cannotOpen(path: missing.path, reason: "No such file or directory"))
        let directory = FileManager.default.temporaryDirectory
        #expect(modelFileError { _ = try GGUFFile(contentsOf: directory) }
            == .cannotOpen(path: directory.path, reason: "not a regular file"))
    }

    /// Random byte changes never crash the reader: each file opens, or fails with a `ModelFileError`.
    @Test func randomCorruptionNeverCrashes() throws {
        let original = GGUFBuilder.sample.build().bytes
        var generator = SplitMix64(seed: 42)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lmdbg-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("fuzz.gguf")
        var opened = 0, rejected = 0
        for _ in 0..<2000 {
            var bytes = original
            for _ in 0..<Int(generator.next() % 4 + 1) {
                let position = Int(generator.next() % UInt64(bytes.count))
                bytes[position] = UInt8(truncatingIfNeeded: generator.next())
            }
            try Data(bytes).write(to: url)
            do {
                let file = try GGUFFile(contentsOf: url)
                for info in file.tensors where info.type.canDequantize { _ = try file.tensor(named: info.name) }
                opened += 1
            } catch is ModelFileError {
                rejected += 1
            }
        }
        #expect(opened + rejected == 2000)
        #expect(rejected > 100)
    }
}

extension ModelFileError {
    func isTruncated(in expected: FileSection) -> Bool {
        if case let .truncated(section, _, _) = self { return section == expected }
        return false
    }
}

/// A small deterministic random number generator for the fuzz test.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
