import Foundation

/// An element type of a `WireTensor`.
public enum TensorDType: String, Codable, Sendable, CaseIterable {
    case float32
}

/// A tensor on the wire (schema `WireTensor`): float32 elements, row-major, little-endian, base64.
///
/// `data` decodes to exactly 4 × (product of `shape`) bytes; a scalar has shape `[]` and 4 bytes.
public struct WireTensor: Codable, Sendable, Equatable {
    public var dtype: TensorDType
    public var shape: [Int]
    /// Base64 (RFC 4648, padded) of the little-endian float32 elements.
    public var data: String

    public init(dtype: TensorDType = .float32, shape: [Int], data: String) {
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    /// Encodes `values` (row-major) with the given shape.
    /// - Precondition: `values.count` is the product of `shape`.
    public init(shape: [Int], values: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == values.count,
                     "WireTensor: \(values.count) values do not fill shape \(shape)")
        let bytes = values.map { $0.bitPattern.littleEndian }.withUnsafeBytes { Data($0) }
        self.init(shape: shape, data: bytes.base64EncodedString())
    }

    /// The number of elements the shape holds.
    public var count: Int { shape.reduce(1, *) }

    /// Decodes the elements, row-major.
    /// - Throws: `WireTensorError` when `data` is not base64 or its length does not match the shape.
    public func values() throws -> [Float] {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw WireTensorError.negativeDimension(shape) }
        guard let bytes = Data(base64Encoded: data) else { throw WireTensorError.notBase64 }
        guard bytes.count == count * 4 else {
            throw WireTensorError.sizeMismatch(shape: shape, expectedBytes: count * 4, actualBytes: bytes.count)
        }
        return bytes.withUnsafeBytes { raw in
            (0..<count).map { index in
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
            }
        }
    }
}

/// Why a `WireTensor`'s data cannot be decoded.
public enum WireTensorError: Error, Equatable, CustomStringConvertible {
    case notBase64
    case negativeDimension([Int])
    case sizeMismatch(shape: [Int], expectedBytes: Int, actualBytes: Int)

    public var description: String {
        switch self {
        case .notBase64: "tensor data is not base64"
        case .negativeDimension(let shape): "tensor shape \(shape) has a negative dimension"
        case .sizeMismatch(let shape, let expected, let actual):
            "tensor data holds \(actual) bytes; shape \(shape) needs \(expected)"
        }
    }
}
