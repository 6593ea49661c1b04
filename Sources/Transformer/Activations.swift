/// The scratch buffers of one forward pass (llm.c's activation memory), sized for `tokens` new rows
/// attending to `positions` positions in all. They grow when a pass needs more and are reused after.
final class Activations {
    /// A float buffer that only grows.
    struct Buffer {
        private(set) var pointer = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        private(set) var capacity = 1

        mutating func reserve(_ count: Int) {
            guard count > capacity else { return }
            pointer.deallocate()
            pointer = .allocate(capacity: count)
            capacity = count
        }

        func free() { pointer.deallocate() }
    }

    /// [T, d_model] the residual stream: embed, then resid_pre / resid_mid / resid_post in turn
    var residual = Buffer()
    /// [T] an RMSNorm's scale (ln1, ln2, ln_final)
    var scale = Buffer()
    /// [T, d_model] an RMSNorm's output, × its weight: the input of attention, the MLP or the unembedding
    var normalized = Buffer()
    /// [T, n_heads] the QK-norm's scale of each head
    var headScale = Buffer()
    /// [T, n_heads, d_head] q, then rot_q in place
    var query = Buffer()
    /// [n_heads, T, T_total] when scores or patterns are observed; otherwise [threads, T, T_total], one per thread
    var scores = Buffer()
    /// [T, n_heads, d_head]
    var z = Buffer()
    /// [T, d_model] attn_out, then mlp_out
    var blockOutput = Buffer()
    /// [T, d_mlp]
    var mlpPre = Buffer()
    /// [T, d_mlp]
    var mlpPreLinear = Buffer()
    /// [T, d_mlp]
    var mlpPost = Buffer()

    func reserve(config c: ModelConfig, tokens: Int, positions: Int, scoreHeads: Int) {
        residual.reserve(tokens * c.modelDim)
        scale.reserve(tokens)
        headScale.reserve(tokens * c.headCount)
        normalized.reserve(tokens * c.modelDim)
        query.reserve(tokens * c.qDim)
        scores.reserve(scoreHeads * tokens * positions)
        z.reserve(tokens * c.qDim)
        blockOutput.reserve(tokens * c.modelDim)
        mlpPre.reserve(tokens * c.mlpDim)
        mlpPreLinear.reserve(tokens * c.mlpDim)
        mlpPost.reserve(tokens * c.mlpDim)
    }

    deinit {
        [residual, scale, headScale, normalized, query, scores, z, blockOutput, mlpPre, mlpPreLinear, mlpPost].forEach { $0.free() }
    }
}
