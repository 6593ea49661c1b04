import Foundation
import ModelFiles
import Testing
@testable import Transformer

/// SmolLM2 and Gemma 3 against HF transformers' activations (Tests/Golden/<model>, made by
/// scripts/make_references.py): every hook point on sampled entries, a few full tensors, the last logits,
/// and the greedy continuation.
struct GoldenTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Golden")

    static let models = ["smollm2", "gemma3"]

    static func golden(_ model: String, _ prompt: Int) throws -> SafetensorsFile {
        try SafetensorsFile(contentsOf: directory.appendingPathComponent("\(model)/prompt\(prompt).safetensors"))
    }

    static func model(_ name: String) throws -> LanguageModel {
        name == "gemma3" ? try Gemma3.model() : try SmolLM2.model()
    }

    /// Error relative to the golden tensor's max |value|; -inf must meet -inf.
    static func error(found: [Float], expected: [Float], maxabs: Float) -> Float {
        var worst: Float = 0
        for (x, y) in zip(found, expected) {
            if x.isInfinite || y.isInfinite {
                if x != y { return .infinity }
            } else {
                worst = max(worst, abs(x - y) / max(maxabs, .leastNormalMagnitude))
            }
        }
        return worst
    }

    /// The hook's kind, for reporting: `blocks.7.attn.hook_q` → `attn.hook_q`.
    static func kind(_ hook: HookPoint) -> String {
        if case .block(_, let blockHook) = hook { return blockHook.rawValue }
        return hook.name
    }

    @Test(arguments: models, 0..<3)
    func everyHookMatchesHF(name: String, prompt: Int) throws {
        let golden = try Self.golden(name, prompt)
        let model = try Self.model(name)
        let tokens = try golden.int32Values(named: "tokens")
        if let text = golden.metadata["prompt"] {
            #expect(model.tokenizer.encode(text) == tokens)
        }
        let recorder = Recorder()
        let logits = try model.forward(tokens, cache: model.makeCache(), observer: recorder)

        var worstByKind: [String: Float] = [:]
        for hook in model.hookPoints {
            let found = try #require(recorder.recorded[hook])
            let shape = try golden.int32Values(named: hook.name + ".shape").map(Int.init)
            #expect(found.shape == shape, "\(hook)")
            guard found.shape == shape else { continue }
            let index = try golden.int32Values(named: hook.name + ".index")
            let expected = try golden.tensor(named: hook.name).data
            let maxabs = try golden.tensor(named: hook.name + ".maxabs").data[0]
            let error = Self.error(found: index.map { found.data[Int($0)] }, expected: expected, maxabs: maxabs)
            #expect(error < 1e-4, "\(hook): \(error) of maxabs \(maxabs)")
            worstByKind[Self.kind(hook), default: 0] = max(worstByKind[Self.kind(hook), default: 0], error)
        }
        for info in golden.tensors where info.name.hasPrefix("full.") {
            let hook = try #require(HookPoint(name: String(info.name.dropFirst("full.".count))))
            let expected = try golden.tensor(named: info.name)
            let found = try #require(recorder.recorded[hook])
            #expect(found.shape == expected.shape, "\(info.name)")
            let maxabs = try golden.tensor(named: hook.name + ".maxabs").data[0]
            let error = Self.error(found: found.data, expected: expected.data, maxabs: maxabs)
            #expect(error < 1e-4, "\(info.name): \(error)")
        }
        let vocab = model.config.vocabularySize
        let lastLogits = Array(logits.data[(tokens.count - 1) * vocab..<tokens.count * vocab])
        let expectedLogits = try golden.tensor(named: "logits.last").data
        let logitsError = Self.error(found: lastLogits, expected: expectedLogits,
                                     maxabs: expectedLogits.map(abs).max() ?? 1)
        #expect(logitsError < 1e-4)
        worstByKind["logits.last"] = logitsError

        print("\(name) prompt \(prompt) (\(tokens.count) tokens), worst error / maxabs per hook kind:")
        for (kind, error) in worstByKind.sorted(by: { $0.key < $1.key }) {
            print(String(format: "  %-22@ %.2e", kind as NSString, error))
        }
    }

    /// Decoding HF's greedy continuation with the cache, token by token: each step's argmax is HF's
    /// next token unless HF's top-1/top-2 margin is a near-tie, and the margins agree.
    @Test(arguments: models, 0..<3)
    func greedyMatchesHF(name: String, prompt: Int) throws {
        let golden = try Self.golden(name, prompt)
        let model = try Self.model(name)
        let greedy = try golden.int32Values(named: "greedy")
        let margins = try golden.tensor(named: "greedy.margin").data
        let cache = model.makeCache()
        var logits = try model.forward(golden.int32Values(named: "tokens"), cache: cache, logits: .last)
        var mine: [Int32] = []
        for (step, token) in greedy.enumerated() {
            let (best, margin) = logits.data.withUnsafeBufferPointer { row in
                let best = Sampler.argmax(row)
                let second = row.indices.filter { $0 != best }.map { row[$0] }.max()!
                return (best, row[best] - second)
            }
            mine.append(Int32(best))
            if margins[step] > 0.01 {
                #expect(Int32(best) == token, "step \(step): HF margin \(margins[step])")
            }
            if Int32(best) == token {
                #expect(abs(margin - margins[step]) < 2e-3, "step \(step): margin \(margin) vs HF \(margins[step])")
            }
            // Teacher-forced: the next step runs HF's token, so a near-tie does not derail the rest.
            logits = try model.forward([token], cache: cache, logits: .last)
        }
        print("\(name) prompt \(prompt) greedy: \(model.tokenizer.decode(mine).debugDescription)")
    }
}
