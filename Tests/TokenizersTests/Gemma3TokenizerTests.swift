import Testing
import Tokenizers

/// What is particular to Gemma 3's SentencePiece-style BPE (the corpus is in `GoldenCorpusTests`).
@Suite struct Gemma3TokenizerTests {
    let tokenizer: Tokenizer

    init() throws {
        tokenizer = try GoldenModel.gemma3.tokenizer()
    }

    @Test func readsTheFilesSettings() {
        #expect(tokenizer.vocabularySize == 262_144)
        #expect(tokenizer.bosID == 2)
        #expect(tokenizer.eosID == 1)
        // add_bos_token is true, even for empty text.
        #expect(tokenizer.encode("") == [2])
        #expect(tokenizer.encode("Hello world") == [2, 9259, 1902])
        #expect(tokenizer.encode("Hello world", addSpecialTokens: false) == [9259, 1902])
        #expect(tokenizer.encode("<bos>Hi", addSpecialTokens: false) == [2, 10979])
    }

    @Test func recognisesAddedTokensInText() {
        #expect(tokenizer.encode("<start_of_turn>user\nHi<end_of_turn>") == [2, 105, 2364, 107, 10979, 106])
        // Runs of newlines are user-defined tokens, matched whole and longest first.
        #expect(tokenizer.encode("\n\n\n") == [2, 109])
        #expect(tokenizer.isSpecial(105))
        #expect(tokenizer.isSpecial(0) && tokenizer.isSpecial(3))
        #expect(!tokenizer.isSpecial(5))  // [multimodal] is user-defined, not special
        #expect(!tokenizer.isSpecial(107))
        #expect(!tokenizer.isSpecial(9259))
    }

    /// The id of the token `<0xNN>` for `byte`.
    static func byteToken(_ byte: UInt8) -> Int32 {
        238 + Int32(byte)
    }

    @Test func fallsBackToBytesForCharactersOutsideTheVocabulary() {
        // U+10940 is F0 90 A5 80 in UTF-8.
        let bytes = [0xF0, 0x90, 0xA5, 0x80].map(Self.byteToken)
        #expect(tokenizer.encode("\u{10940}") == [2] + bytes)
        #expect(tokenizer.decode(bytes) == "\u{10940}")
        // An incomplete run of bytes becomes one U+FFFD per byte, as HF's ByteFallback decoder does.
        let truncated = [9259] + bytes.prefix(2) + [1902]
        #expect(scalars(tokenizer.decode(truncated)) == scalars("Hello\u{FFFD}\u{FFFD} world"))
    }

    @Test func piecesShowTokensAsText() {
        #expect(tokenizer.piece(1902) == " world")
        #expect(tokenizer.piece(138) == "  ")
        #expect(tokenizer.piece(105) == "<start_of_turn>")
        #expect(tokenizer.piece(Self.byteToken(0x41)) == "A")
        #expect(tokenizer.piece(Self.byteToken(0xE1)) == "<0xE1>")
    }
}
