import Foundation
import Tensors

/// A NumPy-style selection such as `[-1, :10]` or `[2:5, ::2]`: an integer removes its axis, a range keeps it.
/// Axes it does not mention are taken whole; negative numbers count from the end.
public struct TensorSlice: Equatable, Sendable, CustomStringConvertible {
    public enum Component: Equatable, Sendable {
        case index(Int)
        case range(start: Int?, end: Int?, step: Int)
    }

    public let components: [Component]

    public init(_ components: [Component]) { self.components = components }

    /// Parses `[-1, :10]`; the brackets are optional.
    public init(parsing text: String) throws {
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        if body.hasPrefix("[") && body.hasSuffix("]") { body = body.dropFirst().dropLast() }
        guard !body.trimmingCharacters(in: .whitespaces).isEmpty else { self.init([]); return }
        self.init(try body.split(separator: ",", omittingEmptySubsequences: false).map { part in
            let bounds = part.split(separator: ":", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            func number(_ text: String) throws -> Int? {
                if text.isEmpty { return nil }
                guard let value = Int(text) else {
                    throw DebugError.invalidArgument(field: "slice", message: "'\(text)' is not an integer")
                }
                return value
            }
            switch bounds.count {
            case 1:
                guard let index = try number(bounds[0]) else {
                    throw DebugError.invalidArgument(field: "slice", message: "empty index in '\(text)'")
                }
                return .index(index)
            case 2, 3:
                let step = bounds.count == 3 ? try number(bounds[2]) ?? 1 : 1
                guard step > 0 else {
                    throw DebugError.invalidArgument(field: "slice", message: "the step must be positive in '\(text)'")
                }
                return .range(start: try number(bounds[0]), end: try number(bounds[1]), step: step)
            default:
                throw DebugError.invalidArgument(field: "slice", message: "too many ':' in '\(part)'")
            }
        })
    }

    public var description: String {
        "[" + components.map { component in
            switch component {
            case .index(let index): "\(index)"
            case .range(let start, let end, let step):
                "\(start.map(String.init) ?? ""):\(end.map(String.init) ?? "")" + (step == 1 ? "" : ":\(step)")
            }
        }.joined(separator: ", ") + "]"
    }

    /// The flat indices this slice selects in a row-major tensor of `shape`, and the shape of the result.
    public func select(in shape: [Int]) throws -> (shape: [Int], indices: [Int]) {
        guard components.count <= shape.count else {
            throw DebugError.invalidArgument(field: "slice",
                message: "\(components.count) indices for a tensor of rank \(shape.count) \(shape)")
        }
        var resultShape: [Int] = []
        var perAxis: [[Int]] = []
        for (axis, size) in shape.enumerated() {
            let component = axis < components.count ? components[axis] : .range(start: nil, end: nil, step: 1)
            switch component {
            case .index(let index):
                let resolved = index < 0 ? index + size : index
                guard (0..<size).contains(resolved) else {
                    throw DebugError.invalidArgument(field: "slice",
                        message: "index \(index) is out of range for axis \(axis) of size \(size)")
                }
                perAxis.append([resolved])
            case .range(let start, let end, let step):
                func clamp(_ bound: Int?, _ fallback: Int) -> Int {
                    guard let bound else { return fallback }
                    return min(max(bound < 0 ? bound + size : bound, 0), size)
                }
                let indices = Array(stride(from: clamp(start, 0), to: clamp(end, size), by: step))
                perAxis.append(indices)
                resultShape.append(indices.count)
            }
        }
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        var flat = [0]
        for (axis, indices) in perAxis.enumerated() {
            flat = flat.flatMap { base in indices.map { base + $0 * strides[axis] } }
        }
        return (resultShape, flat)
    }

    /// The selected part of `tensor`, a copy.
    public func apply(to tensor: Tensor) throws -> Tensor {
        let (shape, indices) = try select(in: tensor.shape)
        return tensor.data.withUnsafeBufferPointer { data in
            Tensor(shape: shape, data: indices.map { data[$0] })
        }
    }
}
