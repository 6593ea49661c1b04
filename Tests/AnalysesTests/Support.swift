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

/// A file of `Tests/Golden/analyses`, written by a script from HF transformers, with the settings (prompts,
/// tokens) it was made with in its metadata.
struct ReferenceFile: @unchecked Sendable {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    private let file: SafetensorsFile
    private let settings: [String: Any]

    init(_ name: String) throws {
        file = try SafetensorsFile(contentsOf: Self.repository.appendingPathComponent("Tests/Golden/analyses/\(name).safetensors"))
        settings = try JSONSerialization.jsonObject(with: Data(file.metadata["settings"]!.utf8)) as! [String: Any]
    }

    func tensor(_ name: String) throws -> Tensor { try file.tensor(named: name) }

    func integers(_ name: String) throws -> [Int32] { try file.int32Values(named: name) }

    func settings(_ analysis: String) -> [String: Any] { settings[analysis] as! [String: Any] }
}

/// `references.safetensors`, from scripts/make_analysis_references.py (SmolLM2).
enum References {
    static let repository = ReferenceFile.repository
    private static let loaded = Result { try ReferenceFile("references") }

    static func tensor(_ name: String) throws -> Tensor { try loaded.get().tensor(name) }

    static func integers(_ name: String) throws -> [Int32] { try loaded.get().integers(name) }

    /// One analysis's settings, e.g. `settings("sweep")["clean"]`.
    static func settings(_ analysis: String) throws -> [String: Any] { try loaded.get().settings(analysis) }
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
