import Foundation
import ModelFiles
import Testing
@testable import Transformer

/// Tiny random-weight models saved by transformers (Tests/Golden/{gpt2,llama}-tiny, made by
/// scripts/make_hf_fixtures.py), loaded from their directories and compared hook by hook with HF.
struct HuggingFaceTests {
    static func directory(_ name: String) -> URL {
        GoldenTests.directory.appendingPathComponent(name)
    }

    @Test(arguments: ["gpt2-tiny", "llama-tiny"])
    func everyHookMatchesHF(name: String) throws {
        let model = try LanguageModel.load(Self.directory(name))
        let golden = try SafetensorsFile(contentsOf: Self.directory(name).appendingPathComponent("golden.safetensors"))
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
