import Testing
@testable import Transformer

struct SmolLM2LoadTests {
    @Test func configFromMetadata() throws {
        let config = try SmolLM2.model().config
        #expect(config == ModelConfig(
            architecture: .llama, layerCount: 30, modelDim: 576, headCount: 9, kvHeadCount: 3, headDim: 64,
            mlpDim: 1536, vocabularySize: 49152, contextLength: 8192, ropeBase: 100_000, normEpsilon: 1e-5))
    }

    @Test func greedyTextIsSensible() throws {
        let model = try SmolLM2.model()
        let prompt = model.tokenizer.encode("The capital of France is")
        let cache = model.makeCache()
        var logits = try model.forward(prompt, cache: cache, logits: .last)
        var sampler = Sampler.greedy
        var generated: [Int32] = []
        for _ in 0..<8 {
            let next = sampler.sample(lastRowOf: logits)
            generated.append(next)
            logits = try model.forward([next], cache: cache, logits: .last)
        }
        let text = model.tokenizer.decode(generated)
        print("greedy: \(text)")
        #expect(text.contains("Paris"))
    }
}
