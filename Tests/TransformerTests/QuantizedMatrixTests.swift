import CKernels
import Foundation
import ModelFiles
import Testing
@testable import Tensors
@testable import Transformer

/// Matrix-vector products read straight from Q4_1, Q5_0, Q8_0, Q4_K and Q6_K blocks, against the dequantized matrix (gguf-py's
/// values, tested bit for bit elsewhere) times x in double precision.
struct QuantizedMatrixTests {
    /// A matrix of `rows` rows from the file's tensor `name`, its blocks as stored.
    static func fileMatrix(_ file: GGUFFile, _ name: String, rows: Int) throws -> (QuantizedMatrix, [Float]) {
        let info = try #require(file.tensorInfo(named: name))
        let columns = info.dimensions[0]
        let format = try #require(QuantizedMatrix.Format(info.type))
        let matrix = QuantizedMatrix(format: format, rows: rows, columns: columns) { destination in
            destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: file.rawBytes(of: info)[0..<destination.count]))
        }
        var dense = [Float](repeating: 0, count: info.elementCount)
        try dense.withUnsafeMutableBufferPointer { try file.dequantize(info, into: $0) }
        return (matrix, Array(dense[0..<rows * columns]))
    }

    /// Every row's product against Σ w·x in double precision, relative to Σ |w·x|; both kernels.
    static func expectProducts(_ matrix: QuantizedMatrix, dense: [Float], tolerance: Double = 1e-5) {
        var generator = SystemRandomNumberGenerator()
        let x = (0..<matrix.columns).map { _ in Float.random(in: -2...2, using: &generator) }
        for isa in [Int32(CK_NONE), Int32(CK_AVX2), Int32(CK_AVX512)] where isa <= BLAS.kernelISA {
            var y = [Float](repeating: .nan, count: matrix.rows)
            x.withUnsafeBufferPointer { x in
                y.withUnsafeMutableBufferPointer { y in
                    matrix.multiply(rows: 0..<matrix.rows, x.baseAddress!, into: y.baseAddress!, isa: isa)
                }
            }
            var worst = 0.0
            for r in 0..<matrix.rows {
                var exact = 0.0, magnitude = 0.0
                for c in 0..<matrix.columns {
                    let term = Double(dense[r * matrix.columns + c]) * Double(x[c])
                    exact += term
                    magnitude += abs(term)
                }
                worst = max(worst, abs(Double(y[r]) - exact) / max(magnitude, 1e-30))
            }
            #expect(worst < tolerance, "isa \(isa): worst relative error \(worst)")
        }
    }

    @Test func realQ4_1AndQ8_0Tensors() throws {
        let file = try GGUFFile(contentsOf: SmolLM2.url)
        for (name, rows) in [("blk.0.ffn_down.weight", 576), ("blk.3.attn_q.weight", 576), ("token_embd.weight", 2048)] {
            let (matrix, dense) = try Self.fileMatrix(file, name, rows: rows)
            Self.expectProducts(matrix, dense: dense)
        }
    }

    /// Random blocks, with scales that are subnormal, negative or zero halves too.
    @Test(arguments: QuantizedMatrix.Format.allCases)
    func randomBlocks(format: QuantizedMatrix.Format) throws {
        var generator = SystemRandomNumberGenerator()
        let rows = 37, columns = 3 * format.blockValues
        let scales: [Float16] = [0.0123, -0.5, 0, 3.0e-6, 1.5, -0.00071, 2]
        var bytes = (0..<rows * columns / format.blockValues * format.blockBytes).map { _ in
            UInt8.random(in: 0...255, using: &generator)
        }
        // The halves at these offsets are scales (the other bytes stay random): d and m or dmin, or d alone.
        let halves = switch format {
        case .q4_1, .q4_K: [0, 2]
        case .q5_0, .q8_0: [0]
        case .q6_K: [208]
        }
        for block in 0..<bytes.count / format.blockBytes {
            for offset in halves {
                let half = scales.randomElement(using: &generator)!.bitPattern
                bytes[block * format.blockBytes + offset] = UInt8(half & 0xFF)
                bytes[block * format.blockBytes + offset + 1] = UInt8(half >> 8)
            }
        }
        let matrix = QuantizedMatrix(format: format, rows: rows, columns: columns) { destination in
            bytes.withUnsafeBytes { destination.copyMemory(from: $0) }
        }
        var dense = [Float](repeating: 0, count: rows * columns)
        try bytes.withUnsafeBytes { raw in
            try dense.withUnsafeMutableBufferPointer { try #require(GGMLType.allCases.first { QuantizedMatrix.Format($0) == format }).dequantize(raw, into: $0) }
        }
        Self.expectProducts(matrix, dense: dense)
        let tail = matrix.rows(30..<37)
        Self.expectProducts(tail, dense: Array(dense[30 * columns ..< 37 * columns]))
    }

    @Test func realQ5_0AndKQuantTensors() throws {
        let file = try GGUFFile(contentsOf: ModelCatalog().resolve("gemma3"))
        for (name, type) in [("blk.0.attn_q.weight", GGMLType.q5_0), ("blk.5.ffn_gate.weight", .q5_0),
                             ("blk.0.attn_output.weight", .q4_K), ("blk.0.ffn_down.weight", .q6_K)] {
            let info = try #require(file.tensorInfo(named: name))
            #expect(info.type == type)
            let (matrix, dense) = try Self.fileMatrix(file, name, rows: info.shape[0])
            Self.expectProducts(matrix, dense: dense)
        }
    }

    /// SmolLM2's Q/K matrices keep their blocks in HF's row order, as their floats are.
    @Test func loadedWeightsKeepTheirBlocksInTheFloatsRowOrder() throws {
        let model = try SmolLM2.model()
        for weight in [model.weights.layers[2].query, model.weights.layers[2].key, model.weights.layers[2].down,
                       model.weights.unembedding] {
            let matrix = try #require(weight.quantized)
            #expect(matrix.rows == weight.shape[0] && matrix.columns == weight.shape[1])
            var x = [Float](repeating: 0, count: matrix.columns)
            x[5] = 1
            var column = [Float](repeating: 0, count: matrix.rows)
            x.withUnsafeBufferPointer { x in column.withUnsafeMutableBufferPointer { matrix.multiply(x.baseAddress!, into: $0.baseAddress!) } }
            #expect((0..<matrix.rows).allSatisfy { column[$0] == weight.pointer[$0 * matrix.columns + 5] })
        }
        #expect(model.weights.layers[0].attentionNorm.quantized == nil)
    }
}
