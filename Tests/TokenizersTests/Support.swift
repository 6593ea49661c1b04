import Foundation
import ModelFiles
import Testing
import Tokenizers

/// Repository and model locations for the tests.
enum Paths {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let golden = repository.appendingPathComponent("Tests/Golden/tokenizer")
    static let models = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/lmdbg/models")
}

/// HF's output for one GGUF's tokenizer, written by scripts/make_tokenizer_references.py.
struct TokenizerReference: Decodable {
    struct Case: Decodable {
        var text: String
        var ids: [Int32]
        var decoded: String
        /// The pieces HF's pre-tokenizer cuts `text` into (byte-level models only).
        var pieces: [String]?
    }

    struct Decode: Decodable {
        var ids: [Int32]
        var text: String
    }

    var gguf: String
    var cases: [Case]
    var decodes: [Decode]

    static func load(_ name: String) throws -> TokenizerReference {
        let data = try Data(contentsOf: Paths.golden.appendingPathComponent("\(name).json"))
        return try JSONDecoder().decode(TokenizerReference.self, from: data)
    }
}

/// Tokenizers built once per model file and shared by the tests.
enum SharedTokenizers {
    static let smolLM2File = Paths.models.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf")
    static let smolLM2 = Result { try Tokenizer(gguf: GGUFFile(contentsOf: smolLM2File)) }

}

/// The scalars of `text`: Swift's `==` on strings ignores differences in Unicode normalisation.
func scalars(_ text: String) -> [Unicode.Scalar] {
    Array(text.unicodeScalars)
}
