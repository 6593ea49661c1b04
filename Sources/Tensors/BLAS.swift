import CBLAS
import CKernels
import Dispatch

/// How many threads the engine computes on: OpenBLAS's pool and `parallelFor`'s workers.
public enum Threads {
    nonisolated(unsafe) private static var workers = Int(openblas_get_num_threads())

    public static var count: Int {
        get { workers }
        set {
            workers = max(1, newValue)
            openblas_set_num_threads(Int32(workers))
        }
    }
}

/// Splits `0..<count` into contiguous chunks (none smaller than `minimumChunk`, up to `chunksPerThread` per
/// thread, so a thread that gets the CPU takes over the work of one that does not) and runs `body` on them
/// concurrently. Small jobs, and everything when `Threads.count` is 1, run inline.
public func parallelFor(
    _ count: Int, minimumChunk: Int = 1, chunksPerThread: Int = 4, _ body: (Range<Int>) -> Void
) {
    let chunks = Threads.count == 1 ? 1 : min(Threads.count * chunksPerThread, max(1, count / max(1, minimumChunk)))
    if chunks <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        body(count * chunk / chunks ..< count * (chunk + 1) / chunks)
    }
}

/// Wrappers over OpenBLAS for row-major float32 matrices. On CPUs with AVX2/FMA (or AVX-512), gemm
/// runs our own kernel (CKernels) instead, split over `Threads.count` threads.
/// `a` is `m × k` (or `k × m` when transposed), `b` is `k × n` (or `n × k`), `c` is `m × n`;
/// `lda`, `ldb`, `ldc` are the distances between rows in floats.
public enum BLAS {
    /// The instruction set of our own gemm kernel on this machine (CK_NONE: OpenBLAS does it all).
    static let kernelISA = Int32(ck_best_isa())

    /// c = alpha · op(a) · op(b) + beta · c.
    /// A single row (m = 1) goes through gemv, which is several times faster than gemm there.
    /// `threaded: false` keeps our own kernel on the calling thread (for callers already in parallel).
    public static func gemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, threaded: Bool = true
    ) {
        if m == 1 && !transposeA {
            // c[1, n] = a[1, k] · op(b): op(b) = bᵀ means b is [n, k], otherwise [k, n].
            gemv(transpose: !transposeB, rows: transposeB ? n : k, cols: transposeB ? k : n,
                 alpha: alpha, a: b, lda: ldb, x: a, beta: beta, y: c)
            return
        }
        if kernelISA != CK_NONE && !transposeA && k > 0 {
            // Columns of c split between the threads, in multiples of the kernel's panels (16 or 32 wide).
            let panels = (n + 31) / 32
            // Each chunk packs its own copy of a, so they are fewer here.
            parallelFor(panels, minimumChunk: threaded ? max(1, 64 * 64 * 64 / max(1, m * k * 32)) : panels,
                        chunksPerThread: 2) { range in
                let first = range.lowerBound * 32, end = min(n, range.upperBound * 32)
                ck_sgemm(kernelISA, transposeB ? 1 : 0, m, end - first, k, alpha, a, lda,
                         transposeB ? b + first * ldb : b + first, ldb, beta, c + first, ldc)
            }
            return
        }
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y = alpha · op(a) · x + beta · y, with `a` stored `rows × cols`.
    public static func gemv(
        transpose: Bool = false, rows: Int, cols: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>,
        beta: Float = 0, y: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemv(
            CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, Int32(rows), Int32(cols),
            alpha, a, Int32(lda), x, 1, beta, y, 1)
    }

    /// A linear layer, `y[rows, out] = x[rows, in] · wᵀ` with `w` `[out, in]` as PyTorch stores it.
    /// One row (decoding) goes through `Kernels.matrixVector` on all threads, several through sgemm.
    public static func linear(
        _ x: UnsafePointer<Float>, rows: Int, inFeatures: Int,
        weight: UnsafePointer<Float>, outFeatures: Int, into y: UnsafeMutablePointer<Float>
    ) {
        if rows == 1 {
            parallelFor((outFeatures + 3) / 4, minimumChunk: 64) { quads in
                let first = quads.lowerBound * 4, end = min(outFeatures, quads.upperBound * 4)
                Kernels.matrixVector(weight + first * inFeatures, rows: end - first, cols: inFeatures,
                                     lda: inFeatures, x: x, into: y + first)
            }
            return
        }
        gemm(transposeB: true, m: rows, n: outFeatures, k: inFeatures,
             a: x, lda: inFeatures, b: weight, ldb: inFeatures, c: y, ldc: outFeatures)
    }
}

/// Naive loops computing what the BLAS wrappers compute; the tests hold the wrappers to them.
public enum ReferenceBLAS {
    public static func gemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var sum: Float = 0
                for p in 0..<k {
                    let aip = transposeA ? a[p * lda + i] : a[i * lda + p]
                    let bpj = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                    sum += aip * bpj
                }
                c[i * ldc + j] = alpha * sum + (beta == 0 ? 0 : beta * c[i * ldc + j])
            }
        }
    }

    public static func gemv(
        transpose: Bool = false, rows: Int, cols: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>,
        beta: Float = 0, y: UnsafeMutablePointer<Float>
    ) {
        let outputs = transpose ? cols : rows, inputs = transpose ? rows : cols
        for i in 0..<outputs {
            var sum: Float = 0
            for p in 0..<inputs {
                sum += (transpose ? a[p * lda + i] : a[i * lda + p]) * x[p]
            }
            y[i] = alpha * sum + (beta == 0 ? 0 : beta * y[i])
        }
    }

    public static func linear(
        _ x: UnsafePointer<Float>, rows: Int, inFeatures: Int,
        weight: UnsafePointer<Float>, outFeatures: Int, into y: UnsafeMutablePointer<Float>
    ) {
        gemm(transposeB: true, m: rows, n: outFeatures, k: inFeatures,
             a: x, lda: inFeatures, b: weight, ldb: inFeatures, c: y, ldc: outFeatures)
    }
}
