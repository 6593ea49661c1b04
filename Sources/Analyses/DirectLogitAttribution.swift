import Tensors
import Transformer

/// What an attribution explains: one token's logit, or the difference `token − baseline` of two logits.
public struct LogitTarget: Equatable, Sendable {
    public var token: Int32
    public var baseline: Int32?

    public init(token: Int32, baseline: Int32? = nil) {
        self.token = token
        self.baseline = baseline
    }
}

/// Direct logit attribution at one position: how much each component that writes to the residual stream
/// adds to the target logit, read straight through the unembedding with the final norm's scale frozen
/// (TransformerLens's `decompose_resid` + `logit_attrs`). The parts sum to the logit.
public struct LogitAttribution: Equatable, Sendable {
    public let position: Int
    public let target: LogitTarget
    /// `hook_embed`'s share.
    public let embed: Float
    /// [layer][head]: each head's output `z_h · W_O[:, h]ᵀ` (its slice of attn_out).
    public let heads: [[Float]]
    /// [layer]: each MLP's output (mlp_out).
    public let mlps: [Float]
    /// The model's own logit (or logit difference) at `position`.
    public let logit: Float
    /// `sqrt(mean(resid²) + eps)` of the final residual at `position`: every component is divided by it.
    public let finalScale: Float

    /// The sum of the contributions; equals `logit` up to rounding.
    public var total: Float { embed + heads.joined().reduce(0, +) + mlps.reduce(0, +) }
}

extension LanguageModel {
    /// Runs `tokens` once and attributes `target`'s logit at `position` (negative counts from the end):
    /// component c contributes `(c / scale) · (w_ln_final ⊙ u)` with `u = W_U[token] (− W_U[baseline])`.
    public func directLogitAttribution(tokens: [Int32], position: Int, target: LogitTarget) throws -> LogitAttribution {
        guard config.isPlainLlama && weights.hasNoBiases else {
            throw AnalysisError(field: "model", "direct logit attribution needs a LLaMA-style model (RMSNorm, no biases, "
                                + "no post-sublayer norms): this one is \(config.architecture.rawValue)")
        }
        try validate(tokens, field: "tokens")
        let position = try resolve(positions: [position], count: tokens.count, field: "position")[0]
        try validate(token: target.token, field: "target")
        if let baseline = target.baseline { try validate(token: baseline, field: "baseline") }
        let c = config, d = c.modelDim
        let capture = HookCapture([.embed, .lnFinalScale]
            + (0..<c.layerCount).flatMap { [HookPoint.block($0, .z), .block($0, .mlpOut)] })
        let logits = try forward(tokens, cache: makeCache(capacity: tokens.count), observer: capture)
        let vocabulary = c.vocabularySize
        let logit = logits.data[position * vocabulary + Int(target.token)]
            - (target.baseline.map { logits.data[position * vocabulary + Int($0)] } ?? 0)
        let scale = capture[.lnFinalScale].data[position]

        // u = w_ln_final ⊙ (W_U[token] − W_U[baseline]) / scale: a component's contribution is its dot with u.
        var u = [Float](repeating: 0, count: d)
        for i in 0..<d {
            let baseline = target.baseline.map { weights.unembedding.pointer[Int($0) * d + i] } ?? 0
            u[i] = weights.finalNorm.pointer[i] * (weights.unembedding.pointer[Int(target.token) * d + i] - baseline) / scale
        }
        func dot(_ tensor: Tensor, row: Int, _ vector: [Float], width: Int, offset: Int = 0) -> Float {
            var sum: Float = 0
            tensor.data.withUnsafeBufferPointer { data in
                vector.withUnsafeBufferPointer { v in
                    for i in 0..<width { sum += data[row + i] * v[offset + i] }
                }
            }
            return sum
        }
        let embed = dot(capture[.embed], row: position * d, u, width: d)
        var heads: [[Float]] = []
        var mlps: [Float] = []
        var throughOutput = [Float](repeating: 0, count: c.qDim)
        for layer in 0..<c.layerCount {
            // W_Oᵀ u [n_heads · d_head]: head h's contribution is z_h · (W_Oᵀ u)_h.
            BLAS.gemv(transpose: true, rows: d, cols: c.qDim, a: weights.layers[layer].output.pointer, lda: c.qDim,
                      x: u, y: &throughOutput)
            let z = capture[.block(layer, .z)]
            heads.append((0..<c.headCount).map { h in
                dot(z, row: position * c.qDim + h * c.headDim, throughOutput, width: c.headDim, offset: h * c.headDim)
            })
            mlps.append(dot(capture[.block(layer, .mlpOut)], row: position * d, u, width: d))
        }
        return LogitAttribution(position: position, target: target, embed: embed, heads: heads, mlps: mlps,
                                logit: logit, finalScale: scale)
    }
}
