import Foundation

/// Raw-pointer kernels for the forward pass. Each has a naive twin in `ReferenceKernels` that the tests
/// compare it against. Shapes are in the comments; all matrices are row-major and contiguous.
public enum Kernels {
    /// scale[r] = sqrt(mean(x[r]²) + epsilon)        x: [rows, dim], scale: [rows]
    public static func rmsScale(
        _ x: UnsafePointer<Float>, rows: Int, dim: Int, epsilon: Float, into scale: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<rows {
            let row = x + r * dim
            var sum8 = SIMD8<Float>()
            var c = 0
            while c + 8 <= dim {
                let v = load8(row + c)
                sum8 += v * v
                c += 8
            }
            var sum = sum8.sum()
            while c < dim {
                sum += row[c] * row[c]
                c += 1
            }
            scale[r] = (sum / Float(dim) + epsilon).squareRoot()
        }
    }

    /// out[r, c] = x[r, c] / scale[r] · weight[c], or without the weight when it is nil.
    /// x, out: [rows, dim]; scale: [rows]; weight: [dim]. `out` may be `x`.
    public static func divideRows(
        _ x: UnsafePointer<Float>, by scale: UnsafePointer<Float>, rows: Int, dim: Int,
        weight: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<rows {
            let inverse = 1 / scale[r]
            let source = x + r * dim, target = out + r * dim
            if let weight {
                var c = 0
                while c + 8 <= dim {
                    store8(load8(source + c) * inverse * load8(weight + c), target + c)
                    c += 8
                }
                while c < dim {
                    target[c] = source[c] * inverse * weight[c]
                    c += 1
                }
            } else {
                var c = 0
                while c + 8 <= dim {
                    store8(load8(source + c) * inverse, target + c)
                    c += 8
                }
                while c < dim {
                    target[c] = source[c] * inverse
                    c += 1
                }
            }
        }
    }

    /// x[r, c] *= weight[c]        x: [rows, dim]; weight: [dim]
    public static func multiplyColumns(
        _ x: UnsafeMutablePointer<Float>, rows: Int, dim: Int, by weight: UnsafePointer<Float>
    ) {
        for r in 0..<rows {
            let row = x + r * dim
            var c = 0
            while c + 8 <= dim {
                store8(load8(row + c) * load8(weight + c), row + c)
                c += 8
            }
            while c < dim {
                row[c] *= weight[c]
                c += 1
            }
        }
    }

    /// y = alpha · a · x        a: [rows, cols] with rows `lda` floats apart; x: [cols]; y: [rows]
    /// Decoding's matrix-vector products. OpenBLAS's generic x86 sgemv reaches a fraction of memory
    /// bandwidth; this streams four rows at a time against one pass over x. Single-threaded.
    public static func matrixVector(
        _ a: UnsafePointer<Float>, rows: Int, cols: Int, lda: Int, alpha: Float = 1,
        x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>
    ) {
        var row = 0
        while row + 4 <= rows {
            let r0 = a + row * lda, r1 = r0 + lda, r2 = r1 + lda, r3 = r2 + lda
            var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
            var c = 0
            while c + 8 <= cols {
                let v = load8(x + c)
                s0 += load8(r0 + c) * v
                s1 += load8(r1 + c) * v
                s2 += load8(r2 + c) * v
                s3 += load8(r3 + c) * v
                c += 8
            }
            var t0 = s0.sum(), t1 = s1.sum(), t2 = s2.sum(), t3 = s3.sum()
            while c < cols {
                t0 += r0[c] * x[c]
                t1 += r1[c] * x[c]
                t2 += r2[c] * x[c]
                t3 += r3[c] * x[c]
                c += 1
            }
            y[row] = alpha * t0
            y[row + 1] = alpha * t1
            y[row + 2] = alpha * t2
            y[row + 3] = alpha * t3
            row += 4
        }
        while row < rows {
            y[row] = alpha * dot(a + row * lda, x, count: cols)
            row += 1
        }
    }

    /// y = aᵀ · x = Σ_r x[r] · a[r, :]        a: [rows, cols] with rows `lda` floats apart; x: [rows]; y: [cols]
    public static func transposedMatrixVector(
        _ a: UnsafePointer<Float>, rows: Int, cols: Int, lda: Int,
        x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>
    ) {
        y.update(repeating: 0, count: cols)
        for r in 0..<rows {
            let row = a + r * lda, weight = x[r]
            var c = 0
            while c + 8 <= cols {
                store8(load8(y + c) + load8(row + c) * weight, y + c)
                c += 8
            }
            while c < cols {
                y[c] += row[c] * weight
                c += 1
            }
        }
    }

    /// Σ a[i]·b[i]
    @inline(__always) static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var sum8 = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            sum8 += load8(a + i) * load8(b + i)
            i += 8
        }
        var sum = sum8.sum()
        while i < count {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }

    /// y += x        x, y: [count]
    public static func add(_ x: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            store8(load8(y + i) + load8(x + i), y + i)
            i += 8
        }
        while i < count {
            y[i] += x[i]
            i += 1
        }
    }

    /// Softmax in place over `row[0..<count]`. Entries of -inf become 0.
    public static func softmax(_ row: UnsafeMutablePointer<Float>, count: Int) {
        guard count > 0 else { return }
        var max8 = SIMD8<Float>(repeating: -.infinity)
        var i = 0
        while i + 8 <= count {
            max8 = pointwiseMax(max8, load8(row + i))
            i += 8
        }
        var maximum = max8.max()
        while i < count {
            maximum = Swift.max(maximum, row[i])
            i += 1
        }
        var sum8 = SIMD8<Float>()
        i = 0
        while i + 8 <= count {
            let e = exp8(load8(row + i) - maximum)
            store8(e, row + i)
            sum8 += e
            i += 8
        }
        var sum = sum8.sum()
        while i < count {
            let e = exp1(row[i] - maximum)
            row[i] = e
            sum += e
            i += 1
        }
        let inverse = 1 / sum
        i = 0
        while i + 8 <= count {
            store8(load8(row + i) * inverse, row + i)
            i += 8
        }
        while i < count {
            row[i] *= inverse
            i += 1
        }
    }

    /// out = silu(gate) · up = gate / (1 + e^(-gate)) · up        gate, up, out: [count]
    public static func siluMultiply(
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int
    ) {
        var i = 0
        while i + 8 <= count {
            let g = load8(gate + i)
            store8(g / (1 + exp8(-g)) * load8(up + i), out + i)
            i += 8
        }
        while i < count {
            out[i] = gate[i] / (1 + exp1(-gate[i])) * up[i]
            i += 1
        }
    }

    /// out = gelu_tanh(gate) · up        gate, up, out: [count]
    /// gelu_tanh(x) = x/2 · (1 + tanh(√(2/π)(x + 0.044715x³))) = x / (1 + e^(−2√(2/π)(x + 0.044715x³))).
    public static func geluTanhMultiply(
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int
    ) {
        let k: Float = -2 * 0.7978845608028654
        var i = 0
        while i + 8 <= count {
            let g = load8(gate + i)
            store8(g / (1 + exp8(k * (g + 0.044715 * g * g * g))) * load8(up + i), out + i)
            i += 8
        }
        while i < count {
            let g = gate[i]
            out[i] = g / (1 + exp1(k * (g + 0.044715 * g * g * g))) * up[i]
            i += 1
        }
    }

    /// out = gelu_tanh(x), as `geluTanhMultiply` without the up projection        x, out: [count]
    public static func geluTanh(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        let k: Float = -2 * 0.7978845608028654
        var i = 0
        while i + 8 <= count {
            let g = load8(x + i)
            store8(g / (1 + exp8(k * (g + 0.044715 * g * g * g))), out + i)
            i += 8
        }
        while i < count {
            out[i] = x[i] / (1 + exp1(k * (x[i] + 0.044715 * x[i] * x[i] * x[i])))
            i += 1
        }
    }

    /// out[r] = x[r] − mean(x[r])        x, out: [rows, dim]; `out` may be `x`
    public static func centreRows(_ x: UnsafePointer<Float>, rows: Int, dim: Int, into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            var sum: Float = 0
            for c in 0..<dim { sum += x[r * dim + c] }
            let mean = sum / Float(dim)
            for c in 0..<dim { out[r * dim + c] = x[r * dim + c] - mean }
        }
    }

    /// x[r, c] += bias[c]        x: [rows, dim]; bias: [dim]
    public static func addRows(_ x: UnsafeMutablePointer<Float>, rows: Int, dim: Int, bias: UnsafePointer<Float>) {
        for r in 0..<rows { add(bias, to: x + r * dim, count: dim) }
    }

    /// Rotary embedding, rotate-half form (HF's `rotate_half`), in place.
    /// x: [rows, heads, headDim]; cos, sin: [rows, headDim/2], the angles of each row's position.
    /// For i < headDim/2: (x[i], x[i+half]) ← (x[i]·cos − x[i+half]·sin, x[i+half]·cos + x[i]·sin).
    public static func rotateHalf(
        _ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int,
        cos: UnsafePointer<Float>, sin: UnsafePointer<Float>
    ) {
        let half = headDim / 2
        for r in 0..<rows {
            let c = cos + r * half, s = sin + r * half
            for h in 0..<heads {
                let first = x + (r * heads + h) * headDim, second = first + half
                var i = 0
                while i + 8 <= half {
                    let x1 = load8(first + i), x2 = load8(second + i), ci = load8(c + i), si = load8(s + i)
                    store8(x1 * ci - x2 * si, first + i)
                    store8(x2 * ci + x1 * si, second + i)
                    i += 8
                }
                while i < half {
                    let x1 = first[i], x2 = second[i]
                    first[i] = x1 * c[i] - x2 * s[i]
                    second[i] = x2 * c[i] + x1 * s[i]
                    i += 1
                }
            }
        }
    }
}

/// The angles of rotary embeddings for a range of positions, as HF computes them in float32:
/// invFreq[i] = base^(−2i/dim), angle = position · invFreq[i].
public struct RotaryTable {
    /// [positions, dim/2]
    public var cos: [Float]
    /// [positions, dim/2]
    public var sin: [Float]

    public init(positions: Range<Int>, dim: Int, base: Float) {
        let half = dim / 2
        let inverseFrequencies = (0..<half).map { Float(1 / Foundation.pow(Double(base), Double(2 * $0) / Double(dim))) }
        cos = []
        sin = []
        cos.reserveCapacity(positions.count * half)
        sin.reserveCapacity(positions.count * half)
        for position in positions {
            for frequency in inverseFrequencies {
                let angle = Double(Float(position) * frequency)
                cos.append(Float(Foundation.cos(angle)))
                sin.append(Float(Foundation.sin(angle)))
            }
        }
    }
}

/// The naive twins of `Kernels`: plain loops, libm's exp, no SIMD.
public enum ReferenceKernels {
    public static func rmsScale(
        _ x: UnsafePointer<Float>, rows: Int, dim: Int, epsilon: Float, into scale: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<rows {
            var sum: Float = 0
            for c in 0..<dim { sum += x[r * dim + c] * x[r * dim + c] }
            scale[r] = (sum / Float(dim) + epsilon).squareRoot()
        }
    }

    public static func divideRows(
        _ x: UnsafePointer<Float>, by scale: UnsafePointer<Float>, rows: Int, dim: Int,
        weight: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<rows {
            for c in 0..<dim { out[r * dim + c] = x[r * dim + c] / scale[r] * (weight?[c] ?? 1) }
        }
    }

    public static func multiplyColumns(
        _ x: UnsafeMutablePointer<Float>, rows: Int, dim: Int, by weight: UnsafePointer<Float>
    ) {
        for r in 0..<rows {
            for c in 0..<dim { x[r * dim + c] *= weight[c] }
        }
    }

    public static func add(_ x: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += x[i] }
    }

    public static func matrixVector(
        _ a: UnsafePointer<Float>, rows: Int, cols: Int, lda: Int, alpha: Float = 1,
        x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>
    ) {
        for row in 0..<rows {
            var sum: Float = 0
            for c in 0..<cols { sum += a[row * lda + c] * x[c] }
            y[row] = alpha * sum
        }
    }

    public static func transposedMatrixVector(
        _ a: UnsafePointer<Float>, rows: Int, cols: Int, lda: Int,
        x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>
    ) {
        for c in 0..<cols {
            var sum: Float = 0
            for r in 0..<rows { sum += a[r * lda + c] * x[r] }
            y[c] = sum
        }
    }

    public static func softmax(_ row: UnsafeMutablePointer<Float>, count: Int) {
        guard count > 0 else { return }
        var maximum = -Float.infinity
        for i in 0..<count { maximum = max(maximum, row[i]) }
        var sum: Float = 0
        for i in 0..<count {
            row[i] = Foundation.exp(row[i] - maximum)
            sum += row[i]
        }
        for i in 0..<count { row[i] /= sum }
    }

    public static func siluMultiply(
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int
    ) {
        for i in 0..<count { out[i] = gate[i] / (1 + Foundation.exp(-gate[i])) * up[i] }
    }

    public static func geluTanhMultiply(
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int
    ) {
        for i in 0..<count {
            let x = Double(gate[i])
            out[i] = Float(0.5 * x * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))) * up[i]
        }
    }

    public static func geluTanh(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            let v = Double(x[i])
            out[i] = Float(0.5 * v * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v))))
        }
    }

    public static func centreRows(_ x: UnsafePointer<Float>, rows: Int, dim: Int, into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let mean = (0..<dim).reduce(0.0) { $0 + Double(x[r * dim + $1]) } / Double(dim)
            for c in 0..<dim { out[r * dim + c] = Float(Double(x[r * dim + c]) - mean) }
        }
    }

    public static func addRows(_ x: UnsafeMutablePointer<Float>, rows: Int, dim: Int, bias: UnsafePointer<Float>) {
        for r in 0..<rows {
            for c in 0..<dim { x[r * dim + c] += bias[c] }
        }
    }

    public static func rotateHalf(
        _ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int,
        cos: UnsafePointer<Float>, sin: UnsafePointer<Float>
    ) {
        let half = headDim / 2
        for r in 0..<rows {
            for h in 0..<heads {
                let base = (r * heads + h) * headDim
                let original = (0..<headDim).map { x[base + $0] }
                for i in 0..<headDim {
                    let angle = r * half + i % half
                    let rotated = i < half ? -original[i + half] : original[i - half]
                    x[base + i] = original[i] * cos[angle] + rotated * sin[angle]
                }
            }
        }
    }
}

// MARK: - SIMD helpers

@inline(__always) func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) func load8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// e^x to about 2 ulp (Cephes' expf: x = n·ln2 + r, a degree-6 polynomial in r, then 2^n by exponent bits).
/// Below −87.3 it returns 0, so −inf gives exactly 0; above 88.37 it saturates at e^88.37.
/// Rounding and the float→int step use the 1.5·2²³ trick: SSE2 has neither floor nor a fast SIMD conversion.
@inline(__always) func exp8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let magic: Float = 12_582_912 // 1.5·2²³: adding it rounds to an integer, held in the low mantissa bits
    let high = SIMD8<Float>(repeating: 88.37626), low = SIMD8<Float>(repeating: -87.33654)
    let clamped = x.replacing(with: high, where: x .> high).replacing(with: low, where: x .< low)
    let shifted = clamped * 1.442695041 + magic
    let n = shifted - magic
    var r = clamped - n * 0.693359375
    r = r + n * 2.12194440e-4
    var p = SIMD8<Float>(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    p = p * (r * r) + r + 1
    // The low bits of `shifted` hold n (in −126…127); n + 127 shifted into the exponent field is 2^n.
    let twoToN = unsafeBitCast((unsafeBitCast(shifted, to: SIMD8<Int32>.self) &+ 127) &<< 23, to: SIMD8<Float>.self)
    return (p * twoToN).replacing(with: 0, where: x .< low)
}

@inline(__always) func exp1(_ x: Float) -> Float {
    exp8(SIMD8(repeating: x))[0]
}
