import Foundation
import Tensors

/// Where one tensor lives in a GGUF file and how it is stored.
public struct GGUFTensorInfo: Equatable, Sendable {
    public let name: String
    /// Sizes in ggml order: `ne0` (the contiguous dimension) first.
    public let dimensions: [Int]
    public let type: GGMLType
    /// Absolute byte offset of the data in the file.
    public let offset: Int
    public let byteCount: Int

    /// Row-major shape: the ggml dimensions reversed, so a weight `[ne0 = in, ne1 = out]` is `[out, in]`.
    public var shape: [Int] { dimensions.reversed() }
    public var elementCount: Int { dimensions.reduce(1, *) }
}

/// A GGUF model file (versions 2 and 3), memory-mapped. Tensor data is read on demand.
public final class GGUFFile: @unchecked Sendable {
    public let url: URL
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// The metadata keys in file order.
    public let metadataKeys: [String]
    public let tensors: [GGUFTensorInfo]
    /// Alignment of tensor data (`general.alignment`, 32 when absent).
    public let alignment: Int
    /// Absolute offset where the tensor data section starts.
    public let dataOffset: Int

    private let file: MappedFile
    private let tensorIndex: [String: Int]

    /// Deepest nesting of arrays accepted in metadata.
    static let maximumArrayNesting = 16
    /// ggml tensors have at most four dimensions.
    static let maximumDimensions = 4

    public init(contentsOf url: URL) throws {
        self.url = url
        file = try MappedFile(url: url)
        var cursor = ByteCursor(bytes: file.bytes, section: .header)

        let magic = try cursor.readBytes(4)
        guard Array(magic) == Array("GGUF".utf8) else { throw ModelFileError.badMagic(found: Array(magic)) }
        version = try cursor.read(UInt32.self)
        guard version == 2 || version == 3 else { throw ModelFileError.unsupportedVersion(version) }
        let tensorCount = try cursor.read(UInt64.self)
        let metadataCount = try cursor.read(UInt64.self)

        cursor.section = .metadata
        // A key-value pair takes at least 8 (key length) + 4 (type) + 1 bytes.
        try cursor.require(count: metadataCount, itemsOf: 13)
        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        keys.reserveCapacity(Int(metadataCount))
        for _ in 0..<metadataCount {
            let key = try cursor.readString()
            let value = try Self.readValue(&cursor, key: key, depth: 0)
            guard metadata.updateValue(value, forKey: key) == nil else {
                throw ModelFileError.invalidMetadata(key: key, reason: "the key appears more than once")
            }
            keys.append(key)
        }
        self.metadata = metadata
        metadataKeys = keys

        alignment = try Self.alignment(in: metadata)

        cursor.section = .tensorInfo
        // A tensor info takes at least 8 (name length) + 4 (dimension count) + 4 (type) + 8 (offset) bytes.
        try cursor.require(count: tensorCount, itemsOf: 24)
        var rawInfos: [(name: String, dimensions: [Int], type: GGMLType, relativeOffset: UInt64, byteCount: Int)] = []
        rawInfos.reserveCapacity(Int(tensorCount))
        var index: [String: Int] = [:]
        for position in 0..<Int(tensorCount) {
            let name = try cursor.readString()
            let dimensionCount = try cursor.read(UInt32.self)
            guard dimensionCount <= Self.maximumDimensions else {
                throw ModelFileError.invalidTensorInfo(tensor: name, reason: "\(dimensionCount) dimensions (at most \(Self.maximumDimensions))")
            }
            var dimensions: [Int] = []
            for _ in 0..<dimensionCount {
                let size = try cursor.read(UInt64.self)
                guard let dimension = Int(exactly: size) else {
                    throw ModelFileError.invalidTensorInfo(tensor: name, reason: "dimension \(size) is too large")
                }
                dimensions.append(dimension)
            }
            let typeID = try cursor.read(UInt32.self)
            let relativeOffset = try cursor.read(UInt64.self)
            guard let type = GGMLType(rawValue: typeID) else {
                throw ModelFileError.unsupportedTensorType(tensor: name, type: "id \(typeID)")
            }
            let byteCount = try Self.byteCount(of: name, dimensions: dimensions, type: type)
            guard index.updateValue(position, forKey: name) == nil else {
                throw ModelFileError.invalidTensorInfo(tensor: name, reason: "the name appears more than once")
            }
            rawInfos.append((name, dimensions, type, relativeOffset, byteCount))
        }
        tensorIndex = index

        dataOffset = roundedUp(cursor.offset, to: alignment)
        tensors = try Self.place(rawInfos, dataOffset: dataOffset, alignment: alignment, fileSize: file.bytes.count)
    }

    // MARK: Metadata

    /// Reads one value of a type given by a 32-bit tag.
    private static func readValue(_ cursor: inout ByteCursor, key: String, depth: Int) throws -> GGUFValue {
        let tag = try cursor.read(UInt32.self)
        guard let type = GGUFValueType(rawValue: tag) else {
            throw ModelFileError.invalidMetadata(key: key, reason: "unknown value type \(tag)")
        }
        return try readValue(&cursor, of: type, key: key, depth: depth)
    }

    private static func readValue(_ cursor: inout ByteCursor, of type: GGUFValueType, key: String, depth: Int) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try cursor.read(UInt8.self))
        case .int8: return .int8(try cursor.read(Int8.self))
        case .uint16: return .uint16(try cursor.read(UInt16.self))
        case .int16: return .int16(try cursor.read(Int16.self))
        case .uint32: return .uint32(try cursor.read(UInt32.self))
        case .int32: return .int32(try cursor.read(Int32.self))
        case .uint64: return .uint64(try cursor.read(UInt64.self))
        case .int64: return .int64(try cursor.read(Int64.self))
        case .float32: return .float32(Float(bitPattern: try cursor.read(UInt32.self)))
        case .float64: return .float64(Double(bitPattern: try cursor.read(UInt64.self)))
        case .bool: return .bool(try cursor.read(UInt8.self) != 0)
        case .string: return .string(try cursor.readString())
        case .array:
            guard depth < maximumArrayNesting else {
                throw ModelFileError.invalidMetadata(key: key, reason: "arrays nested deeper than \(maximumArrayNesting) levels")
            }
            let tag = try cursor.read(UInt32.self)
            guard let elementType = GGUFValueType(rawValue: tag) else {
                throw ModelFileError.invalidMetadata(key: key, reason: "unknown array element type \(tag)")
            }
            let count = try cursor.read(UInt64.self)
            try cursor.require(count: count, itemsOf: elementType.minimumByteCount)
            var elements: [GGUFValue] = []
            elements.reserveCapacity(Int(count))
            for _ in 0..<count {
                elements.append(try readValue(&cursor, of: elementType, key: key, depth: depth + 1))
            }
            return .array(elementType, elements)
        }
    }

    private static func alignment(in metadata: [String: GGUFValue]) throws -> Int {
        let key = "general.alignment"
        guard let value = metadata[key] else { return 32 }
        guard let alignment = value.int else {
            throw ModelFileError.metadataTypeMismatch(key: key, expected: "an integer", found: value.typeDescription)
        }
        guard alignment > 0, alignment & (alignment - 1) == 0 else {
            throw ModelFileError.invalidMetadata(key: key, reason: "\(alignment) is not a positive power of two")
        }
        return alignment
    }

    /// The metadata value for `key`.
    public func value(forKey key: String) throws -> GGUFValue {
        guard let value = metadata[key] else { throw ModelFileError.missingMetadata(key: key) }
        return value
    }

    private func typed<T>(_ key: String, _ expected: String, _ convert: (GGUFValue) -> T?) throws -> T {
        let value = try value(forKey: key)
        guard let result = convert(value) else {
            throw ModelFileError.metadataTypeMismatch(key: key, expected: expected, found: value.typeDescription)
        }
        return result
    }

    /// An integer entry of any width.
    public func int(forKey key: String) throws -> Int { try typed(key, "an integer that fits in Int", \.int) }
    /// A float32 or float64 entry.
    public func float(forKey key: String) throws -> Float { try typed(key, "a float", \.float) }
    public func bool(forKey key: String) throws -> Bool { try typed(key, "a bool", \.bool) }
    public func string(forKey key: String) throws -> String { try typed(key, "a string", \.string) }
    public func stringArray(forKey key: String) throws -> [String] { try typed(key, "an array of strings", \.stringArray) }
    public func intArray(forKey key: String) throws -> [Int] { try typed(key, "an array of integers", \.intArray) }
    public func floatArray(forKey key: String) throws -> [Float] { try typed(key, "an array of floats", \.floatArray) }

    // MARK: Tensors

    private static func byteCount(of name: String, dimensions: [Int], type: GGMLType) throws -> Int {
        var elements = 1
        for dimension in dimensions {
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            guard !overflow else {
                throw ModelFileError.invalidTensorInfo(tensor: name, reason: "dimensions \(dimensions) overflow")
            }
            elements = product
        }
        if let first = dimensions.first, first % type.blockSize != 0 {
            throw ModelFileError.invalidTensorInfo(
                tensor: name, reason: "row length \(first) is not a multiple of the \(type.name) block size \(type.blockSize)")
        }
        guard let bytes = type.byteCount(elements: elements) else {
            throw ModelFileError.invalidTensorInfo(tensor: name, reason: "dimensions \(dimensions) overflow")
        }
        return bytes
    }

    /// Turns relative offsets into absolute ones and checks every tensor lies inside the file.
    /// A tensor that starts beyond where tightly packed data would end has a corrupt offset;
    /// one within that span that still runs past the end of the file is in a truncated file.
    private static func place(
        _ infos: [(name: String, dimensions: [Int], type: GGMLType, relativeOffset: UInt64, byteCount: Int)],
        dataOffset: Int, alignment: Int, fileSize: Int
    ) throws -> [GGUFTensorInfo] {
        let packedSize = infos.reduce(0) { saturatingSum($0, roundedUp($1.byteCount, to: alignment)) }
        let available = max(0, fileSize - dataOffset)
        return try infos.map { info in
            let relativeOffset = Int(exactly: info.relativeOffset) ?? .max
            let relativeEnd = saturatingSum(relativeOffset, info.byteCount)
            guard relativeEnd <= available else {
                let start = saturatingSum(dataOffset, relativeOffset)
                let end = saturatingSum(start, info.byteCount)
                if relativeEnd > packedSize {
                    throw ModelFileError.tensorOutsideFile(tensor: info.name, start: start, end: end, fileSize: fileSize)
                }
                throw ModelFileError.truncated(section: .tensorData, offset: end, fileSize: fileSize)
            }
            return GGUFTensorInfo(
                name: info.name, dimensions: info.dimensions, type: info.type,
                offset: dataOffset + relativeOffset, byteCount: info.byteCount)
        }
    }

    public func tensorInfo(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The stored bytes of a tensor. Valid while this file object is alive.
    public func rawBytes(of info: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: file.bytes[info.offset..<info.offset + info.byteCount])
    }

    /// Converts a tensor to float32 into a caller-owned buffer of exactly `info.elementCount` floats.
    public func dequantize(_ info: GGUFTensorInfo, into destination: UnsafeMutableBufferPointer<Float>) throws {
        guard info.type.canDequantize else {
            throw ModelFileError.unsupportedTensorType(tensor: info.name, type: info.type.description)
        }
        precondition(destination.count == info.elementCount, "tensor '\(info.name)' has \(info.elementCount) elements, not \(destination.count)")
        try info.type.dequantize(rawBytes(of: info), into: destination)
    }

    /// Converts rows `rows` of a tensor (a row is `dimensions[0]` elements) into a caller-owned buffer
    /// of exactly `rows.count · dimensions[0]` floats; e.g. a few token embeddings without the whole table.
    public func dequantizeRows(_ info: GGUFTensorInfo, _ rows: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>) throws {
        guard info.type.canDequantize else {
            throw ModelFileError.unsupportedTensorType(tensor: info.name, type: info.type.description)
        }
        let rowLength = info.dimensions.first ?? 1
        let rowCount = rowLength == 0 ? 0 : info.elementCount / rowLength
        precondition(rows.lowerBound >= 0 && rows.upperBound <= rowCount, "rows \(rows) outside the \(rowCount) rows of '\(info.name)'")
        precondition(destination.count == rows.count * rowLength, "\(rows.count) rows of \(rowLength) do not fill \(destination.count) floats")
        let rowBytes = rowLength / info.type.blockSize * info.type.bytesPerBlock
        let source = rawBytes(of: info)[rows.lowerBound * rowBytes..<rows.upperBound * rowBytes]
        try info.type.dequantize(UnsafeRawBufferPointer(rebasing: source), into: destination)
    }

    /// The named tensor as float32, shaped row-major (ggml dimensions reversed).
    public func tensor(named name: String) throws -> Tensor {
        guard let info = tensorInfo(named: name) else { throw ModelFileError.missingTensor(name) }
        guard info.type.canDequantize else {
            throw ModelFileError.unsupportedTensorType(tensor: info.name, type: info.type.description)
        }
        let count = info.elementCount
        let data = try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            try dequantize(info, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<count]))
            initialized = count
        }
        return Tensor(shape: info.shape, data: data)
    }
}

/// `value` rounded up to a multiple of `alignment` (a power of two), or `Int.max` when that overflows.
func roundedUp(_ value: Int, to alignment: Int) -> Int {
    let remainder = value & (alignment - 1)
    return remainder == 0 ? value : saturatingSum(value - remainder, alignment)
}
