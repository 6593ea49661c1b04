import Foundation
import ModelFiles
import Testing
import Tokenizers

/// One of llama.cpp's tokenizer test files: a tensorless GGUF holding a vocabulary, `NAME.inp` with the
/// texts and `NAME.out` with the ids llama.cpp's test-tokenizer-0 expects for each, one line per text.
struct LlamaCppVectors {
    let inputs: [String]
    let expected: [[Int32]]

    /// The separator between texts in `.inp`, as test-tokenizer-0 splits on it.
    static let separator = Array("\n__ggml_vocab_test__\n".utf8)

    init(gguf url: URL) throws {
        let inp = try [UInt8](Data(contentsOf: URL(fileURLWithPath: url.path + ".inp")))
        let out = try String(contentsOf: URL(fileURLWithPath: url.path + ".out"), encoding: .utf8)
        inputs = Self.split(inp).map { String(decoding: $0, as: UTF8.self) }
        expected = try out.split(separator: "\n", omittingEmptySubsequences: false).dropLast(out.hasSuffix("\n") ? 1 : 0)
            .map { line in
                try line.split(separator: " ").map { field in
                    guard let id = Int32(field) else { throw CocoaError(.fileReadCorruptFile) }
                    return id
                }
            }
    }

    /// `bytes` cut at each separator; a separator at the very end ends the last text, as in test-tokenizer-0.
    static func split(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var pieces: [ArraySlice<UInt8>] = []
        var start = 0, index = 0
        while index + separator.count <= bytes.count {
            if bytes[index..<index + separator.count].elementsEqual(separator) {
                pieces.append(bytes[start..<index])
                index += separator.count
                start = index
            } else {
                index += 1
            }
        }
        if start < bytes.count { pieces.append(bytes[start...]) }
        return pieces
    }
}

/// GPT-2's tokenizer, built from the metadata of llama.cpp's `ggml-vocab-gpt-2.gguf`, against the ids
/// llama.cpp's own tokenizer test expects. That test tokenizes without adding BOS (GPT-2 asks for none) and
/// without parsing special tokens; none of the texts holds one.
@Suite(.enabled(
    if: FileManager.default.fileExists(atPath: Paths.llamaCppGPT2.path),
    "llama.cpp's GPT-2 vocabulary is missing from \(Paths.llamaCppVocabularies.path): run scripts/bootstrap"))
struct LlamaCppGPT2Tests {
    let tokenizer: Tokenizer
    let vectors: LlamaCppVectors

    init() throws {
        tokenizer = try Tokenizer(gguf: GGUFFile(contentsOf: Paths.llamaCppGPT2))
        vectors = try LlamaCppVectors(gguf: Paths.llamaCppGPT2)
    }

    @Test func readsTheVectorFiles() {
        #expect(vectors.inputs.count == vectors.expected.count)
        #expect(vectors.inputs.count > 40)
        #expect(vectors.inputs.contains(""))
        #expect(vectors.expected.contains([15496, 995]))  // "Hello world"
    }

    @Test func readsTheVocabulary() throws {
        let vocabulary = try TokenizerVocabulary(gguf: GGUFFile(contentsOf: Paths.llamaCppGPT2))
        #expect(vocabulary.model == "gpt2" && vocabulary.preTokenizer == "gpt-2")
        #expect(!vocabulary.addBOS)
        #expect(tokenizer.vocabularySize == 50257)
        #expect(tokenizer.bosID == 50256 && tokenizer.eosID == 50256)
        #expect(tokenizer.isSpecial(50256))
    }

    @Test func encodesEveryTextToLlamaCppsIDs() {
        for (text, ids) in zip(vectors.inputs, vectors.expected) {
            #expect(tokenizer.encode(text) == ids, "\(text.debugDescription)")
        }
    }

    /// Byte-level BPE loses nothing: the expected ids decode to the text, and so do ours.
    @Test func decodesTheIDsBackToTheText() {
        for (text, ids) in zip(vectors.inputs, vectors.expected) {
            #expect(scalars(tokenizer.decode(ids)) == scalars(text), "\(ids)")
            #expect(scalars(tokenizer.decode(tokenizer.encode(text))) == scalars(text), "\(text.debugDescription)")
        }
    }
}
