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
    /// `hook_pos_embed`'s share, with learned position embeddings (GPT-2).
    public let positionEmbed: Float?
    /// [layer]: each layer's attention output as added to the residual (`hook_attn_out`).
    public let attention: [Float]
    /// [layer][head]: each head's output `z_h · W_O[:, h]ᵀ`; `attention` is their sum plus W_O's bias. Empty for
    /// every layer when a norm after attention mixes the heads (Gemma 3).
    public let heads: [[Float]]
    /// [layer]: each MLP's output (mlp_out).
    public let mlps: [Float]
    /// What the final norm's bias adds through the unembedding (LayerNorm); 0 without one.
    public let constant: Float
    /// The model's own logit (or logit difference) at `position`.
    public let logit: Float
    /// The final norm's scale at `position` (`sqrt(mean(resid²) + eps)`, of the centred residual for
    /// LayerNorm): every component is divided by it.
    public let finalScale: Float

    /// The sum of the contributions; equals `logit` up to rounding.
    public var total: Float { embed + (positionEmbed ?? 0) + attention.reduce(0, +) + mlps.reduce(0, +) + constant }
}

extension LanguageModel {
    /// Runs `tokens` once and attributes `target`'s logit at `position` (negative counts from the end):
    /// component c contributes `c · u` with `u = w_ln_final ⊙ (W_U[token] (− W_U[baseline])) / scale`, and
    /// `u` centred for LayerNorm, which subtracts each row's mean before scaling.
    public func directLogitAttribution(tokens: [Int32], position: Int, target: LogitTarget) throws -> LogitAttribution {
        try validate(tokens, field: "tokens")
        let position = try resolve(positions: [position], count: tokens.count, field: "position")[0]
        try validate(token: target.token, field: "target")
        if let baseline = target.baseline { try validate(token: baseline, field: "baseline") }
        let c = config, d = c.modelDim
        let separableHeads = !c.postSublayerNorm
        let capture = HookCapture([.embed, .lnFinalScale] + (c.positionEmbedding ? [.posEmbed] : [])
            + (0..<c.layerCount).flatMap { [HookPoint.block($0, .attnOut), .block($0, .mlpOut)]
                + (separableHeads ? [.block($0, .z)] : []) })
        let logits = try forward(tokens, cache: makeCache(capacity: tokens.count), observer: capture)
        let vocabulary = c.vocabularySize
        let logit = logits.data[position * vocabulary + Int(target.token)]
            - (target.baseline.map { logits.data[position * vocabulary + Int($0)] } ?? 0)
        let scale = capture[.lnFinalScale].data[position]

        // direction = W_U[token] − W_U[baseline]; u = w_ln_final ⊙ direction / scale, centred for LayerNorm.
        var direction = [Float](repeating: 0, count: d), u = [Float](repeating: 0, count: d)
        for i in 0..<d {
            let baseline = target.baseline.map { weights.unembedding.pointer[Int($0) * d + i] } ?? 0
            direction[i] = weights.unembedding.pointer[Int(target.token) * d + i] - baseline
            u[i] = weights.finalNorm.pointer[i] * direction[i] / scale
        }
        if c.normalization == .layer {
            let mean = u.reduce(0, +) / Float(d)
            for i in 0..<d { u[i] -= mean }
        }
        func dot(_ data: UnsafePointer<Float>, _ vector: [Float], width: Int, offset: Int = 0) -> Float {
            var sum: Float = 0
            vector.withUnsafeBufferPointer { v in
                for i in 0..<width { sum += data[i] * v[offset + i] }
            }
            return sum
        }
        func dot(_ tensor: Tensor, row: Int, _ vector: [Float], width: Int, offset: Int = 0) -> Float {
            tensor.data.withUnsafeBufferPointer { dot($0.baseAddress! + row, vector, width: width, offset: offset) }
        }
        let embed = dot(capture[.embed], row: position * d, u, width: d)
        let positionEmbed = c.positionEmbedding ? dot(capture[.posEmbed], row: position * d, u, width: d) : nil
        var heads: [[Float]] = [], attention: [Float] = [], mlps: [Float] = []
        var throughOutput = [Float](repeating: 0, count: c.qDim)
        for layer in 0..<c.layerCount {
            attention.append(dot(capture[.block(layer, .attnOut)], row: position * d, u, width: d))
            mlps.append(dot(capture[.block(layer, .mlpOut)], row: position * d, u, width: d))
            guard separableHeads else { heads.append([]); continue }
            // W_Oᵀ u [n_heads · d_head]: head h's contribution is z_h · (W_Oᵀ u)_h.
            BLAS.gemv(transpose: true, rows: d, cols: c.qDim, a: weights.layers[layer].output.pointer, lda: c.qDim,
                      x: u, y: &throughOutput)
            let z = capture[.block(layer, .z)]
            heads.append((0..<c.headCount).map { h in
                dot(z, row: position * c.qDim + h * c.headDim, throughOutput, width: c.headDim, offset: h * c.headDim)
            })
        }
        let constant = weights.finalNormBias.map { dot($0.pointer, direction, width: d) } ?? 0
        return LogitAttribution(position: position, target: target, embed: embed, positionEmbed: positionEmbed,
                                attention: attention, heads: heads, mlps: mlps, constant: constant, logit: logit,
                                finalScale: scale)
    }
}
