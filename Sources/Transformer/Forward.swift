import Foundation
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
        if config.positionEmbedding && cache.count + tokens.count > config.contextLength {
            throw TransformerError.unsupportedConfiguration(
                "position \(cache.count + tokens.count - 1) beyond the learned position embeddings of \(config.contextLength)")
        }
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
    /// cos and sin of the new positions' RoPE angles, [T, d_head/2] each, with the global RoPE base.
    let rotary: RotaryTable
    /// The same with the local base, for the sliding-window layers (Gemma).
    let localRotary: RotaryTable?
    /// Buffers of [T, T_total] scores the heads share when their scores are not observed: one per thread.
    let scoreSlots: Int

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
        localRotary = c.slidingWindow == nil ? nil
            : RotaryTable(positions: positions, dim: c.headDim, base: c.localRopeBase)
        scoreSlots = min(c.headCount, Threads.count)
        // Observed scores or patterns show all heads at once.
        let observesScores = (0..<c.layerCount).contains {
            hooks.wants(.block($0, .attnScores)) || hooks.wants(.block($0, .pattern))
        }
        cache.reserve(positions.upperBound)
        a.reserve(config: c, tokens: count, positions: positions.upperBound,
                  scoreHeads: observesScores ? c.headCount : scoreSlots)
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

    /// residual[t] = W_E[tokens[t]] · embeddingScale        [T, d_model]
    private func embed() {
        let d = c.modelDim, residual = a.residual.pointer
        for (t, token) in tokens.enumerated() {
            (residual + t * d).update(from: weights.tokenEmbedding.pointer + Int(token) * d, count: d)
        }
        if c.embeddingScale != 1 {
            for i in 0..<count * d { residual[i] *= c.embeddingScale }
        }
        observe(.embed, [count, d], residual)
        // resid_pre[t] += W_pos[position t] (GPT-2), through the spare attn_out buffer
        if let position = weights.positionEmbedding {
            let positionEmbed = a.blockOutput.pointer
            positionEmbed.update(from: position.pointer + positions.lowerBound * d, count: count * d)
            observe(.posEmbed, [count, d], positionEmbed)
            Kernels.add(positionEmbed, to: residual, count: count * d)
        }
    }

    /// resid_mid = resid_pre + attn(ln1(resid_pre)); resid_post = resid_mid + mlp(ln2(resid_mid)).
    func block(_ l: Int) {
        let d = c.modelDim, residual = a.residual.pointer, w = weights.layers[l]
        observe(.block(l, .residPre), [count, d], residual)

        norm(residual, rows: count, weight: w.attentionNorm, bias: w.attentionNormBias,
                scaleHook: .block(l, .ln1Scale), normalizedHook: .block(l, .ln1Normalized), positions: positions)
        attention(l)
        if let norm = w.postAttentionNorm { postNorm(a.blockOutput.pointer, weight: norm) }
        observe(.block(l, .attnOut), [count, d], a.blockOutput.pointer)
        Kernels.add(a.blockOutput.pointer, to: residual, count: count * d)
        observe(.block(l, .residMid), [count, d], residual)

        norm(residual, rows: count, weight: w.mlpNorm, bias: w.mlpNormBias,
                scaleHook: .block(l, .ln2Scale), normalizedHook: .block(l, .ln2Normalized), positions: positions)
        mlp(l)
        if let norm = w.postMLPNorm { postNorm(a.blockOutput.pointer, weight: norm) }
        observe(.block(l, .mlpOut), [count, d], a.blockOutput.pointer)
        Kernels.add(a.blockOutput.pointer, to: residual, count: count * d)
        observe(.block(l, .residPost), [count, d], residual)
    }

    /// RMSNorm: normalized = x / scale · weight, scale = sqrt(mean(x²) + eps)        x: [rows, d_model]
    /// LayerNorm: the same on x − mean(x), then + bias.
    /// The scale hook sees [rows, 1]; the normalized hook sees (centred) x / scale before weight and bias.
    private func norm(_ x: UnsafePointer<Float>, rows: Int, weight: Parameter, bias: Parameter?,
                      scaleHook: HookPoint, normalizedHook: HookPoint, positions: Range<Int>) {
        let d = c.modelDim, scale = a.scale.pointer, normalized = a.normalized.pointer
        var x = x
        if c.normalization == .layer {
            Kernels.centreRows(x, rows: rows, dim: d, into: normalized)
            x = UnsafePointer(normalized)
        }
        defer { if let bias { Kernels.addRows(normalized, rows: rows, dim: d, bias: bias.pointer) } }
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

    /// x = x / scale · weight in place, without hooks (Gemma's post-sublayer norms)        x: [T, d_model]
    private func postNorm(_ x: UnsafeMutablePointer<Float>, weight: Parameter) {
        Kernels.rmsScale(x, rows: count, dim: c.modelDim, epsilon: c.normEpsilon, into: a.scale.pointer)
        Kernels.divideRows(x, by: a.scale.pointer, rows: count, dim: c.modelDim, weight: weight.pointer, into: x)
    }

    /// RMSNorm over each head's d_head entries, in place (QK-norm)        x: [T, heads, d_head]
    private func headNorm(_ x: UnsafeMutablePointer<Float>, heads: Int, weight: Parameter) {
        let rows = count * heads, headScale = a.headScale.pointer
        Kernels.rmsScale(x, rows: rows, dim: c.headDim, epsilon: c.normEpsilon, into: headScale)
        Kernels.divideRows(x, by: headScale, rows: rows, dim: c.headDim, weight: weight.pointer, into: x)
    }

    /// Grouped-query causal self-attention on `a.normalized`, into `a.blockOutput` (attn_out, [T, d_model]).
    private func attention(_ l: Int) {
        let w = weights.layers[l], d = c.modelDim, headDim = c.headDim
        let x = a.normalized.pointer, q = a.query.pointer, z = a.z.pointer
        let keys = cache.keys[l], values = cache.values[l]
        // This pass's rows of the cache: k and v are computed straight into them.
        let k = keys + positions.lowerBound * c.kvDim, v = values + positions.lowerBound * c.kvDim

        // q = x W_Qᵀ [T, n_heads, d_head]; k = x W_Kᵀ, v = x W_Vᵀ [T, n_kv_heads, d_head]
        w.query.linear(x, rows: count, into: q)
        w.key.linear(x, rows: count, into: k)
        w.value.linear(x, rows: count, into: v)
        if let b = w.queryBias { Kernels.addRows(q, rows: count, dim: c.qDim, bias: b.pointer) }
        if let b = w.keyBias { Kernels.addRows(k, rows: count, dim: c.kvDim, bias: b.pointer) }
        if let b = w.valueBias { Kernels.addRows(v, rows: count, dim: c.kvDim, bias: b.pointer) }
        observe(.block(l, .q), [count, c.headCount, headDim], q)
        observe(.block(l, .k), [count, c.kvHeadCount, headDim], k)
        observe(.block(l, .v), [count, c.kvHeadCount, headDim], v)

        // QK-norm (Gemma), then RoPE, rotate-half, with this layer's base
        if let queryNorm = w.queryNorm, let keyNorm = w.keyNorm {
            headNorm(q, heads: c.headCount, weight: queryNorm)
            headNorm(k, heads: c.kvHeadCount, weight: keyNorm)
        }
        if c.rotary {
            let rotary = c.isSliding(l) ? localRotary ?? self.rotary : self.rotary
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
        }

        // Per head h, with its KV head g = h / group size:
        //   scores_h = rot_q_h · rot_k_gᵀ × scale [T, T_total], masked causally (and outside the window);
        //   pattern_h = softmax(scores_h);  z_h = pattern_h · v_g [T, d_head]
        // Heads run in parallel, each on one thread with single-threaded products.
        let total = positions.upperBound
        let scoresHook = HookPoint.block(l, .attnScores), patternHook = HookPoint.block(l, .pattern)
        func scores(_ slot: Int) -> UnsafeMutablePointer<Float> { a.scores.pointer + slot * count * total }
        // Prefill multiplies in blocks of query rows, each only against the keys its rows may see:
        // the entries after them are masked (set by `maskFuture` or `causalSoftmax`).
        let rowBlock = 64
        func computeScores(_ h: Int, into s: UnsafeMutablePointer<Float>) {
            let queries = q + h * headDim, keysOfGroup = keys + (h / c.groupSize) * headDim
            if count == 1 {
                Kernels.matrixVector(keysOfGroup, rows: total, cols: headDim, lda: c.kvDim, alpha: c.attentionScale,
                                     x: queries, into: s)
                return
            }
            for first in stride(from: 0, to: count, by: rowBlock) {
                let end = min(count, first + rowBlock), visible = positions.lowerBound + end
                BLAS.gemm(transposeB: true, m: end - first, n: visible, k: headDim, alpha: c.attentionScale,
                          a: queries + first * c.qDim, lda: c.qDim, b: keysOfGroup, ldb: c.kvDim,
                          c: s + first * total, ldc: total, threaded: false)
            }
        }
        /// `causal`: the pattern is 0 after each row's visible positions, so they can be skipped.
        func computeZ(_ h: Int, from s: UnsafeMutablePointer<Float>, causal: Bool) {
            let valuesOfGroup = values + (h / c.groupSize) * headDim
            if count == 1 {
                Kernels.transposedMatrixVector(valuesOfGroup, rows: total, cols: headDim, lda: c.kvDim,
                                               x: s, into: z + h * headDim)
                return
            }
            for first in stride(from: 0, to: count, by: causal ? rowBlock : count) {
                let end = min(count, first + (causal ? rowBlock : count))
                BLAS.gemm(m: end - first, n: headDim, k: causal ? positions.lowerBound + end : total,
                          a: s + first * total, lda: total, b: valuesOfGroup, ldb: c.kvDim,
                          c: z + first * c.qDim + h * headDim, ldc: c.qDim, threaded: false)
            }
        }
        if hooks.wants(scoresHook) || hooks.wants(patternHook) {
            // Observed: all heads' scores at once, [n_heads, T, T_total].
            parallelFor(c.headCount) { heads in
                for h in heads { computeScores(h, into: scores(h)) }
            }
            let rows = c.headCount * count
            if hooks.wants(scoresHook) {
                maskInvisible(a.scores.pointer, layer: l, heads: c.headCount, total: total)
                observe(scoresHook, [c.headCount, count, total], a.scores.pointer)
                // Softmax over whole rows: the masked entries are -inf unless the observer unmasked them.
                // A row's trailing -inf entries get 0 without going through exp.
                parallelFor(rows, minimumChunk: 16) { rows in
                    for row in rows {
                        let pointer = a.scores.pointer + row * total
                        var finite = total
                        while finite > 0 && pointer[finite - 1] == -.infinity { finite -= 1 }
                        Kernels.softmax(pointer, count: finite)
                        (pointer + finite).update(repeating: 0, count: total - finite)
                    }
                }
            } else {
                parallelFor(rows, minimumChunk: 16) { rows in
                    causalSoftmax(a.scores.pointer, layer: l, rows: rows, total: total)
                }
            }
            observe(patternHook, [c.headCount, count, total], a.scores.pointer)
            // The observer may have put weight on masked positions: all of them take part.
            parallelFor(c.headCount) { heads in
                for h in heads { computeZ(h, from: scores(h), causal: false) }
            }
        } else {
            // Unobserved: one scores buffer per slot (thread), which takes the next head until none is left.
            let nextHead = HeadQueue(count: c.headCount)
            parallelFor(scoreSlots, chunksPerThread: 1) { slots in
                for slot in slots {
                    while let h = nextHead.take() {
                        computeScores(h, into: scores(slot))
                        causalSoftmax(scores(slot), layer: l, rows: 0..<count, total: total)
                        computeZ(h, from: scores(slot), causal: true)
                    }
                }
            }
        }
        observe(.block(l, .z), [count, c.headCount, headDim], z)

        // attn_out = z W_Oᵀ [T, d_model]
        w.output.linear(z, rows: count, into: a.blockOutput.pointer)
        if let b = w.outputBias { Kernels.addRows(a.blockOutput.pointer, rows: count, dim: d, bias: b.pointer) }
    }

    /// Sets the entries of [heads, T, total] scores a query may not see to -inf: later positions, and in a
    /// sliding-window layer those before the window.
    private func maskInvisible(_ scores: UnsafeMutablePointer<Float>, layer: Int, heads: Int, total: Int) {
        for head in 0..<heads {
            for i in 0..<count {
                let position = positions.lowerBound + i, visible = position + 1
                let row = scores + (head * count + i) * total
                row.update(repeating: -.infinity, count: c.firstVisible(layer: layer, position: position))
                (row + visible).update(repeating: -.infinity, count: total - visible)
            }
        }
    }

    /// Softmax of `rows` of [heads, T, total] scores over the positions each query may see; the rest become 0.
    private func causalSoftmax(_ scores: UnsafeMutablePointer<Float>, layer: Int, rows: Range<Int>, total: Int) {
        for row in rows {
            let position = positions.lowerBound + row % count, visible = position + 1
            let first = c.firstVisible(layer: layer, position: position)
            let pointer = scores + row * total
            pointer.update(repeating: 0, count: first)
            Kernels.softmax(pointer + first, count: visible - first)
            (pointer + visible).update(repeating: 0, count: total - visible)
        }
    }

    /// Gated MLP (SiLU or tanh-GELU) on `a.normalized`, into `a.blockOutput` (mlp_out, [T, d_model]).
    private func mlp(_ l: Int) {
        let w = weights.layers[l], d = c.modelDim, hidden = c.mlpDim
        let x = a.normalized.pointer, pre = a.mlpPre.pointer, preLinear = a.mlpPreLinear.pointer, post = a.mlpPost.pointer

        // pre = x W_gateᵀ, pre_linear = x W_upᵀ [T, d_mlp]
        w.gate.linear(x, rows: count, into: pre)
        if let b = w.gateBias { Kernels.addRows(pre, rows: count, dim: hidden, bias: b.pointer) }
        observe(.block(l, .mlpPre), [count, hidden], pre)
        if let up = w.up {
            up.linear(x, rows: count, into: preLinear)
            observe(.block(l, .mlpPreLinear), [count, hidden], preLinear)
            // post = act(pre) · pre_linear
            let gated = c.gateActivation == .silu ? Kernels.siluMultiply : Kernels.geluTanhMultiply
            parallelFor(count * hidden, minimumChunk: 1 << 14) { range in
                gated(pre + range.lowerBound, preLinear + range.lowerBound, post + range.lowerBound, range.count)
            }
        } else {
            // post = gelu(pre) (GPT-2)
            Kernels.geluTanh(pre, into: post, count: count * hidden)
        }
        observe(.block(l, .mlpPost), [count, hidden], post)

        // mlp_out = post W_downᵀ [T, d_model]
        w.down.linear(post, rows: count, into: a.blockOutput.pointer)
        if let b = w.downBias { Kernels.addRows(a.blockOutput.pointer, rows: count, dim: d, bias: b.pointer) }
    }

    /// logits = ln_final(resid_post) W_Uᵀ for the last `rows` positions        [rows, vocab]
    func unembed(rows: Int) -> Tensor {
        let d = c.modelDim, vocab = c.vocabularySize
        let lastRows = positions.upperBound - rows ..< positions.upperBound
        norm(a.residual.pointer + (count - rows) * d, rows: rows, weight: weights.finalNorm, bias: weights.finalNormBias,
                scaleHook: .lnFinalScale, normalizedHook: .lnFinalNormalized, positions: lastRows)
        var logits = Tensor(zeros: [rows, vocab])
        logits.data.withUnsafeMutableBufferPointer { out in
            weights.unembedding.linear(a.normalized.pointer, rows: rows, into: out.baseAddress!)
            observe(.logits, [rows, vocab], out.baseAddress!, positions: lastRows)
        }
        return logits
    }
}

/// Hands out 0, 1, 2 … `count − 1` once each to whichever thread asks next.
private final class HeadQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private let count: Int

    init(count: Int) { self.count = count }

    func take() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < count else { return nil }
        next += 1
        return next - 1
    }
}
