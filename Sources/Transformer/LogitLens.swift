import Foundation
import Tensors

/// A token with its logit and its probability under the softmax of the whole row.
public struct TokenScore: Equatable, Sendable {
    public let token: Int32
    public let logit: Float
    public let probability: Float
}

extension LanguageModel {
    /// The logit lens: `ln_final(residual) · W_Uᵀ`, the logits the model would give if the
    /// residual stream ended here.        residual: [rows, d_model] → [rows, vocab]
    public func logitLens(_ residual: Tensor) -> Tensor {
        let d = config.modelDim, vocab = config.vocabularySize
        precondition(residual.shape.last == d, "the logit lens takes rows of d_model = \(d)")
        let rows = residual.count / d
        var normalized = residual
        var scale = [Float](repeating: 0, count: rows)
        var logits = Tensor(zeros: [rows, vocab])
        normalized.data.withUnsafeMutableBufferPointer { x in
            scale.withUnsafeMutableBufferPointer { s in
                if config.normalization == .layer {
                    Kernels.centreRows(x.baseAddress!, rows: rows, dim: d, into: x.baseAddress!)
                }
                Kernels.rmsScale(x.baseAddress!, rows: rows, dim: d, epsilon: config.normEpsilon, into: s.baseAddress!)
                Kernels.divideRows(x.baseAddress!, by: s.baseAddress!, rows: rows, dim: d,
                                   weight: weights.finalNorm.pointer, into: x.baseAddress!)
                if let bias = weights.finalNormBias {
                    Kernels.addRows(x.baseAddress!, rows: rows, dim: d, bias: bias.pointer)
                }
            }
            logits.data.withUnsafeMutableBufferPointer { out in
                weights.unembedding.linear(x.baseAddress!, rows: rows, into: out.baseAddress!)
            }
        }
        return logits
    }

    /// The `k` highest logits of one row, best first, with softmax probabilities over the row.
    public static func topTokens(_ logits: UnsafeBufferPointer<Float>, k: Int) -> [TokenScore] {
        guard let maximum = logits.max() else { return [] }
        var total: Double = 0
        for value in logits { total += Double((value - maximum).exp) }
        var best: [(index: Int, logit: Float)] = []
        best.reserveCapacity(k + 1)
        for (index, value) in logits.enumerated() where best.count < k || value > best[best.count - 1].logit {
            let slot = best.firstIndex { value > $0.logit } ?? best.count
            best.insert((index, value), at: slot)
            if best.count > k { best.removeLast() }
        }
        return best.map {
            TokenScore(token: Int32($0.index), logit: $0.logit, probability: Float(Double(($0.logit - maximum).exp) / total))
        }
    }
}

private extension Float {
    var exp: Float { Foundation.exp(self) }
}
