import Tensors

/// Which rows of logits a forward pass computes.
public enum LogitRows: Sendable {
    /// Every new position: [T, vocab].
    case all
    /// Only the last position, as generation needs: [1, vocab]. The `ln_final` hooks and `logits`
    /// then cover that one position (their view's `positions` says so).
    case last
}

extension LanguageModel {
    /// Runs `tokens` at positions `cache.count ..< cache.count + tokens.count`, appends their keys and
    /// values to `cache`, and returns the logits, [T, vocab] (or [1, vocab] for `.last`).
    ///
    /// Before the pass `observer.wants` is asked about every hook point; each wanted activation is then
    /// handed to `observer.observe` in forward order, and the pass continues with whatever it wrote.
    public func forward(
        _ tokens: [Int32], cache: KVCache, observer: HookObserver? = nil, logits rows: LogitRows = .all
    ) throws -> Tensor {
        precondition(cache.layerCount == config.layerCount && cache.rowWidth == config.kvDim,
                     "the cache was made for another model")
        for token in tokens where token < 0 || Int(token) >= config.vocabularySize {
            throw TransformerError.tokenOutOfRange(token: token, vocabularySize: config.vocabularySize)
        }
        guard !tokens.isEmpty else { return Tensor(zeros: [0, config.vocabularySize]) }
        let hooks = HookPlan(observer: observer, hookPoints: hookPoints)
        return withActivations { activations in
            ForwardPass(model: self, tokens: tokens, cache: cache, hooks: hooks, activations: activations)
                .run(logitRows: rows)
        }
    }
}

/// One forward pass over T new tokens at positions start ..< start + T, attending to all `total` positions.
/// `Forward+Resume.swift` also runs it from a given layer.
struct ForwardPass {
    let c: ModelConfig
    let weights: ModelWeights
    let tokens: [Int32]
    let cache: KVCache
    let hooks: HookPlan
    let a: Activations
    /// T: the new tokens.
    let count: Int
    /// Absolute positions of the new tokens.
    let positions: Range<Int>
    /// cos and sin of the new positions' RoPE angles, [T, d_head/2] each.
    let rotary: RotaryTable
    /// Whether each head has its own scores buffer: when some layer's scores or pattern is observed
    /// (the hooks show all heads at once) and when decoding one token (heads then run in parallel).
    let scoresPerHead: Bool

    init(model: LanguageModel, tokens: [Int32], cache: KVCache, hooks: HookPlan, activations: Activations) {
        c = model.config
        weights = model.weights
        self.tokens = tokens
        self.cache = cache
        self.hooks = hooks
        a = activations
        count = tokens.count
        positions = cache.count ..< cache.count + tokens.count
        rotary = RotaryTable(positions: positions, dim: c.headDim, base: c.ropeBase)
        scoresPerHead = tokens.count == 1
            || (0..<c.layerCount).contains { hooks.wants(.block($0, .attnScores)) || hooks.wants(.block($0, .pattern)) }
        cache.reserve(positions.upperBound)
        a.reserve(config: c, tokens: count, positions: positions.upperBound, scoreHeads: scoresPerHead ? c.headCount : 1)
    }

    func run(logitRows: LogitRows) -> Tensor {
        embed()
        for layer in 0..<c.layerCount {
            block(layer)
        }
        cache.count = positions.upperBound
        return unembed(rows: logitRows == .all ? count : 1)
    }

    /// Hands an activation to the observer if it asked for it.
    private func observe(_ hook: HookPoint, _ shape: @autoclosure () -> [Int], _ pointer: UnsafeMutablePointer<Float>,
                         positions: Range<Int>? = nil) {
        guard hooks.wants(hook) else { return }
        hooks.observe(hook, shape(), positions: positions ?? self.positions, pointer)
    }

    /// residual[t] = W_E[tokens[t]]        [T, d_model]
    private func embed() {
        let d = c.modelDim, residual = a.residual.pointer
        for (t, token) in tokens.enumerated() {
            (residual + t * d).update(from: weights.tokenEmbedding.pointer + Int(token) * d, count: d)
        }
        observe(.embed, [count, d], residual)
    }

    /// resid_mid = resid_pre + attn(ln1(resid_pre)); resid_post = resid_mid + mlp(ln2(resid_mid)).
    func block(_ l: Int) {
        let d = c.modelDim, residual = a.residual.pointer, w = weights.layers[l]
        observe(.block(l, .residPre), [count, d], residual)

        rmsNorm(residual, rows: count, weight: w.attentionNorm,
                scaleHook: .block(l, .ln1Scale), normalizedHook: .block(l, .ln1Normalized), positions: positions)
        attention(l)
        observe(.block(l, .attnOut), [count, d], a.blockOutput.pointer)
        Kernels.add(a.blockOutput.pointer, to: residual, count: count * d)
        observe(.block(l, .residMid), [count, d], residual)

        rmsNorm(residual, rows: count, weight: w.mlpNorm,
                scaleHook: .block(l, .ln2Scale), normalizedHook: .block(l, .ln2Normalized), positions: positions)
        mlp(l)
        observe(.block(l, .mlpOut), [count, d], a.blockOutput.pointer)
        Kernels.add(a.blockOutput.pointer, to: residual, count: count * d)
        observe(.block(l, .residPost), [count, d], residual)
    }

    /// normalized = x / scale · weight, scale = sqrt(mean(x²) + eps)        x: [rows, d_model]
    /// The scale hook sees [rows, 1]; the normalized hook sees x / scale before the weight.
    private func rmsNorm(_ x: UnsafePointer<Float>, rows: Int, weight: Parameter,
                         scaleHook: HookPoint, normalizedHook: HookPoint, positions: Range<Int>) {
        let d = c.modelDim, scale = a.scale.pointer, normalized = a.normalized.pointer
        Kernels.rmsScale(x, rows: rows, dim: d, epsilon: c.normEpsilon, into: scale)
        observe(scaleHook, [rows, 1], scale, positions: positions)
        if hooks.wants(normalizedHook) {
            Kernels.divideRows(x, by: scale, rows: rows, dim: d, weight: nil, into: normalized)
            observe(normalizedHook, [rows, d], normalized, positions: positions)
            Kernels.multiplyColumns(normalized, rows: rows, dim: d, by: weight.pointer)
        } else {
            Kernels.divideRows(x, by: scale, rows: rows, dim: d, weight: weight.pointer, into: normalized)
        }
    }

    /// Grouped-query causal self-attention on `a.normalized`, into `a.blockOutput` (attn_out, [T, d_model]).
    private func attention(_ l: Int) {
        let w = weights.layers[l], d = c.modelDim, headDim = c.headDim
        let x = a.normalized.pointer, q = a.query.pointer, z = a.z.pointer
        let keys = cache.keys[l], values = cache.values[l]
        // This pass's rows of the cache: k and v are computed straight into them.
        let k = keys + positions.lowerBound * c.kvDim, v = values + positions.lowerBound * c.kvDim

        // q = x W_Qᵀ [T, n_heads, d_head]; k = x W_Kᵀ, v = x W_Vᵀ [T, n_kv_heads, d_head]
        BLAS.linear(x, rows: count, inFeatures: d, weight: w.query.pointer, outFeatures: c.qDim, into: q)
        BLAS.linear(x, rows: count, inFeatures: d, weight: w.key.pointer, outFeatures: c.kvDim, into: k)
        BLAS.linear(x, rows: count, inFeatures: d, weight: w.value.pointer, outFeatures: c.kvDim, into: v)
        observe(.block(l, .q), [count, c.headCount, headDim], q)
        observe(.block(l, .k), [count, c.kvHeadCount, headDim], k)
        observe(.block(l, .v), [count, c.kvHeadCount, headDim], v)

        // RoPE, rotate-half
        rotary.cos.withUnsafeBufferPointer { cos in
            rotary.sin.withUnsafeBufferPointer { sin in
                Kernels.rotateHalf(q, rows: count, heads: c.headCount, headDim: headDim,
                                   cos: cos.baseAddress!, sin: sin.baseAddress!)
                Kernels.rotateHalf(k, rows: count, heads: c.kvHeadCount, headDim: headDim,
                                   cos: cos.baseAddress!, sin: sin.baseAddress!)
            }
        }
        observe(.block(l, .rotQ), [count, c.headCount, headDim], q)
        observe(.block(l, .rotK), [count, c.kvHeadCount, headDim], k)

        // Per head h, with its KV head g = h / group size:
        //   scores_h = rot_q_h · rot_k_gᵀ / √d_head [T, T_total], masked causally;
        //   pattern_h = softmax(scores_h);  z_h = pattern_h · v_g [T, d_head]
        let total = positions.upperBound
        let scoresHook = HookPoint.block(l, .attnScores), patternHook = HookPoint.block(l, .pattern)
        func scores(_ h: Int) -> UnsafeMutablePointer<Float> {
            a.scores.pointer + (scoresPerHead ? h * count * total : 0)
        }
        func computeScores(_ h: Int) {
            let queries = q + h * headDim, keysOfGroup = keys + (h / c.groupSize) * headDim
            if count == 1 {
                Kernels.matrixVector(keysOfGroup, rows: total, cols: headDim, lda: c.kvDim, alpha: c.attentionScale,
                                     x: queries, into: scores(h))
            } else {
                BLAS.gemm(transposeB: true, m: count, n: total, k: headDim, alpha: c.attentionScale,
                          a: queries, lda: c.qDim, b: keysOfGroup, ldb: c.kvDim, c: scores(h), ldc: total)
            }
        }
        func computeZ(_ h: Int) {
            let valuesOfGroup = values + (h / c.groupSize) * headDim
            if count == 1 {
                Kernels.transposedMatrixVector(valuesOfGroup, rows: total, cols: headDim, lda: c.kvDim,
                                               x: scores(h), into: z + h * headDim)
            } else {
                BLAS.gemm(m: count, n: headDim, k: total, a: scores(h), lda: total,
                          b: valuesOfGroup, ldb: c.kvDim, c: z + h * headDim, ldc: c.qDim)
            }
        }
        if hooks.wants(scoresHook) || hooks.wants(patternHook) {
            for h in 0..<c.headCount { computeScores(h) }
            if hooks.wants(scoresHook) {
                maskFuture(a.scores.pointer, heads: c.headCount, total: total)
                observe(scoresHook, [c.headCount, count, total], a.scores.pointer)
                // Softmax over whole rows: the masked entries are -inf unless the observer unmasked them.
                // A row's trailing -inf entries get 0 without going through exp.
                parallelFor(c.headCount * count, minimumChunk: 16) { rows in
                    for row in rows {
                        let pointer = a.scores.pointer + row * total
                        var finite = total
                        while finite > 0 && pointer[finite - 1] == -.infinity { finite -= 1 }
                        Kernels.softmax(pointer, count: finite)
                        (pointer + finite).update(repeating: 0, count: total - finite)
                    }
                }
            } else {
                causalSoftmax(a.scores.pointer, heads: c.headCount, total: total)
            }
            observe(patternHook, [c.headCount, count, total], a.scores.pointer)
            for h in 0..<c.headCount { computeZ(h) }
        } else if scoresPerHead {
            // Decoding: heads are small and independent, so they run in parallel.
            parallelFor(c.headCount, minimumChunk: total < 256 ? c.headCount : 1) { heads in
                for h in heads {
                    computeScores(h)
                    causalSoftmax(scores(h), heads: 1, total: total)
                    computeZ(h)
                }
            }
        } else {
            // Prefill: one head at a time through one scores buffer, each gemm on all threads.
            for h in 0..<c.headCount {
                computeScores(h)
                causalSoftmax(scores(h), heads: 1, total: total)
                computeZ(h)
            }
        }
        observe(.block(l, .z), [count, c.headCount, headDim], z)

        // attn_out = z W_Oᵀ [T, d_model]
        BLAS.linear(z, rows: count, inFeatures: c.qDim, weight: w.output.pointer, outFeatures: d, into: a.blockOutput.pointer)
    }

    /// Sets the entries of [heads, T, total] scores where a query would see a later position to -inf.
    private func maskFuture(_ scores: UnsafeMutablePointer<Float>, heads: Int, total: Int) {
        for head in 0..<heads {
            for i in 0..<count {
                let visible = positions.lowerBound + i + 1
                (scores + (head * count + i) * total + visible).update(repeating: -.infinity, count: total - visible)
            }
        }
    }

    /// Softmax of each [heads, T, total] row over the positions its query may see; the rest become 0.
    private func causalSoftmax(_ scores: UnsafeMutablePointer<Float>, heads: Int, total: Int) {
        parallelFor(heads * count, minimumChunk: 16) { rows in
            for row in rows {
                let visible = positions.lowerBound + row % count + 1
                let pointer = scores + row * total
                Kernels.softmax(pointer, count: visible)
                (pointer + visible).update(repeating: 0, count: total - visible)
            }
        }
    }

    /// SiLU-gated MLP on `a.normalized`, into `a.blockOutput` (mlp_out, [T, d_model]).
    private func mlp(_ l: Int) {
        let w = weights.layers[l], d = c.modelDim, hidden = c.mlpDim
        let x = a.normalized.pointer, pre = a.mlpPre.pointer, preLinear = a.mlpPreLinear.pointer, post = a.mlpPost.pointer

        // pre = x W_gateᵀ, pre_linear = x W_upᵀ [T, d_mlp]
        BLAS.linear(x, rows: count, inFeatures: d, weight: w.gate.pointer, outFeatures: hidden, into: pre)
        observe(.block(l, .mlpPre), [count, hidden], pre)
        BLAS.linear(x, rows: count, inFeatures: d, weight: w.up.pointer, outFeatures: hidden, into: preLinear)
        observe(.block(l, .mlpPreLinear), [count, hidden], preLinear)

        // post = silu(pre) · pre_linear
        parallelFor(count * hidden, minimumChunk: 1 << 14) { range in
            Kernels.siluMultiply(gate: pre + range.lowerBound, up: preLinear + range.lowerBound,
                                 into: post + range.lowerBound, count: range.count)
        }
        observe(.block(l, .mlpPost), [count, hidden], post)

        // mlp_out = post W_downᵀ [T, d_model]
        BLAS.linear(post, rows: count, inFeatures: hidden, weight: w.down.pointer, outFeatures: d, into: a.blockOutput.pointer)
    }

    /// logits = ln_final(resid_post) W_Uᵀ for the last `rows` positions        [rows, vocab]
    func unembed(rows: Int) -> Tensor {
        let d = c.modelDim, vocab = c.vocabularySize
        let lastRows = positions.upperBound - rows ..< positions.upperBound
        rmsNorm(a.residual.pointer + (count - rows) * d, rows: rows, weight: weights.finalNorm,
                scaleHook: .lnFinalScale, normalizedHook: .lnFinalNormalized, positions: lastRows)
        var logits = Tensor(zeros: [rows, vocab])
        logits.data.withUnsafeMutableBufferPointer { out in
            BLAS.linear(a.normalized.pointer, rows: rows, inFeatures: d,
                        weight: weights.unembedding.pointer, outFeatures: vocab, into: out.baseAddress!)
            observe(.logits, [rows, vocab], out.baseAddress!, positions: lastRows)
        }
        return logits
    }
}
