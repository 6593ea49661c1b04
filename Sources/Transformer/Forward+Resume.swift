import Tensors

extension LanguageModel {
    /// Runs blocks `layer…` (and the unembedding) for `residual.shape[0]` positions starting at `cache.count`,
    /// with `residual` [T, d_model] as their `blocks.<layer>.hook_resid_pre`, and returns the logits as
    /// `forward` does. Layers before `layer` are skipped: their cache rows for these positions are left as
    /// they are, and the cache's count becomes `cache.count + T`.
    ///
    /// This is how a patch at layer L recomputes only what it changes: keep a cache whose earlier positions
    /// are valid (`truncate(to:)`), snapshot the residual entering L, edit it, and resume here.
    public func forward(
        resumingAt layer: Int, residual: Tensor, cache: KVCache, observer: HookObserver? = nil,
        logits rows: LogitRows = .all
    ) -> Tensor {
        precondition(cache.layerCount == config.layerCount && cache.rowWidth == config.kvDim,
                     "the cache was made for another model")
        let d = config.modelDim
        precondition((0...config.layerCount).contains(layer), "no layer \(layer) to resume at")
        precondition(residual.shape.count == 2 && residual.shape[1] == d, "a resumed pass takes a [T, \(d)] residual")
        let count = residual.shape[0]
        guard count > 0 else { return Tensor(zeros: [0, config.vocabularySize]) }
        let hooks = HookPlan(observer: observer, hookPoints: hookPoints)
        return withActivations { activations in
            // The tokens only feed the embedding, which a resumed pass does not run.
            let pass = ForwardPass(model: self, tokens: [Int32](repeating: 0, count: count), cache: cache,
                                   hooks: hooks, activations: activations)
            residual.data.withUnsafeBufferPointer { source in
                activations.residual.pointer.update(from: source.baseAddress!, count: count * d)
            }
            for l in layer..<config.layerCount { pass.block(l) }
            cache.count = pass.positions.upperBound
            return pass.unembed(rows: rows == .all ? count : 1)
        }
    }
}
