import CKernels

/// A [rows, columns] matrix kept in one of GGML's block formats (32 or 256 values a block, each row its own
/// run of blocks), for the matrix-vector products of decoding: they are bound by how many bytes of weights they
/// read, and Q4_1 is 5 bits a value where float32 is 32. The products equal those of the dequantized
/// matrix up to float rounding.
public final class QuantizedMatrix: @unchecked Sendable {
    public enum Format: Sendable, CaseIterable {
        /// half d, half m, 16 bytes of nibbles: d·q + m.
        case q4_1
        /// half d, 32 fifth bits, 16 bytes of nibbles: d·(q − 16).
        case q5_0
        /// half d, 32 signed bytes: d·q.
        case q8_0
        /// 256 values: half d, half dmin, 6-bit scales and mins of 8 sub-blocks, nibbles.
        case q4_K
        /// 256 values: 4 low and 2 high bits each, 16 signed scales, half d: d·scale·(q − 32).
        case q6_K

        public var blockValues: Int { self == .q4_K || self == .q6_K ? 256 : 32 }

        public var blockBytes: Int {
            switch self {
            case .q4_1: 20
            case .q5_0: 22
            case .q8_0: 34
            case .q4_K: 144
            case .q6_K: 210
            }
        }

        var kernelFormat: Int32 {
            switch self {
            case .q4_1: Int32(CK_Q4_1)
            case .q5_0: Int32(CK_Q5_0)
            case .q8_0: Int32(CK_Q8_0)
            case .q4_K: Int32(CK_Q4_K)
            case .q6_K: Int32(CK_Q6_K)
            }
        }
    }

    public let format: Format
    public let rows: Int
    public let columns: Int
    /// Bytes from one row to the next.
    public let rowBytes: Int
    private let storage: UnsafeMutableRawPointer

    /// A matrix whose blocks `fill` writes, row after row (`rows · rowBytes` bytes); `columns` is a whole
    /// number of blocks.
    public init(format: Format, rows: Int, columns: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        precondition(columns % format.blockValues == 0, "a row of \(columns) values is not whole blocks")
        let rowBytes = columns / format.blockValues * format.blockBytes
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(1, rows * rowBytes), alignment: 64)
        do {
            try fill(UnsafeMutableRawBufferPointer(start: storage, count: rows * rowBytes))
        } catch {
            storage.deallocate()
            throw error
        }
        self.format = format
        self.rows = rows
        self.columns = columns
        self.rowBytes = rowBytes
        self.storage = storage
    }

    deinit { storage.deallocate() }

    /// A copy of rows `range`.
    public func rows(_ range: Range<Int>) -> QuantizedMatrix {
        QuantizedMatrix(format: format, rows: range.count, columns: columns) { destination in
            destination.copyMemory(from: UnsafeRawBufferPointer(start: storage + range.lowerBound * rowBytes,
                                                                count: destination.count))
        }
    }

    /// y[rows] = W · x[columns], split over `Threads.count` threads by rows.
    public func multiply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        parallelFor(rows, minimumChunk: 64) { rows in
            multiply(rows: rows, x, into: y, isa: BLAS.kernelISA)
        }
    }

    /// Rows `rows` of the product, on the calling thread, with the kernels of `isa` (CK_NONE: the scalar loops).
    func multiply(rows: Range<Int>, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, isa: Int32) {
        ck_matvec_quantized(isa, format.kernelFormat, storage + rows.lowerBound * rowBytes, rowBytes, rows.count,
                            columns, x, y + rows.lowerBound)
    }
}
