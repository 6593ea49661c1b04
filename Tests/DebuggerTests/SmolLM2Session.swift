import Foundation
import ModelFiles
import Tensors
import Transformer
@testable import Debugger

/// SmolLM2-135M-Instruct from the model directory (`$LMDBG_MODELS`, else ~/.cache/lmdbg/models),
/// loaded once per test process for every debugger test on the real model.
enum SmolLM2 {
    private static let loaded: Result<LanguageModel, Error> = Result {
        try LanguageModel.load(ModelCatalog().resolve("smollm2"))
    }

    static func model() throws -> LanguageModel { try loaded.get() }

    static func session(budget: Int = 256 << 20) throws -> (DebugSession, EventLog) {
        let log = EventLog()
        return (DebugSession(model: try model(), memoryBudget: budget) { log.append($0) }, log)
    }

    /// One independent pass over `prompt` that records every hook (after `edit`, if any).
    static func reference(_ prompt: String, edit: ((ActivationView) -> Void)? = nil) throws -> (RecordingObserver, Tensor) {
        let model = try model()
        let recorder = RecordingObserver(edit: edit)
        let logits = try model.forward(model.tokenizer.encode(prompt), cache: model.makeCache(), observer: recorder)
        return (recorder, logits)
    }
}
