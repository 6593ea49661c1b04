import Foundation
import Tensors
import Testing
import Transformer
@testable import Debugger

/// The lens the debugger shows at a stop (`DebugModel.logitLens`) is the final norm and unembedding of the
/// forward pass: on the last residual it gives the model's own logits, LayerNorm's centring and bias included.
struct DebugModelLensTests {
    @Test func theLastResidualGivesGPT2sLogits() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Golden/gpt2-tiny")
        let model = try LanguageModel.load(directory)
        let tokens = model.tokenizer.encode("The lazy fox, naïve café 123")
        let last = HookPoint.block(model.config.layerCount - 1, .residPost)
        let recorder = ActivationRecorder(patterns: [HookPattern(last.name)])
        let logits = try model.forward(tokens, cache: model.makeCache(), observer: recorder)
        let residual = try #require(recorder.activations[last])
        let d = model.config.modelDim, vocabulary = model.config.vocabularySize
        let lens = model.logitLens(Array(residual.data[(tokens.count - 1) * d ..< tokens.count * d]))
        let output = Array(logits.data[(tokens.count - 1) * vocabulary ..< tokens.count * vocabulary])
        #expect(zip(lens, output).map { abs($0 - $1) }.max()! < 1e-4)
    }
}
