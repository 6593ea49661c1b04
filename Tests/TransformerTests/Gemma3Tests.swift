import Testing
@testable import Transformer

/// Gemma-3-270M itself: configuration from the GGUF metadata, and the KV cache.
struct Gemma3Tests {
    @Test func configFromMetadata() throws {
        let config = try Gemma3.model().config
        #expect(config == ModelConfig(
            architecture: .gemma3, layerCount: 18, modelDim: 640, headCount: 4, kvHeadCount: 1, headDim: 256,
            mlpDim: 2048, vocabularySize: 262_144, contextLength: 32768, ropeBase: 1_000_000, normEpsilon: 1e-6,
            attentionScale: 1.0 / 16, embeddingScale: Float(640.0.squareRoot()), slidingWindow: 512,
            slidingWindowPattern: 6, localRopeBase: 10000, queryKeyNorm: true, postSublayerNorm: true,
            gateActivation: .geluTanh))
        #expect((0..<18).filter { !config.isSliding($0) } == [5, 11, 17])
        #expect(config.ropeBase(layer: 5) == 1_000_000 && config.ropeBase(layer: 4) == 10000)
        #expect(config.firstVisible(layer: 0, position: 600) == 89 && config.firstVisible(layer: 5, position: 600) == 0)
        #expect(try Gemma3.model().tokenizer.encode("Hi").first == 2) // BOS
    }

    /// Token by token (and in chunks) through the cache gives the logits of one pass over the whole sequence.
    @Test func cacheMatchesFullRecomputation() throws {
        let model = try Gemma3.model()
        let tokens = model.tokenizer.encode(
            "<start_of_turn>user\nWhat is a KV cache? Answer briefly.<end_of_turn>\n<start_of_turn>model\nA KV cache")
        let full = try model.forward(tokens, cache: model.makeCache())
        let vocab = model.config.vocabularySize
        let cache = model.makeCache(capacity: 4)
        var worst: Float = 0, start = 0
        for chunk in [7, 1, 1, 5] + Array(repeating: 1, count: tokens.count - 14) {
            let step = try model.forward(Array(tokens[start..<start + chunk]), cache: cache)
            worst = max(worst, hookError(step.data, Array(full.data[start * vocab..<(start + chunk) * vocab])))
            start += chunk
        }
        #expect(cache.count == tokens.count)
        #expect(worst < 1e-4)
        print("gemma3 cache vs full recomputation over \(tokens.count) tokens: worst error / maxabs \(worst)")
    }
}
