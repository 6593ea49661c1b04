import Foundation
import ModelFiles
import Tensors
import Transformer

/// SmolLM2-135M-Instruct from the model directory (`$LMDBG_MODELS`, else ~/.cache/lmdbg/models), loaded once.
enum SmolLM2 {
    private static let loaded: Result<LanguageModel, Error> = Result {
        try LanguageModel.load(ModelCatalog().resolve("smollm2"))
    }

    static func model() throws -> LanguageModel { try loaded.get() }
}

/// `Tests/Golden/analyses/references.safetensors`, written by scripts/make_analysis_references.py from HF
/// transformers, and the settings (prompts, tokens) it was made with.
enum References {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    private static let loaded: Result<(SafetensorsFile, [String: Any]), Error> = Result {
        let file = try SafetensorsFile(contentsOf: repository.appendingPathComponent("Tests/Golden/analyses/references.safetensors"))
        let settings = try JSONSerialization.jsonObject(with: Data(file.metadata["settings"]!.utf8)) as! [String: Any]
        return (file, settings)
    }

    static func tensor(_ name: String) throws -> Tensor { try loaded.get().0.tensor(named: name) }

    static func integers(_ name: String) throws -> [Int32] { try loaded.get().0.int32Values(named: name) }

    /// One analysis's settings, e.g. `settings("sweep")["clean"]`.
    static func settings(_ analysis: String) throws -> [String: Any] { try loaded.get().1[analysis] as! [String: Any] }
}

extension LanguageModel {
    /// The id of a text that is one token.
    func token(_ text: String) -> Int32 {
        let tokens = tokenizer.encode(text)
        precondition(tokens.count == 1, "'\(text)' is \(tokens.count) tokens")
        return tokens[0]
    }
}

/// The largest absolute difference between two equally long float sequences.
func maxDifference(_ a: some Collection<Float>, _ b: some Collection<Float>) -> Float {
    precondition(a.count == b.count, "\(a.count) vs \(b.count) values")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
