import Foundation
import Tensors

/// What a tensor looks like at a glance: its L2 norm, mean, extremes and largest entries by magnitude.
/// NaN and infinite entries are counted apart and left out of the statistics.
public struct TensorSummary: Equatable, Sendable {
    /// One large entry: its index along each axis, and its value.
    public struct Entry: Equatable, Sendable {
        public let index: [Int]
        public let value: Float
    }

    public let shape: [Int]
    public let norm: Float
    public let mean: Float
    public let min: Float
    public let max: Float
    public let topDims: [Entry]
    public let nanCount: Int
    public let infCount: Int

    public init(_ tensor: Tensor, top: Int = 5) {
        shape = tensor.shape
        var sumSquares = 0.0, sum = 0.0, low = Float.infinity, high = -Float.infinity
        var nans = 0, infs = 0, finite = 0
        var largest: [(index: Int, value: Float)] = []
        tensor.data.withUnsafeBufferPointer { data in
            for (index, value) in data.enumerated() {
                if value.isNaN { nans += 1; continue }
                if value.isInfinite { infs += 1; continue }
                finite += 1
                sumSquares += Double(value) * Double(value)
                sum += Double(value)
                low = Swift.min(low, value)
                high = Swift.max(high, value)
                if largest.count < top || abs(value) > abs(largest[largest.count - 1].value) {
                    let at = largest.firstIndex { abs($0.value) < abs(value) } ?? largest.count
                    largest.insert((index, value), at: at)
                    if largest.count > top { largest.removeLast() }
                }
            }
        }
        norm = Float(sumSquares.squareRoot())
        mean = finite == 0 ? .nan : Float(sum / Double(finite))
        min = finite == 0 ? .nan : low
        max = finite == 0 ? .nan : high
        topDims = largest.map { Entry(index: Self.coordinates(of: $0.index, in: tensor.shape), value: $0.value) }
        nanCount = nans
        infCount = infs
    }

    /// The index along each axis of the element at `flat` in a row-major tensor of `shape`.
    static func coordinates(of flat: Int, in shape: [Int]) -> [Int] {
        var coordinates: [Int] = []
        var rest = flat
        for size in shape.reversed() {
            coordinates.insert(rest % size, at: 0)
            rest /= size
        }
        return coordinates
    }

    /// One line, e.g. `[9, 576] norm 41.2 mean 0.0103 min -12.3 max 9.81`.
    public var line: String {
        var text = "\(shape) norm \(Self.format(norm)) mean \(Self.format(mean)) min \(Self.format(min)) max \(Self.format(max))"
        if nanCount > 0 { text += " nan \(nanCount)" }
        if infCount > 0 { text += " inf \(infCount)" }
        return text
    }

    static func format(_ value: Float) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return String(format: "%.4g", Double(value))
    }
}
