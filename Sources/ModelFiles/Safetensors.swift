import Foundation
import Tensors

/// The element types a safetensors file can declare.
public enum SafetensorsDType: String, CaseIterable, Sendable {
    case bool = "BOOL", u8 = "U8", i8 = "I8", u16 = "U16", i16 = "I16", f16 = "F16", bf16 = "BF16"
    case u32 = "U32", i32 = "I32", f32 = "F32", u64 = "U64", i64 = "I64", f64 = "F64"
    case f8E4M3 = "F8_E4M3", f8E5M2 = "F8_E5M2"

    public var byteSize: Int {
        switch self {
        case .bool, .u8, .i8, .f8E4M3, .f8E5M2: return 1
        case .u16, .i16, .f16, .bf16: return 2
        case .u32, .i32, .f32: return 4
        case .u64, .i64, .f64: return 8
        }
    }
}

/// Where one tensor lives in a safetensors file.
public struct SafetensorsTensorInfo: Equatable, Sendable {
    public let name: String
    public let dtype: SafetensorsDType
    /// Row-major shape.
    public let shape: [Int]
    /// Absolute byte offset of the data in the file.
    public let offset: Int
    public let byteCount: Int

    public var elementCount: Int { shape.reduce(1, *) }
}

/// A safetensors file, memory-mapped: an 8-byte header length, a JSON header, then the tensor bytes.
public final class SafetensorsFile: @unchecked Sendable {
    public let url: URL
    /// Tensors in the order of their data.
    public let tensors: [SafetensorsTensorInfo]
    /// The free-form `__metadata__` strings.
    public let metadata: [String: String]

    private let file: MappedFile
    private let tensorIndex: [String: Int]

    public init(contentsOf url: URL) throws {
        self.url = url
        file = try MappedFile(url: url)
        var cursor = ByteCursor(bytes: file.bytes, section: .header)
        let headerLength = try cursor.read(UInt64.self)
        try cursor.require(count: headerLength, itemsOf: 1)
        let headerBytes = try cursor.readBytes(Int(headerLength))
        let dataStart = cursor.offset

        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(headerBytes))
        } catch {
            throw ModelFileError.invalidHeader(reason: "not valid JSON")
        }
        guard let entries = json as? [String: Any] else {
            throw ModelFileError.invalidHeader(reason: "the header is not a JSON object")
        }

        var metadata: [String: String] = [:]
        var relative: [(name: String, dtype: SafetensorsDType, shape: [Int], begin: Int, end: Int)] = []
        for (name, entry) in entries {
            if name == "__metadata__" {
                guard let strings = entry as? [String: String] else {
                    throw ModelFileError.invalidHeader(reason: "__metadata__ is not an object of strings")
                }
                metadata = strings
                continue
            }
            relative.append(try Self.parseEntry(name: name, entry))
        }
        self.metadata = metadata

        relative.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        // Data that ends past the file is a truncated file when the tensors are packed without gaps,
        // and a corrupt offset otherwise.
        let fileSize = file.bytes.count
        let available = fileSize - dataStart
        let dataEnd = relative.map(\.end).max() ?? 0
        let packedSize = relative.reduce(0) { saturatingSum($0, $1.end - $1.begin) }
        tensors = try relative.map { entry in
            guard entry.end <= available else {
                if dataEnd == packedSize {
                    throw ModelFileError.truncated(section: .tensorData, offset: saturatingSum(dataStart, dataEnd), fileSize: fileSize)
                }
                throw ModelFileError.tensorOutsideFile(
                    tensor: entry.name, start: saturatingSum(dataStart, entry.begin), end: saturatingSum(dataStart, entry.end),
                    fileSize: fileSize)
            }
            return SafetensorsTensorInfo(
                name: entry.name, dtype: entry.dtype, shape: entry.shape,
                offset: dataStart + entry.begin, byteCount: entry.end - entry.begin)
        }
        tensorIndex = Dictionary(uniqueKeysWithValues: tensors.enumerated().map { ($1.name, $0) })
    }

    /// Checks one tensor entry: a known dtype, a shape, and offsets that hold exactly its bytes.
    private static func parseEntry(name: String, _ entry: Any) throws
        -> (name: String, dtype: SafetensorsDType, shape: [Int], begin: Int, end: Int)
    {
        guard let fields = entry as? [String: Any] else {
            throw ModelFileError.invalidTensorInfo(tensor: name, reason: "the entry is not a JSON object")
        }
        guard let dtypeName = fields["dtype"] as? String else {
            throw ModelFileError.invalidTensorInfo(tensor: name, reason: "no dtype string")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw ModelFileError.unsupportedTensorType(tensor: name, type: dtypeName)
        }
        guard let shape = naturalNumbers(fields["shape"]) else {
            throw ModelFileError.invalidTensorInfo(tensor: name, reason: "the shape is not an array of non-negative integers")
        }
        guard let offsets = naturalNumbers(fields["data_offsets"]), offsets.count == 2, offsets[0] <= offsets[1] else {
            throw ModelFileError.invalidTensorInfo(tensor: name, reason: "data_offsets is not [begin, end] with begin <= end")
        }
        var byteCount = dtype.byteSize
        for dimension in shape {
            let (product, overflow) = byteCount.multipliedReportingOverflow(by: dimension)
            guard !overflow else {
                throw ModelFileError.invalidTensorInfo(tensor: name, reason: "shape \(shape) overflows")
            }
            byteCount = product
        }
        guard offsets[1] - offsets[0] == byteCount else {
            throw ModelFileError.invalidTensorInfo(
                tensor: name, reason: "data_offsets span \(offsets[1] - offsets[0]) bytes, but \(dtypeName) \(shape) needs \(byteCount)")
        }
        return (name, dtype, shape, offsets[0], offsets[1])
    }

    /// A JSON array of integers that are all >= 0, or nil.
    private static func naturalNumbers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var numbers: [Int] = []
        for element in array {
            guard let number = element as? Int, number >= 0 else { return nil }
            numbers.append(number)
        }
        return numbers
    }

    public func tensorInfo(named name: String) -> SafetensorsTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The stored bytes of a tensor. Valid while this file object is alive.
    public func rawBytes(of info: SafetensorsTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: file.bytes[info.offset..<info.offset + info.byteCount])
    }

    private func info(_ name: String, accepting dtypes: Set<SafetensorsDType>) throws -> SafetensorsTensorInfo {
        guard let info = tensorInfo(named: name) else { throw ModelFileError.missingTensor(name) }
        guard dtypes.contains(info.dtype) else {
            throw ModelFileError.unsupportedTensorType(tensor: name, type: info.dtype.rawValue)
        }
        return info
    }

    /// The named tensor as float32. F32, F16, BF16, I32 and I64 tensors convert (large integers round).
    public func tensor(named name: String) throws -> Tensor {
        let info = try info(name, accepting: [.f32, .f16, .bf16, .i32, .i64])
        let source = rawBytes(of: info)
        let count = info.elementCount
        let data = try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            let destination = UnsafeMutableBufferPointer(rebasing: buffer[0..<count])
            switch info.dtype {
            case .f32: try GGMLType.f32.dequantize(source, into: destination)
            case .f16: try GGMLType.f16.dequantize(source, into: destination)
            case .bf16: try GGMLType.bf16.dequantize(source, into: destination)
            case .i32:
                for i in 0..<count { destination[i] = Float(Int32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
            default:
                for i in 0..<count { destination[i] = Float(Int64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
            }
            initialized = count
        }
        return Tensor(shape: info.shape, data: data)
    }

    /// The values of an I32 tensor, row-major.
    public func int32Values(named name: String) throws -> [Int32] {
        let info = try info(name, accepting: [.i32])
        let source = rawBytes(of: info)
        return (0..<info.elementCount).map { Int32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
    }

    /// The values of an I64 or I32 tensor, row-major.
    public func int64Values(named name: String) throws -> [Int64] {
        let info = try info(name, accepting: [.i32, .i64])
        if info.dtype == .i32 { return try int32Values(named: name).map(Int64.init) }
        let source = rawBytes(of: info)
        return (0..<info.elementCount).map { Int64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
    }
}

/// `a + b` for non-negative values, or `Int.max` when that overflows.
func saturatingSum(_ a: Int, _ b: Int) -> Int {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? .max : sum
}

/// Builds a safetensors file from F32, I32 and I64 tensors and optional `__metadata__` strings.
/// Adding a name again replaces the earlier tensor.
public struct SafetensorsWriter {
    public var metadata: [String: String] = [:]
    private var entries: [String: (dtype: SafetensorsDType, shape: [Int], bytes: [UInt8])] = [:]

    public init() {}

    public mutating func add(_ name: String, _ tensor: Tensor) {
        add(name, .f32, tensor.shape, tensor.data.map(\.bitPattern))
    }

    public mutating func add(_ name: String, int32 values: [Int32], shape: [Int]) {
        add(name, .i32, shape, values)
    }

    public mutating func add(_ name: String, int64 values: [Int64], shape: [Int]) {
        add(name, .i64, shape, values)
    }

    private mutating func add<T: FixedWidthInteger>(_ name: String, _ dtype: SafetensorsDType, _ shape: [Int], _ values: [T]) {
        precondition(name != "__metadata__", "__metadata__ is reserved")
        precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == values.count,
                     "shape \(shape) does not hold \(values.count) values")
        let bytes = values.map(\.littleEndian).withUnsafeBytes { Array($0) }
        entries[name] = (dtype, shape, bytes)
    }

    /// The whole file: header length, JSON header padded with spaces to a multiple of 8, data.
    public func serialized() throws -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        // Wider elements first, as Python's writer does, so each tensor is aligned to its element size.
        let names = entries.keys.sorted { (-entries[$0]!.dtype.byteSize, $0) < (-entries[$1]!.dtype.byteSize, $1) }
        for name in names {
            let entry = entries[name]!
            header[name] = ["dtype": entry.dtype.rawValue, "shape": entry.shape, "data_offsets": [offset, offset + entry.bytes.count]]
            offset += entry.bytes.count
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))

        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for name in names { out.append(contentsOf: entries[name]!.bytes) }
        return out
    }

    public func write(to url: URL) throws {
        try serialized().write(to: url)
    }
}
