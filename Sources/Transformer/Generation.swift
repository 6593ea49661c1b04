import Tensors

extension LanguageModel {
    /// Samples up to `count` tokens after a pass whose logits' last row is `logits`, one forward pass
    /// per token through `cache`. Stops after the end-of-sequence token, which it includes, as HF's
    /// `generate` does. `observer` sees every generation pass.
    public func generate(
        after logits: Tensor, cache: KVCache, count: Int, sampler: inout Sampler, observer: HookObserver? = nil
    ) throws -> [Int32] {
        var generated: [Int32] = []
        var last = logits
        while generated.count < count {
            let token = sampler.sample(lastRowOf: last)
            generated.append(token)
            if token == tokenizer.eosID || generated.count == count { break }
            last = try forward([token], cache: cache, observer: observer, logits: .last)
        }
        return generated
    }
}
