import Foundation
import ModelFiles
import Testing
@testable import Transformer

/// Tiny random-weight models saved by transformers (Tests/Golden/{gpt2,llama}-tiny, made by
/// scripts/make_hf_fixtures.py), loaded from their directories, and gpt2-tiny also from the GGUF files that
/// script converts it to, compared hook by hook with HF.
struct HuggingFaceTests {
    static func directory(_ name: String) -> URL {
        GoldenTests.directory.appendingPathComponent(name)
    }

    /// A model (a directory or a file under Tests/Golden) and the golden activations HF computed for it. HF
    /// loads gpt2-tiny.f32.gguf to the very activations of the safetensors model; the Q8_0 file has its own.
    @Test(arguments: [
        ("gpt2-tiny", "gpt2-tiny/golden.safetensors"),
        ("llama-tiny", "llama-tiny/golden.safetensors"),
        ("gpt2-tiny/gpt2-tiny.f32.gguf", "gpt2-tiny/golden.safetensors"),
        ("gpt2-tiny/gpt2-tiny.q8_0.gguf", "gpt2-tiny/golden.q8_0.safetensors"),
    ])
    func everyHookMatchesHF(name: String, goldenFile: String) throws {
        let model = try LanguageModel.load(Self.directory(name))
        let golden = try SafetensorsFile(contentsOf: Self.directory(goldenFile))
        let tokens = try golden.int32Values(named: "tokens")
        #expect(model.tokenizer.encode(try #require(golden.metadata["prompt"])) == tokens)
        #expect(Set(model.hookPoints.map(\.name)) == Set(golden.tensors.map(\.name)).subtracting(["tokens"]))
        let recorder = Recorder()
        let logits = try model.forward(tokens, cache: model.makeCache(), observer: recorder)
        var worstByKind: [String: Float] = [:]
        for hook in model.hookPoints {
            let expected = try golden.tensor(named: hook.name)
            let found = try #require(recorder.recorded[hook])
            #expect(found.shape == expected.shape, "\(hook)")
            #expect(found.shape == model.hookShape(hook, tokens: tokens.count), "\(hook)")
            let error = hookError(found.data, expected.data)
            #expect(error < 1e-5, "\(hook): \(error)")
            worstByKind[GoldenTests.kind(hook), default: 0] = max(worstByKind[GoldenTests.kind(hook), default: 0], error)
        }
        #expect(hookError(logits.data, try golden.tensor(named: "logits").data) < 1e-5)
        print("\(name) (\(tokens.count) tokens), worst error / maxabs per hook kind:")
        for (kind, error) in worstByKind.sorted(by: { $0.key < $1.key }) {
            print(String(format: "  %-22@ %.2e", kind as NSString, error))
        }
    }

    /// llama.cpp's GPT-2 layout reads to the same configuration and weights as HF's directory: the fused
    /// QKV split into its thirds, the Conv1D weights [out, in], W_U tied to W_E.
    @Test func gpt2GGUFHasTheSafetensorsWeights() throws {
        let hf = try LanguageModel.load(Self.directory("gpt2-tiny"))
        let gguf = try LanguageModel.load(Self.directory("gpt2-tiny/gpt2-tiny.f32.gguf"))
        #expect(gguf.config == hf.config)
        #expect(gguf.hookPoints == hf.hookPoints)
        #expect(gguf.weights.unembedding === gguf.weights.tokenEmbedding)
        func same(_ a: Parameter?, _ b: Parameter?, _ what: String) {
            #expect(a?.shape == b?.shape && a?.tensor.data == b?.tensor.data, "\(what)")
        }
        same(gguf.weights.tokenEmbedding, hf.weights.tokenEmbedding, "token embedding")
        same(gguf.weights.positionEmbedding, hf.weights.positionEmbedding, "position embedding")
        same(gguf.weights.finalNorm, hf.weights.finalNorm, "final norm")
        same(gguf.weights.finalNormBias, hf.weights.finalNormBias, "final norm bias")
        for (l, (a, b)) in zip(gguf.weights.layers, hf.weights.layers).enumerated() {
            let parts: [(String, (LayerWeights) -> Parameter?)] = [
                ("query", { $0.query }), ("key", { $0.key }), ("value", { $0.value }), ("query bias", { $0.queryBias }),
                ("key bias", { $0.keyBias }), ("value bias", { $0.valueBias }), ("output", { $0.output }),
                ("output bias", { $0.outputBias }), ("gate", { $0.gate }), ("gate bias", { $0.gateBias }),
                ("down", { $0.down }), ("down bias", { $0.downBias }), ("attention norm", { $0.attentionNorm }),
                ("attention norm bias", { $0.attentionNormBias }), ("mlp norm", { $0.mlpNorm }),
                ("mlp norm bias", { $0.mlpNormBias }), ("up", { $0.up }),
            ]
            for (what, part) in parts { same(part(a), part(b), "layer \(l) \(what)") }
        }
    }

    /// GPT-2 decoding through the cache gives the rows of one full pass, and positions beyond the learned
    /// position embeddings are refused.
    @Test func gpt2CacheAndContext() throws {
        let model = try LanguageModel.load(Self.directory("gpt2-tiny").appendingPathComponent("model.safetensors"))
        #expect(model.config.architecture == .gpt2 && model.config.contextLength == 32)
        let tokens: [Int32] = (0..<20).map { Int32($0 * 13 % 300) }
        let full = try model.forward(tokens, cache: model.makeCache())
        let cache = model.makeCache(capacity: 2), vocab = model.config.vocabularySize
        var start = 0
        for chunk in [5, 1, 1, 13] {
            let step = try model.forward(Array(tokens[start..<start + chunk]), cache: cache)
            #expect(hookError(step.data, Array(full.data[start * vocab..<(start + chunk) * vocab])) < 1e-5)
            start += chunk
        }
        #expect(throws: TransformerError.self) { try model.forward(Array(tokens[0..<13]), cache: cache) }
    }

    @Test func unsupportedModelTypeIsNamed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lmdbg-hf-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(#"{"model_type": "mamba"}"#.utf8).write(to: directory.appendingPathComponent("config.json"))
        #expect(throws: TransformerError.unsupportedArchitecture("mamba")) { try LanguageModel.load(directory) }
    }
}
