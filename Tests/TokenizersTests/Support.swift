import Foundation
import ModelFiles
import Testing
import Tokenizers

/// Repository and model locations for the tests.
enum Paths {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let golden = repository.appendingPathComponent("Tests/Golden/tokenizer")
    static let models = ModelCatalog().directory
    /// llama.cpp's tokenizer test vectors, which scripts/bootstrap extracts from the llama-cpp-python sdist.
    static let llamaCppVocabularies = models.appendingPathComponent("vocab")
    static let llamaCppGPT2 = llamaCppVocabularies.appendingPathComponent("ggml-vocab-gpt-2.gguf")
}

/// A model whose tokenizer is checked against HF's, with its golden file in Tests/Golden/tokenizer.
struct GoldenModel: Sendable, CustomTestStringConvertible {
    var name: String
    var file: String
    /// Where `file` is: the bootstrapped models, or the repository's Tests/Golden.
    var directory = Paths.models
    /// Whether the file asks for BOS, so that every encoding starts with it.
    var addsBOS: Bool
    var tokenizer: @Sendable () throws -> Tokenizer

    var testDescription: String { name }

    static let smolLM2 = GoldenModel(name: "smollm2", file: SharedTokenizers.smolLM2File, addsBOS: false) {
        try SharedTokenizers.smolLM2.get()
    }
    static let gemma3 = GoldenModel(name: "gemma3", file: SharedTokenizers.gemma3File, addsBOS: true) {
        try SharedTokenizers.gemma3.get()
    }
    /// The tiny GPT-2 of scripts/make_hf_fixtures.py, its tokenizer in the GGUF that script writes.
    static let gpt2Tiny = GoldenModel(
        name: "gpt2-tiny", file: SharedTokenizers.gpt2TinyFile, directory: SharedTokenizers.gpt2TinyDirectory, addsBOS: false
    ) {
        try SharedTokenizers.gpt2Tiny.get()
    }
    static let all = [smolLM2, gpt2Tiny, gemma3]

    var url: URL { directory.appendingPathComponent(file) }

    func reference() throws -> TokenizerReference {
        let data = try Data(contentsOf: Paths.golden.appendingPathComponent("\(name).json"))
        return try JSONDecoder().decode(TokenizerReference.self, from: data)
    }
}

/// Tokenizers built once per model file and shared by the tests.
enum SharedTokenizers {
    static let smolLM2File = "SmolLM2-135M-Instruct.Q4_1.gguf"
    static let gemma3File = "gemma-3-270m-q4_k_m.gguf"
    static let gpt2TinyFile = "gpt2-tiny.f32.gguf"
    static let gpt2TinyDirectory = Paths.repository.appendingPathComponent("Tests/Golden/gpt2-tiny")
    static let smolLM2 = Result { try load(smolLM2File) }
    static let gemma3 = Result { try load(gemma3File) }
    static let gpt2Tiny = Result { try load(gpt2TinyFile, in: gpt2TinyDirectory) }

    static func load(_ file: String, in directory: URL = Paths.models) throws -> Tokenizer {
        try Tokenizer(gguf: GGUFFile(contentsOf: directory.appendingPathComponent(file)))
    }
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
}

/// The scalars of `text`: Swift's `==` on strings ignores differences in Unicode normalisation.
func scalars(_ text: String) -> [Unicode.Scalar] {
    Array(text.unicodeScalars)
}
