import Foundation
import Tensors

/// Tensor kernels for the expression language: numpy semantics, raw-pointer loops, every allocation
/// admitted by a `Budget` first. A rank-0 tensor stands for a scalar operand.
enum TensorMath {
    // MARK: Layout

    /// Row-major strides of `shape`.
    static func strides(of shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in shape.indices.dropLast().reversed() { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        return strides
    }

    /// The numpy broadcast of two shapes.
    static func broadcast(_ a: [Int], _ b: [Int]) throws(OperationError) -> [Int] {
        let rank = max(a.count, b.count)
        let paddedA = [Int](repeating: 1, count: rank - a.count) + a
        let paddedB = [Int](repeating: 1, count: rank - b.count) + b
        var shape: [Int] = []
        for (x, y) in zip(paddedA, paddedB) {
            guard x == y || x == 1 || y == 1 else {
                throw OperationError("shapes \(a) and \(b) cannot be broadcast together")
            }
            shape.append(x == 1 ? y : x)
        }
        return shape
    }

    /// Strides that read a tensor of `shape` as if it had the broadcast shape `target` (0 on stretched axes).
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = strides(of: shape)
        let padding = target.count - shape.count
        return target.indices.map { axis in
            axis < padding || shape[axis - padding] == 1 ? 0 : own[axis - padding]
        }
    }

    /// Visits the rows of `shape` (all axes but the last), passing each operand's offset for the row.
    /// `strides` holds one stride list per operand, each as long as `shape`.
    static func forEachRow(_ shape: [Int], strides: [[Int]], _ body: (_ row: Int, _ offsets: [Int]) -> Void) {
        let outer = shape.dropLast().reduce(1, *)
        guard outer > 0, shape.last != 0 else { return }
        var index = [Int](repeating: 0, count: max(shape.count - 1, 0))
        var offsets = [Int](repeating: 0, count: strides.count)
        for row in 0..<outer {
            body(row, offsets)
            var axis = shape.count - 2
            while axis >= 0 {
                index[axis] += 1
                for operand in strides.indices { offsets[operand] += strides[operand][axis] }
                if index[axis] < shape[axis] { break }
                for operand in strides.indices { offsets[operand] -= strides[operand][axis] * shape[axis] }
                index[axis] = 0
                axis -= 1
            }
        }
    }

    // MARK: Elementwise

    static func map(_ x: Tensor, budget: Budget, _ transform: (Float) -> Float) throws(OperationError) -> Tensor {
        let count = try budget.admit(x.shape)
        let data = [Float](unsafeUninitializedCapacity: count) { output, initialized in
            x.data.withUnsafeBufferPointer { input in
                for i in 0..<count { output[i] = transform(input[i]) }
            }
            initialized = count
        }
        return Tensor(shape: x.shape, data: data)
    }

    /// `combine` applied elementwise over the broadcast of `a` and `b`.
    static func combine(_ a: Tensor, _ b: Tensor, budget: Budget,
                    _ combine: (Float, Float) -> Float) throws(OperationError) -> Tensor {
        let shape = try broadcast(a.shape, b.shape)
        let count = try budget.admit(shape)
        let stridesA = broadcastStrides(a.shape, to: shape), stridesB = broadcastStrides(b.shape, to: shape)
        let inner = shape.last ?? 1
        let innerA = stridesA.last ?? 0, innerB = stridesB.last ?? 0
        let data = [Float](unsafeUninitializedCapacity: count) { output, initialized in
            a.data.withUnsafeBufferPointer { pa in
                b.data.withUnsafeBufferPointer { pb in
                    if shape.isEmpty {
                        output[0] = combine(pa[0], pb[0])
                        return
                    }
                    forEachRow(shape, strides: [stridesA, stridesB]) { row, offsets in
                        var ia = offsets[0], ib = offsets[1]
                        let base = row * inner
                        for j in 0..<inner {
                            output[base + j] = combine(pa[ia], pb[ib])
                            ia += innerA
                            ib += innerB
                        }
                    }
                }
            }
            initialized = count
        }
        return Tensor(shape: shape, data: data)
    }

    // MARK: Views

    /// Copies the strided view `shape`/`strides` starting at `offset` of `x` into a new tensor.
    static func gather(_ x: Tensor, offset: Int, shape: [Int], strides: [Int],
                       budget: Budget) throws(OperationError) -> Tensor {
        let count = try budget.admit(shape)
        let inner = shape.last ?? 1, innerStride = strides.last ?? 0
        let data = [Float](unsafeUninitializedCapacity: count) { output, initialized in
            x.data.withUnsafeBufferPointer { input in
                if shape.isEmpty {
                    output[0] = input[offset]
                    return
                }
                forEachRow(shape, strides: [strides]) { row, offsets in
                    var source = offset + offsets[0]
                    let base = row * inner
                    for j in 0..<inner {
                        output[base + j] = input[source]
                        source += innerStride
                    }
                }
            }
            initialized = count
        }
        return Tensor(shape: shape, data: data)
    }

    /// The axes in reverse order (numpy's `.T`).
    static func transpose(_ x: Tensor, budget: Budget) throws(OperationError) -> Tensor {
        try gather(x, offset: 0, shape: x.shape.reversed(), strides: strides(of: x.shape).reversed(), budget: budget)
    }

    // MARK: Reductions

    enum Reduction: String {
        case sum, mean, max, min, norm, std, argmax, argmin, any, all

        /// Whether an empty input has no answer.
        var needsElements: Bool { [.max, .min, .argmax, .argmin].contains(self) }
    }

    /// Reduces `count` elements spaced `stride` apart, starting at `start`. Accumulates in Double;
    /// max and min propagate NaN, argmax and argmin return the first NaN's index, as numpy does.
    static func reduceLine(_ data: UnsafeBufferPointer<Float>, start: Int, count: Int, stride: Int,
                           _ reduction: Reduction) -> Double {
        switch reduction {
        case .sum, .mean, .norm, .std:
            var sum = 0.0, sumOfSquares = 0.0
            for i in 0..<count {
                let value = Double(data[start + i * stride])
                sum += value
                sumOfSquares += value * value
            }
            switch reduction {
            case .sum: return sum
            case .mean: return sum / Double(count)
            case .norm: return sumOfSquares.squareRoot()
            default:
                let mean = sum / Double(count)
                var deviations = 0.0
                for i in 0..<count {
                    let deviation = Double(data[start + i * stride]) - mean
                    deviations += deviation * deviation
                }
                return (deviations / Double(count)).squareRoot()
            }
        case .max, .min, .argmax, .argmin:
            let wantsMax = reduction == .max || reduction == .argmax
            var best = data[start], bestIndex = 0
            for i in 0..<count {
                let value = data[start + i * stride]
                if value.isNaN { best = value; bestIndex = i; break }
                if wantsMax ? value > best : value < best { best = value; bestIndex = i }
            }
            return reduction == .max || reduction == .min ? Double(best) : Double(bestIndex)
        case .any, .all:
            let wantsAny = reduction == .any
            for i in 0..<count where (data[start + i * stride] != 0) == wantsAny { return wantsAny ? 1 : 0 }
            return wantsAny ? 0 : 1
        }
    }

    /// The reduction over all elements (argmax and argmin give the flat index).
    static func reduceAll(_ x: Tensor, _ reduction: Reduction, budget: Budget) throws(OperationError) -> Double {
        guard x.count > 0 || !reduction.needsElements else {
            throw OperationError("\(reduction.rawValue) of an empty tensor")
        }
        try budget.charge(x.count * (reduction == .std ? 2 : 1))
        return x.data.withUnsafeBufferPointer { reduceLine($0, start: 0, count: x.count, stride: 1, reduction) }
    }

    /// The reduction along `axis` (already normalised), which disappears from the shape.
    static func reduce(_ x: Tensor, axis: Int, _ reduction: Reduction, budget: Budget) throws(OperationError) -> Tensor {
        let length = x.shape[axis]
        guard length > 0 || !reduction.needsElements else {
            throw OperationError("\(reduction.rawValue) along an empty axis")
        }
        var shape = x.shape
        shape.remove(at: axis)
        let count = try budget.admit(shape, cost: max(x.count, shape.reduce(1, *)))
        let inner = x.shape[(axis + 1)...].reduce(1, *)
        let data = [Float](unsafeUninitializedCapacity: count) { output, initialized in
            x.data.withUnsafeBufferPointer { input in
                for o in 0..<count {
                    let start = (o / inner) * length * inner + o % inner
                    output[o] = Float(reduceLine(input, start: start, count: length, stride: inner, reduction))
                }
            }
            initialized = count
        }
        return Tensor(shape: shape, data: data)
    }

    /// Softmax along `axis` (already normalised), stable under large inputs; -inf entries become 0.
    static func softmax(_ x: Tensor, axis: Int, budget: Budget) throws(OperationError) -> Tensor {
        let count = try budget.admit(x.shape, cost: 3 * x.count)
        let length = x.shape[axis], inner = x.shape[(axis + 1)...].reduce(1, *)
        let lines = length == 0 ? 0 : count / length
        let data = [Float](unsafeUninitializedCapacity: count) { output, initialized in
            x.data.withUnsafeBufferPointer { input in
                for line in 0..<lines {
                    let start = (line / inner) * length * inner + line % inner
                    let maximum = reduceLine(input, start: start, count: length, stride: inner, .max)
                    var total = 0.0
                    for i in 0..<length {
                        let e = Foundation.exp(Double(input[start + i * inner]) - maximum)
                        output[start + i * inner] = Float(e)
                        total += e
                    }
                    for i in 0..<length { output[start + i * inner] = Float(Double(output[start + i * inner]) / total) }
                }
            }
            initialized = count
        }
        return Tensor(shape: x.shape, data: data)
    }

    // MARK: Products

    /// numpy's `matmul`: vectors are promoted to matrices and back, leading axes broadcast as batches.
    static func matmul(_ a: Tensor, _ b: Tensor, budget: Budget) throws(OperationError) -> Tensor {
        guard !a.shape.isEmpty, !b.shape.isEmpty else {
            throw OperationError("'@' needs tensors, not numbers", hint: "use '*' to scale")
        }
        let shapeA = a.shape.count == 1 ? [1] + a.shape : a.shape
        let shapeB = b.shape.count == 1 ? b.shape + [1] : b.shape
        let m = shapeA[shapeA.count - 2], k = shapeA[shapeA.count - 1]
        let n = shapeB[shapeB.count - 1]
        guard shapeB[shapeB.count - 2] == k else {
            throw OperationError("'@' needs matching inner dimensions, got \(a.shape) @ \(b.shape)")
        }
        let batchShape = try broadcast(Array(shapeA.dropLast(2)), Array(shapeB.dropLast(2)))
        var shape = batchShape
        if a.shape.count > 1 { shape.append(m) }
        if b.shape.count > 1 { shape.append(n) }
        let count = try budget.admit(shape, cost: 0)
        let (work, overflow) = count.multipliedReportingOverflow(by: k)
        guard !overflow else { throw OperationError("'@' of \(a.shape) and \(b.shape) is too much work") }
        try budget.charge(work)
        let batchA = broadcastStrides(Array(shapeA.dropLast(2)), to: batchShape).map { $0 * m * k }
        let batchB = broadcastStrides(Array(shapeB.dropLast(2)), to: batchShape).map { $0 * k * n }
        let data = [Float](unsafeUninitializedCapacity: count) { output, initialized in
            output.initialize(repeating: 0)
            a.data.withUnsafeBufferPointer { pa in
                b.data.withUnsafeBufferPointer { pb in
                    forEachRow(batchShape + [1], strides: [batchA + [0], batchB + [0]]) { batch, offsets in
                        let out = batch * m * n
                        for i in 0..<m {
                            for p in 0..<k {
                                let scale = pa[offsets[0] + i * k + p]
                                let row = offsets[1] + p * n
                                for j in 0..<n { output[out + i * n + j] += scale * pb[row + j] }
                            }
                        }
                    }
                }
            }
            initialized = count
        }
        return Tensor(shape: shape, data: data)
    }

    // MARK: Ranking

    /// The `k` largest elements of a vector, largest first; NaN ranks above everything, ties keep index order.
    static func topk(_ x: Tensor, k: Int, budget: Budget) throws(OperationError) -> [(index: Int, value: Float)] {
        try budget.charge(x.count * (k > 64 ? 20 : 1) + k)
        func ranksAbove(_ a: Float, _ b: Float) -> Bool { a.isNaN ? !b.isNaN : a > b }
        return x.data.withUnsafeBufferPointer { data in
            if k > 64 {
                let order = (0..<data.count).sorted { i, j in
                    ranksAbove(data[i], data[j]) || (!ranksAbove(data[j], data[i]) && i < j)
                }
                return order.prefix(k).map { ($0, data[$0]) }
            }
            var best: [(index: Int, value: Float)] = []
            best.reserveCapacity(k + 1)
            for i in 0..<data.count {
                let value = data[i]
                if best.count == k, let last = best.last, !ranksAbove(value, last.value) { continue }
                var slot = best.count
                while slot > 0, ranksAbove(value, best[slot - 1].value) { slot -= 1 }
                best.insert((i, value), at: slot)
                if best.count > k { best.removeLast() }
            }
            return best
        }
    }
}
