import Tensors
import Transformer

extension LanguageModel: DebugModel {
    public func hookShape(_ hook: HookPoint, positions: Int, keyPositions: Int) -> [Int] {
        hookShape(hook, tokens: positions, cached: keyPositions - positions) ?? []
    }

    public var vocabularySize: Int { config.vocabularySize }

    public func tokenize(_ text: String) -> [Int32] { tokenizer.encode(text) }

    public func detokenize(_ tokens: [Int32]) -> String { tokenizer.decode(tokens) }

    public func piece(_ token: Int32) -> String { tokenizer.piece(token) }

    public func isEndOfGeneration(_ token: Int32) -> Bool { token == tokenizer.eosID }

    /// `ln_final(x) W_Uᵀ`, as the forward pass computes `logits` from the last residual (Transformer's lens).
    public func logitLens(_ residual: [Float]) -> [Float] {
        precondition(residual.count == config.modelDim, "the logit lens needs a [\(config.modelDim)] residual vector")
        return logitLens(Tensor(shape: [1, config.modelDim], data: residual)).data
    }

    public func startGeneration(sampling: SamplingOptions) -> ModelGeneration {
        LanguageModelGeneration(model: self, sampler: Sampler(temperature: sampling.temperature, topK: sampling.topK ?? 0,
                                                             topP: sampling.topP ?? 1, seed: sampling.seed))
    }
}

/// A generation on the real engine: its KV cache and sampler.
private final class LanguageModelGeneration: ModelGeneration {
    let model: LanguageModel
    let cache: KVCache
    var sampler: Sampler

    init(model: LanguageModel, sampler: Sampler) {
        self.model = model
        self.sampler = sampler
        cache = model.makeCache()
    }

    /// Computes every position's logits, so that the `logits` and `ln_final` hooks cover the whole prompt.
    func forward(_ tokens: [Int32], observer: HookObserver?) throws -> [Float] {
        let logits = try model.forward(tokens, cache: cache, observer: observer, logits: .all)
        let vocabulary = model.config.vocabularySize
        return Array(logits.data[(logits.count - vocabulary)...])
    }

    func sample(_ logits: [Float]) -> Int32 {
        logits.withUnsafeBufferPointer { sampler.sample($0) }
    }
}
