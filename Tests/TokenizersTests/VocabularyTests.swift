import Testing
@testable import Tokenizers

/// Tokenizers built from small hand-written vocabularies: merge order, BOS/EOS, and load errors.
@Suite struct VocabularyTests {
    static let tokens = ["<s>", "</s>", "a", "b", "c", "ab", "bc", "aa", "Ġ", "Ġa"]

    static func byteLevel(merges: [String], addBOS: Bool = false, addEOS: Bool = false) throws -> Tokenizer {
        try Tokenizer(vocabulary: TokenizerVocabulary(
            model: "gpt2", preTokenizer: "gpt2", tokens: tokens,
            tokenTypes: [.control, .control] + Array(repeating: .normal, count: tokens.count - 2),
            merges: merges, bosID: 0, eosID: 1, addBOS: addBOS, addEOS: addEOS))
    }

    @Test func lowerRankMergesFirst() throws {
        #expect(try Self.byteLevel(merges: ["b c", "a b"]).encode("abc") == [2, 6])
        #expect(try Self.byteLevel(merges: ["a b", "b c"]).encode("abc") == [5, 4])
    }

    @Test func aLaterRuleForTheSamePairReplacesTheEarlier() throws {
        #expect(try Self.byteLevel(merges: ["b c", "a b", "b c"]).encode("abc") == [5, 4])
    }

    @Test func equalRanksMergeLeftmostFirst() throws {
        #expect(try Self.byteLevel(merges: ["a a"]).encode("aaa") == [7, 2])
    }

    @Test func bytesMissingFromTheVocabularyAreDropped() throws {
        #expect(try Self.byteLevel(merges: ["Ġ a"]).encode("x a") == [9])
    }

    @Test func addsBOSAndEOSWhenAsked() throws {
        let tokenizer = try Self.byteLevel(merges: ["a b"], addBOS: true, addEOS: true)
        #expect(tokenizer.encode("ab") == [0, 5, 1])
        #expect(tokenizer.encode("") == [0, 1])
        #expect(tokenizer.encode("<s>") == [0, 0, 1])
    }

    @Test func rejectsWhatItCannotTokenize() {
        func error(_ change: (inout TokenizerVocabulary) -> Void) -> TokenizerError? {
            var vocabulary = TokenizerVocabulary(model: "gpt2", preTokenizer: "gpt2", tokens: Self.tokens)
            change(&vocabulary)
            do {
                _ = try Tokenizer(vocabulary: vocabulary)
                return nil
            } catch {
                return error as? TokenizerError
            }
        }
        #expect(error { _ in } == nil)
        #expect(error { $0.model = "bert" } == .unsupportedModel("bert"))
        #expect(error { $0.preTokenizer = "qwen2" } == .unsupportedPreTokenizer("qwen2"))
        #expect(error { $0.merges = ["a x"] } == .invalidMerge("a x"))
        #expect(error { $0.merges = ["a c"] } == .invalidMerge("a c"))
        #expect(error { $0.merges = ["abc"] } == .invalidMerge("abc"))
        #expect(error { $0.bosID = 10 } == .tokenIDOutOfRange(name: "bos", id: 10))
    }
}

/// SentencePiece vocabularies are read per model family.
@Suite struct SentencePieceVocabularyTests {
    @Test func rejectsFamiliesItDoesNotKnow() {
        let vocabulary = TokenizerVocabulary(model: "llama", architecture: "llama", tokens: ["<unk>", "a"])
        #expect(throws: TokenizerError.unsupportedArchitecture("llama")) { try Tokenizer(vocabulary: vocabulary) }
    }

    @Test func derivesMergesFromTokenOrderWhenTheFileHasNone() throws {
        // "ab" comes before "bc", so in "abc" it merges first, whatever the scores say.
        let tokens = ["<unk>", "a", "b", "c", "ab", "bc", "\u{2581}", "\u{2581}a"]
        let tokenizer = try Tokenizer(vocabulary: TokenizerVocabulary(
            model: "llama", architecture: "gemma3", tokens: tokens, scores: [0, 0, 0, 0, -5, 5, 0, 0], unknownID: 0))
        #expect(tokenizer.encode("abc") == [4, 3])
        #expect(tokenizer.encode("c a") == [3, 7])
        // Characters with neither a token nor byte tokens become one unknown token per run.
        #expect(tokenizer.encode("xyza") == [0, 1])
        #expect(tokenizer.decode([3, 7]) == "c a")
    }
}
