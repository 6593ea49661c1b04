import Foundation
@testable import Transformer

/// SmolLM2-135M-Instruct from the model directory (`$LMDBG_MODELS`, else ~/.cache/lmdbg/models; `make test`
/// fetches it there), loaded once per test process and shared by every test that needs it.
enum SmolLM2 {
    static let url: URL = {
        let directory = ProcessInfo.processInfo.environment["LMDBG_MODELS"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/lmdbg/models").path
        return URL(fileURLWithPath: directory).appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf")
    }()

    /// Loading errors are kept and rethrown to every test that asks, so a missing model fails them all clearly.
    private static let loaded: Result<LanguageModel, Error> = Result { try LanguageModel.load(url) }

    static func model() throws -> LanguageModel { try loaded.get() }
}
