import Foundation
import ModelFiles
@testable import Transformer

/// SmolLM2-135M-Instruct from the model directory (`$LMDBG_MODELS`, else ~/.cache/lmdbg/models; `make test`
/// fetches it there), loaded once per test process and shared by every test that needs it.
enum SmolLM2 {
    static let directory = ModelCatalog().directory
    static let url = directory.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf")

    /// Loading errors are kept and rethrown to every test that asks, so a missing model fails them all clearly.
    /// The progress reports of the load are kept too.
    private static let loaded: Result<(LanguageModel, [(Double, String)]), Error> = Result {
        var progress: [(Double, String)] = []
        let model = try LanguageModel.load(url) { progress.append(($0, $1)) }
        return (model, progress)
    }

    static func model() throws -> LanguageModel { try loaded.get().0 }

    static func loadProgress() throws -> [(fraction: Double, tensor: String)] { try loaded.get().1 }
}
