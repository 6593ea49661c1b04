import Foundation
@testable import Transformer

/// Gemma-3-270M (Q4_K_M) from the model directory, loaded once per test process like `SmolLM2`.
enum Gemma3 {
    static let url = SmolLM2.directory.appendingPathComponent("gemma-3-270m-q4_k_m.gguf")

    private static let loaded: Result<LanguageModel, Error> = Result { try LanguageModel.load(url) }

    static func model() throws -> LanguageModel { try loaded.get() }
}
