import ModelFiles

/// Writes small GGUF files for tests, remembering where each section ends.
struct GGUFBuilder {
    struct TensorEntry {
        var name: String
        var dimensions: [UInt64]
        var typeID: UInt32
        var data: [UInt8]
        /// Replaces the offset the builder would compute.
        var offsetOverride: UInt64?
    }

    var magic = Array("GGUF".utf8)
    var version: UInt32 = 3
    var metadata: [(String, GGUFValue)] = []
    var tensors: [TensorEntry] = []
    var alignment = 32

    /// The file's bytes, where the header, the metadata and the tensor infos end, where the data starts,
    /// and where the last tensor's bytes end (before the final padding).
    struct Output {
        var bytes: [UInt8]
        var headerEnd: Int
        var metadataEnd: Int
        var tensorInfoEnd: Int
        var dataOffset: Int
        var dataEnd: Int
    }

    func build() -> Output {
        var out = magic
        append(version, to: &out)
        append(UInt64(tensors.count), to: &out)
        append(UInt64(metadata.count), to: &out)
        let headerEnd = out.count
        for (key, value) in metadata {
            appendString(key, to: &out)
            append(value.type.rawValue, to: &out)
            appendPayload(value, to: &out)
        }
        let metadataEnd = out.count
        var offset: UInt64 = 0
        var offsets: [UInt64] = []
        for tensor in tensors {
            appendString(tensor.name, to: &out)
            append(UInt32(tensor.dimensions.count), to: &out)
            for dimension in tensor.dimensions { append(dimension, to: &out) }
            append(tensor.typeID, to: &out)
            append(tensor.offsetOverride ?? offset, to: &out)
            offsets.append(offset)
            offset += UInt64(padded(tensor.data.count))
        }
        let tensorInfoEnd = out.count
        let dataOffset = padded(out.count)
        out += [UInt8](repeating: 0, count: dataOffset - out.count)
        var dataEnd = out.count
        for tensor in tensors {
            out += [UInt8](repeating: 0, count: padded(out.count) - out.count)
            out += tensor.data
            dataEnd = out.count
        }
        out += [UInt8](repeating: 0, count: padded(out.count) - out.count)
        return Output(bytes: out, headerEnd: headerEnd, metadataEnd: metadataEnd, tensorInfoEnd: tensorInfoEnd,
                      dataOffset: dataOffset, dataEnd: dataEnd)
    }

    private func padded(_ count: Int) -> Int { (count + alignment - 1) / alignment * alignment }
}

func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { out += $0 }
}

func appendString(_ string: String, to out: inout [UInt8]) {
    append(UInt64(string.utf8.count), to: &out)
    out += Array(string.utf8)
}

/// A value without its type tag (as inside arrays).
func appendPayload(_ value: GGUFValue, to out: inout [UInt8]) {
    switch value {
    case let .uint8(v): append(v, to: &out)
    case let .int8(v): append(v, to: &out)
    case let .uint16(v): append(v, to: &out)
    case let .int16(v): append(v, to: &out)
    case let .uint32(v): append(v, to: &out)
    case let .int32(v): append(v, to: &out)
    case let .uint64(v): append(v, to: &out)
    case let .int64(v): append(v, to: &out)
    case let .float32(v): append(v.bitPattern, to: &out)
    case let .float64(v): append(v.bitPattern, to: &out)
    case let .bool(v): append(UInt8(v ? 1 : 0), to: &out)
    case let .string(v): appendString(v, to: &out)
    case let .array(elementType, elements):
        append(elementType.rawValue, to: &out)
        append(UInt64(elements.count), to: &out)
        for element in elements { appendPayload(element, to: &out) }
    }
}

/// Float32 values as little-endian bytes.
func float32Bytes(_ values: [Float]) -> [UInt8] {
    var out: [UInt8] = []
    for value in values { append(value.bitPattern, to: &out) }
    return out
}

extension GGUFBuilder {
    /// A small file using every metadata value type and three tensors (F32, F16 and Q8_0).
    static var sample: GGUFBuilder {
        var builder = GGUFBuilder()
        builder.metadata = [
            ("general.architecture", .string("test")),
            ("test.u8", .uint8(200)), ("test.i8", .int8(-100)),
            ("test.u16", .uint16(60000)), ("test.i16", .int16(-30000)),
            ("test.u32", .uint32(4_000_000_000)), ("test.i32", .int32(-2_000_000_000)),
            ("test.u64", .uint64(18_000_000_000_000_000_000)), ("test.i64", .int64(-9_000_000_000_000_000_000)),
            ("test.f32", .float32(1.5)), ("test.f64", .float64(-2.25)),
            ("test.bool", .bool(true)), ("test.unicode", .string("héllo ☃")),
            ("test.empty", .array(.int32, [])),
            ("test.strings", .array(.string, [.string("a"), .string(""), .string("ccc")])),
            ("test.nested", .array(.array, [.array(.uint8, [.uint8(1), .uint8(2)]), .array(.uint8, [.uint8(3)])])),
            ("test.floats", .array(.float32, [.float32(0.5), .float32(-1)])),
        ]
        builder.tensors = [
            TensorEntry(name: "vector", dimensions: [5], typeID: GGMLType.f32.rawValue,
                        data: float32Bytes([1, -2, 3.5, 0, 1e-3])),
            TensorEntry(name: "halves", dimensions: [2, 3], typeID: GGMLType.f16.rawValue,
                        data: [0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38, 0x00, 0x00, 0x00, 0x7C, 0x01, 0x00]),
            TensorEntry(name: "matrix", dimensions: [32, 2], typeID: GGMLType.q8_0.rawValue,
                        data: q8Block(scale: [0x00, 0x38], first: 0) + q8Block(scale: [0x00, 0x40], first: -16)),
        ]
        return builder
    }

    /// A Q8_0 block with values first, first+1, … and the given f16 scale bytes.
    static func q8Block(scale: [UInt8], first: Int8) -> [UInt8] {
        scale + (0..<32).map { UInt8(bitPattern: first &+ Int8($0)) }
    }
}
