import ArgumentParser
import Foundation
import ModelFiles
import Transformer

/// `lmdbg trace`: one prompt through the model, its activations into a safetensors file.
struct Trace: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a prompt and write its activations to a safetensors file.",
        discussion: """
        The file holds `tokens` (int32 [pos]), `logits` (f32 [pos, vocab]), every hook point a --hooks
        pattern selects under its TransformerLens name (f32, no batch dimension), and `generated` (int32)
        when --max-new-tokens asks for new tokens. Activations are those of the prompt's pass.
        Patterns are globs: `blocks.*.hook_resid_post`, `blocks.3.attn.*`, or `*` for every hook point.
        """
    )

    @OptionGroup var model: ModelOptions

    @Option(help: "The text to run.")
    var prompt: String

    @Option(name: .customLong("hooks"), help: "A hook name or glob to record; repeat for several.")
    var hooks: [String] = []

    @Option(help: "Tokens to generate after the prompt.")
    var maxNewTokens = 0

    @OptionGroup var sampling: SamplingOptions

    @Option(help: "The safetensors file to write.")
    var out: String

    func validate() throws {
        guard maxNewTokens >= 0 else { throw ValidationError("--max-new-tokens must be 0 or more") }
    }

    func run() throws {
        let lm = try model.load()
        let patterns = hooks.map(HookPattern.init)
        for pattern in patterns where !lm.hookPoints.contains(where: pattern.matches) {
            throw ValidationError("--hooks '\(pattern)' matches no hook point of this model (try `*`, or see `lmdbg models`)")
        }
        let tokens = lm.tokenizer.encode(prompt)
        guard !tokens.isEmpty else { throw ValidationError("the prompt encodes to no tokens") }

        let cache = lm.makeCache(capacity: tokens.count + maxNewTokens)
        let recorder = ActivationRecorder(patterns: patterns)
        let logits = try lm.forward(tokens, cache: cache, observer: recorder, logits: .all)

        var file = SafetensorsWriter()
        file.metadata = ["prompt": prompt, "model": model.model]
        file.add("tokens", int32: tokens, shape: [tokens.count])
        file.add("logits", logits)
        for hook in recorder.order where hook != .logits {
            file.add(hook.name, recorder.activations[hook]!)
        }
        if maxNewTokens > 0 {
            var sampler = sampling.sampler
            let generated = try lm.generate(after: logits, cache: cache, count: maxNewTokens, sampler: &sampler)
            file.add("generated", int32: generated, shape: [generated.count])
            writeStderr("generated: \(lm.tokenizer.decode(generated).debugDescription)\n")
        }
        try file.write(to: URL(fileURLWithPath: out))
        writeStderr("wrote \(out): \(tokens.count) tokens, \(recorder.order.count) hook points\n")
    }
}
