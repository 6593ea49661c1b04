import CKernels
import Foundation
import Testing
@testable import Tensors
import Transformer

/// Uniform values in [-scale, scale), reproducible.
func randomFloats(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var generator = Xoshiro256(seed: seed)
    return (0..<count).map { _ in Float(generator.nextUnit() * 2 - 1) * scale }
}

/// The largest |a − b| relative to the largest |b|.
func relativeError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    let scale = max(b.map(abs).max() ?? 0, .leastNormalMagnitude)
    return zip(a, b).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
}

struct BLASTests {
    /// gemm, including the m = 1 case that dispatches to gemv, every transpose combination and strides.
    @Test(arguments: [(1, 37, 19), (5, 8, 3), (17, 33, 65), (64, 40, 96), (130, 37, 300), (7, 3100, 20)])
    func gemmMatchesReference(m: Int, n: Int, k: Int) {
        for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
            let lda = (transposeA ? m : k) + 3, ldb = (transposeB ? k : n) + 2, ldc = n + 1
            let a = randomFloats((transposeA ? k : m) * lda, seed: 1)
            let b = randomFloats((transposeB ? n : k) * ldb, seed: 2)
            var fast = randomFloats(m * ldc, seed: 3), slow = fast
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    fast.withUnsafeMutableBufferPointer { c in
                        BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5,
                                  a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb,
                                  beta: 0.25, c: c.baseAddress!, ldc: ldc)
                    }
                    slow.withUnsafeMutableBufferPointer { c in
                        ReferenceBLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5,
                                           a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb,
                                           beta: 0.25, c: c.baseAddress!, ldc: ldc)
                    }
                }
            }
            #expect(relativeError(fast, slow) < 1e-5, "transposeA \(transposeA) transposeB \(transposeB)")
        }
    }

    /// Each instruction set of our own gemm kernel this CPU runs, not just the one `BLAS.gemm` picks;
    /// sizes cross the kernel's blocks (k 256, m 120, n 3072) and leave partial tiles.
    @Test(arguments: [(7, 45, 19), (130, 37, 300), (13, 3100, 9), (6, 32, 8)])
    func ownKernelMatchesReference(m: Int, n: Int, k: Int) {
        for isa in [Int32(CK_AVX2), Int32(CK_AVX512)] where isa <= ck_best_isa() {
            for transposeB in [false, true] {
                let lda = k + 1, ldb = (transposeB ? k : n) + 3, ldc = n + 2
                let a = randomFloats(m * lda, seed: 30), b = randomFloats((transposeB ? n : k) * ldb, seed: 31)
                for beta: Float in [0, 0.5] {
                    var fast = randomFloats(m * ldc, seed: 32), slow = fast
                    ck_sgemm(isa, transposeB ? 1 : 0, m, n, k, 1.5, a, lda, b, ldb, beta, &fast, ldc)
                    a.withUnsafeBufferPointer { a in
                        b.withUnsafeBufferPointer { b in
                            ReferenceBLAS.gemm(transposeB: transposeB, m: m, n: n, k: k, alpha: 1.5,
                                               a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb,
                                               beta: beta, c: &slow, ldc: ldc)
                        }
                    }
                    #expect(relativeError(fast, slow) < 1e-5, "isa \(isa) transposeB \(transposeB) beta \(beta)")
                }
            }
        }
    }

    @Test func gemvMatchesReference() {
        let rows = 23, cols = 41, lda = 45
        let a = randomFloats(rows * lda, seed: 4)
        for transpose in [false, true] {
            let x = randomFloats(transpose ? rows : cols, seed: 5)
            var fast = randomFloats(transpose ? cols : rows, seed: 6), slow = fast
            a.withUnsafeBufferPointer { a in
                x.withUnsafeBufferPointer { x in
                    fast.withUnsafeMutableBufferPointer { y in
                        BLAS.gemv(transpose: transpose, rows: rows, cols: cols, alpha: 2, a: a.baseAddress!, lda: lda,
                                  x: x.baseAddress!, beta: -1, y: y.baseAddress!)
                    }
                    slow.withUnsafeMutableBufferPointer { y in
                        ReferenceBLAS.gemv(transpose: transpose, rows: rows, cols: cols, alpha: 2, a: a.baseAddress!,
                                           lda: lda, x: x.baseAddress!, beta: -1, y: y.baseAddress!)
                    }
                }
            }
            #expect(relativeError(fast, slow) < 1e-5, "transpose \(transpose)")
        }
    }

    /// One row takes `Kernels.matrixVector` (split over threads when long enough), more take sgemm.
    @Test(arguments: [(1, 33), (1, 1001), (2, 33), (9, 258)])
    func linearMatchesReference(rows: Int, outFeatures: Int) {
        let inFeatures = 70
        let x = randomFloats(rows * inFeatures, seed: 7), w = randomFloats(outFeatures * inFeatures, seed: 8)
        var fast = [Float](repeating: 0, count: rows * outFeatures), slow = fast
        fast.withUnsafeMutableBufferPointer { y in
            BLAS.linear(x, rows: rows, inFeatures: inFeatures, weight: w, outFeatures: outFeatures, into: y.baseAddress!)
        }
        slow.withUnsafeMutableBufferPointer { y in
            ReferenceBLAS.linear(x, rows: rows, inFeatures: inFeatures, weight: w, outFeatures: outFeatures, into: y.baseAddress!)
        }
        #expect(relativeError(fast, slow) < 1e-5)
    }
}

struct KernelTests {
    // Widths that exercise both the SIMD body and the scalar tail.
    static let widths = [1, 7, 8, 13, 64, 576]

    @Test(arguments: widths)
    func rmsNormMatchesReference(dim: Int) {
        let rows = 3
        let x = randomFloats(rows * dim, seed: 10, scale: 3), weight = randomFloats(dim, seed: 11)
        var fastScale = [Float](repeating: 0, count: rows), slowScale = fastScale
        Kernels.rmsScale(x, rows: rows, dim: dim, epsilon: 1e-5, into: &fastScale)
        ReferenceKernels.rmsScale(x, rows: rows, dim: dim, epsilon: 1e-5, into: &slowScale)
        #expect(relativeError(fastScale, slowScale) < 1e-6)
        // Independent check: sqrt(mean(x²) + eps) of the first row, in double precision.
        let expected = (x[0..<dim].map { Double($0) * Double($0) }.reduce(0, +) / Double(dim) + 1e-5).squareRoot()
        #expect(abs(Double(fastScale[0]) - expected) / expected < 1e-6)

        for w in [weight, nil] as [[Float]?] {
            var fast = [Float](repeating: 0, count: rows * dim), slow = fast
            if let w {
                Kernels.divideRows(x, by: fastScale, rows: rows, dim: dim, weight: w, into: &fast)
                ReferenceKernels.divideRows(x, by: slowScale, rows: rows, dim: dim, weight: w, into: &slow)
            } else {
                Kernels.divideRows(x, by: fastScale, rows: rows, dim: dim, weight: nil, into: &fast)
                ReferenceKernels.divideRows(x, by: slowScale, rows: rows, dim: dim, weight: nil, into: &slow)
            }
            #expect(relativeError(fast, slow) < 1e-6)
        }

        var fast = x, slow = x
        Kernels.multiplyColumns(&fast, rows: rows, dim: dim, by: weight)
        ReferenceKernels.multiplyColumns(&slow, rows: rows, dim: dim, by: weight)
        #expect(fast == slow)

        fast = x
        slow = x
        Kernels.add(weight + weight + weight, to: &fast, count: min(rows * dim, 3 * dim))
        ReferenceKernels.add(weight + weight + weight, to: &slow, count: min(rows * dim, 3 * dim))
        #expect(fast == slow)
    }

    @Test(arguments: widths)
    func softmaxMatchesReference(count: Int) {
        for scale: Float in [0.1, 10, 60] {
            var fast = randomFloats(count, seed: 12, scale: scale), slow = fast
            Kernels.softmax(&fast, count: count)
            ReferenceKernels.softmax(&slow, count: count)
            #expect(relativeError(fast, slow) < 1e-6, "scale \(scale)")
            #expect(abs(fast.reduce(0, +) - 1) < 1e-5)
        }
    }

    @Test func softmaxGivesZeroToMinusInfinity() {
        var row: [Float] = [1, -.infinity, 2, -.infinity, 0.5, -.infinity, -.infinity, -.infinity, 3, -.infinity]
        var reference = row
        Kernels.softmax(&row, count: row.count)
        ReferenceKernels.softmax(&reference, count: reference.count)
        for i in [1, 3, 5, 6, 7, 9] { #expect(row[i] == 0) }
        #expect(relativeError(row, reference) < 1e-6)
    }

    @Test func expIsAccurate() {
        let x = (-870...880).map { Float($0) / 10 } + randomFloats(1000, seed: 13, scale: 20)
        for value in x {
            let expected = Foundation.exp(Double(value)), found = Double(exp1(value))
            #expect(abs(found - expected) / expected < 1e-6, "exp(\(value))")
        }
        #expect(exp1(-.infinity) == 0)
        #expect(exp1(-100) == 0)
        #expect(exp1(100).isFinite)
    }

    @Test(arguments: widths)
    func siluMultiplyMatchesReference(count: Int) {
        let gate = randomFloats(count, seed: 14, scale: 12), up = randomFloats(count, seed: 15)
        var fast = [Float](repeating: 0, count: count), slow = fast
        Kernels.siluMultiply(gate: gate, up: up, into: &fast, count: count)
        ReferenceKernels.siluMultiply(gate: gate, up: up, into: &slow, count: count)
        #expect(relativeError(fast, slow) < 1e-6)
    }

    @Test(arguments: widths)
    func geluTanhMultiplyMatchesReference(count: Int) {
        let gate = randomFloats(count, seed: 17, scale: 12), up = randomFloats(count, seed: 18)
        var fast = [Float](repeating: 0, count: count), slow = fast
        Kernels.geluTanhMultiply(gate: gate, up: up, into: &fast, count: count)
        ReferenceKernels.geluTanhMultiply(gate: gate, up: up, into: &slow, count: count)
        #expect(relativeError(fast, slow) < 1e-6)
    }

    @Test(arguments: widths)
    func geluTanhAndRowKernelsMatchReference(count: Int) {
        let x = randomFloats(3 * count, seed: 19, scale: 6), bias = randomFloats(count, seed: 20)
        var fast = [Float](repeating: 0, count: 3 * count), slow = fast
        Kernels.geluTanh(x, into: &fast, count: 3 * count)
        ReferenceKernels.geluTanh(x, into: &slow, count: 3 * count)
        #expect(relativeError(fast, slow) < 1e-6)
        Kernels.centreRows(x, rows: 3, dim: count, into: &fast)
        ReferenceKernels.centreRows(x, rows: 3, dim: count, into: &slow)
        Kernels.addRows(&fast, rows: 3, dim: count, bias: bias)
        ReferenceKernels.addRows(&slow, rows: 3, dim: count, bias: bias)
        #expect(relativeError(fast, slow) < 1e-5)
    }

    /// Values of torch.nn.functional.gelu(x, approximate="tanh") in float64.
    @Test func geluTanhKnownValues() {
        let x: [Float] = [-3, -1, -0.5, 0, 0.5, 1, 3]
        let expected: [Float] = [-0.0036373921, -0.1588080094, -0.1542859902, 0, 0.3457140098, 0.8411919906, 2.9963626079]
        var out = [Float](repeating: 0, count: x.count)
        Kernels.geluTanhMultiply(gate: x, up: [Float](repeating: 1, count: x.count), into: &out, count: x.count)
        for (found, value) in zip(out, expected) { #expect(abs(found - value) < 1e-6) }
    }

    @Test(arguments: [2, 10, 64, 80])
    func rotateHalfMatchesReference(headDim: Int) {
        let rows = 5, heads = 3
        let table = RotaryTable(positions: 7..<7 + rows, dim: headDim, base: 10000)
        var fast = randomFloats(rows * heads * headDim, seed: 16), slow = fast
        Kernels.rotateHalf(&fast, rows: rows, heads: heads, headDim: headDim, cos: table.cos, sin: table.sin)
        ReferenceKernels.rotateHalf(&slow, rows: rows, heads: heads, headDim: headDim, cos: table.cos, sin: table.sin)
        #expect(relativeError(fast, slow) < 1e-6)
    }

    @Test func rotaryTableAngles() {
        let table = RotaryTable(positions: 3..<5, dim: 4, base: 100)
        // invFreq = [1, 100^(-1/2) = 0.1]; rows are positions 3 and 4.
        let angles: [Double] = [3, 0.3, 4, 0.4]
        for (i, angle) in angles.enumerated() {
            #expect(abs(Double(table.cos[i]) - cos(angle)) < 1e-6)
            #expect(abs(Double(table.sin[i]) - sin(angle)) < 1e-6)
        }
    }
}

struct MatrixVectorTests {
    @Test(arguments: [(1, 1), (3, 13), (4, 8), (37, 70), (301, 576)])
    func matchesReference(rows: Int, cols: Int) {
        let lda = cols + 5
        let a = randomFloats(rows * lda, seed: 20)
        let x = randomFloats(cols, seed: 21)
        var fast = [Float](repeating: .nan, count: rows), slow = fast
        Kernels.matrixVector(a, rows: rows, cols: cols, lda: lda, alpha: 0.5, x: x, into: &fast)
        ReferenceKernels.matrixVector(a, rows: rows, cols: cols, lda: lda, alpha: 0.5, x: x, into: &slow)
        #expect(relativeError(fast, slow) < 1e-5)

        let p = randomFloats(rows, seed: 22)
        var fastT = [Float](repeating: .nan, count: cols), slowT = fastT
        Kernels.transposedMatrixVector(a, rows: rows, cols: cols, lda: lda, x: p, into: &fastT)
        ReferenceKernels.transposedMatrixVector(a, rows: rows, cols: cols, lda: lda, x: p, into: &slowT)
        #expect(relativeError(fastT, slowT) < 1e-5)
    }
}
