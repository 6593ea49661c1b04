import ModelFiles
import Testing
@testable import Tokenizers

/// What is particular to SmolLM2's byte-level BPE (the corpus is in `GoldenCorpusTests`).
@Suite struct SmolLM2TokenizerTests {
    let tokenizer: Tokenizer
    let reference: TokenizerReference

    init() throws {
        tokenizer = try GoldenModel.smolLM2.tokenizer()
        reference = try GoldenModel.smolLM2.reference()
    }

    @Test func preTokenizesTheCorpusAsHFDoes() {
        for testCase in reference.cases {
            var text = testCase.text
            var pieces: [String] = []
            text.withUTF8 { bytes in
                GPT2PreTokenizer.split(bytes, 0..<bytes.count) { range in
                    pieces.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
                }
            }
            #expect(pieces.map(scalars) == testCase.pieces?.map(scalars), "\(testCase.text.debugDescription)")
        }
    }

    @Test func readsTheFilesSettings() {
        #expect(tokenizer.vocabularySize == 49152)
        #expect(tokenizer.bosID == 1)
        #expect(tokenizer.eosID == 2)
        // add_bos_token is false: nothing is added, not even to empty text.
        #expect(tokenizer.encode("") == [])
        #expect(tokenizer.encode("Hello world") == [19556, 905])
    }

    @Test func recognisesSpecialTokensInText() {
        #expect(tokenizer.encode("<|im_start|>user\nHi<|im_end|>") == [1, 4093, 198, 26843, 2])
        // Near misses are ordinary text.
        #expect(!tokenizer.encode("<|im_start").contains(1))
        #expect(!tokenizer.encode("<|IM_START|>").contains(1))
        #expect((0...16).allSatisfy { tokenizer.isSpecial($0) })
        #expect(!tokenizer.isSpecial(17))
        #expect(!tokenizer.isSpecial(19556))
        #expect(tokenizer.decode([1, 4093, 198, 26843, 2]) == "<|im_start|>user\nHi<|im_end|>")
    }

    @Test func piecesShowTokensAsText() throws {
        #expect(tokenizer.piece(19556) == "Hello")
        #expect(tokenizer.piece(905) == " world")
        #expect(tokenizer.piece(198) == "\n")
        #expect(tokenizer.piece(1) == "<|im_start|>")
        // "ä" spells the lone byte 0xE4, which is not UTF-8 by itself.
        let vocabulary = try TokenizerVocabulary(gguf: GGUFFile(contentsOf: GoldenModel.smolLM2.url))
        let loneByte = try #require(vocabulary.tokens.firstIndex { $0.unicodeScalars.elementsEqual("ä".unicodeScalars) })
        #expect(tokenizer.piece(Int32(loneByte)) == "<0xE4>")
        #expect(tokenizer.piece(-1) == "")
        #expect(tokenizer.piece(49152) == "")
    }
}
