import Testing
@testable import Transformer

/// SmolLM2 itself: configuration, the KV cache, and a patch checked against an independent computation.
struct SmolLM2Tests {
    @Test func configFromMetadata() throws {
        let config = try SmolLM2.model().config
        #expect(config == ModelConfig(
            architecture: .llama, layerCount: 30, modelDim: 576, headCount: 9, kvHeadCount: 3, headDim: 64,
            mlpDim: 1536, vocabularySize: 49152, contextLength: 8192, ropeBase: 100_000, normEpsilon: 1e-5))
        #expect(try SmolLM2.model().hookPoints.count == 1 + 30 * 20 + 3)
    }

    @Test func loadReportsProgress() throws {
        let progress = try SmolLM2.loadProgress()
        #expect(progress.count == 2 + 30 * 9) // token_embd, output_norm and 9 tensors per layer; W_U is tied
        #expect(zip(progress, progress.dropFirst()).allSatisfy { $0.fraction < $1.fraction })
        #expect(progress.last?.fraction == 1)
        #expect(progress.contains { $0.tensor == "blk.29.ffn_down.weight" })
    }

    /// Token by token through the cache gives the logits of one pass over the whole sequence.
    @Test func cacheMatchesFullRecomputation() throws {
        let model = try SmolLM2.model()
        let tokens = model.tokenizer.encode("<|im_start|>user\nWhat is a KV cache?<|im_end|>\n<|im_start|>assistant\nA cache")
        let full = try model.forward(tokens, cache: model.makeCache())
        let vocab = model.config.vocabularySize
        let cache = model.makeCache(capacity: 4)
        var worst: Float = 0
        for (t, token) in tokens.enumerated() {
            let step = try model.forward([token], cache: cache)
            let row = Array(full.data[t * vocab..<(t + 1) * vocab])
            worst = max(worst, hookError(step.data, row))
        }
        #expect(cache.count == tokens.count)
        #expect(worst < 1e-4)
        print("cache vs full recomputation over \(tokens.count) tokens: worst error / maxabs \(worst)")
    }

    /// Zeroing blocks.3.hook_attn_out changes the logits to exactly what the reference forward pass,
    /// written separately from the engine, computes with the same edit.
    @Test func zeroingAttentionOutputMatchesReference() throws {
        let model = try SmolLM2.model()
        let tokens = model.tokenizer.encode("The capital of France is")
        let target = HookPoint.block(3, .attnOut)
        let zero = Recorder(wanted: { $0 == target }, edit: { hook, data in
            if hook == target { data.update(repeating: 0) }
        })
        let patched = try model.forward(tokens, cache: model.makeCache(), observer: zero)
        let plain = try model.forward(tokens, cache: model.makeCache())
        let reference = referenceForward(model, tokens: tokens) { hook, value in
            if hook == target { value = [Float](repeating: 0, count: value.count) }
        }
        #expect(zero.recorded[target]?.data.allSatisfy { $0 == 0 } == true)
        #expect(hookError(patched.data, reference.logits) < 1e-4)
        #expect(hookError(patched.data, plain.data) > 1e-2)
    }
}
