import ArgumentParser
import Foundation
import Tensors
import Transformer

/// `lmdbg demo`: a prompt through the model, its next-token prediction and a logit-lens table.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a prompt and show the next-token prediction and the logit lens at the last position.")

    @OptionGroup var model: ModelOptions

    @Option(help: "The text to run.")
    var prompt = "The capital of France is"

    func run() throws {
        let lm = try model.load()
        let tokens = lm.tokenizer.encode(prompt)
        guard !tokens.isEmpty else { throw ValidationError("the prompt encodes to no tokens") }
        let recorder = ActivationRecorder(patterns: [HookPattern("blocks.*.hook_resid_post")])
        let logits = try lm.forward(tokens, cache: lm.makeCache(capacity: tokens.count), observer: recorder, logits: .last)

        print("prompt: \(prompt.debugDescription) (\(tokens.count) tokens)")
        print("\nnext token:")
        for score in logits.data.withUnsafeBufferPointer({ LanguageModel.topTokens($0, k: 5) }) {
            print("  \(quoted(lm, score.token).padding(toLength: 16, withPad: " ", startingAt: 0)) p=\(format(score.probability))  logit=\(format(score.logit))")
        }
        print("\nlogit lens at the last position (top token after each layer's hook_resid_post):")
        print("  layer  top token         p")
        let d = lm.config.modelDim
        for layer in 0..<lm.config.layerCount {
            guard let resid = recorder.activations[.block(layer, .residPost)] else { continue }
            let lastRow = Tensor(shape: [1, d], data: Array(resid.data.suffix(d)))
            let lens = lm.logitLens(lastRow)
            let top = lens.data.withUnsafeBufferPointer { LanguageModel.topTokens($0, k: 1) }[0]
            let layerText = String(layer).padding(toLength: 5, withPad: " ", startingAt: 0)
            print("  \(layerText)  \(quoted(lm, top.token).padding(toLength: 16, withPad: " ", startingAt: 0))  \(format(top.probability))")
        }
    }

    private func quoted(_ lm: LanguageModel, _ token: Int32) -> String { lm.tokenizer.piece(token).debugDescription }

    private func format(_ value: Float) -> String { String(format: "%.3f", value) }
}
