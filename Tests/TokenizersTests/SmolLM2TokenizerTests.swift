import ModelFiles
import Testing
@testable import Tokenizers

/// SmolLM2's byte-level BPE against HF's tokenizer loaded from the same GGUF.
@Suite struct SmolLM2TokenizerTests {
    let tokenizer: Tokenizer
    let reference: TokenizerReference

    init() throws {
        tokenizer = try SharedTokenizers.smolLM2.get()
        reference = try TokenizerReference.load("smollm2")
    }

    @Test func encodesTheCorpusToHFsIDs() {
        for testCase in reference.cases {
            #expect(tokenizer.encode(testCase.text) == testCase.ids, "\(testCase.text.debugDescription)")
        }
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

    @Test func decodesTheCorpusAsHFDoes() {
        for testCase in reference.cases {
            #expect(scalars(tokenizer.decode(testCase.ids)) == scalars(testCase.decoded), "\(testCase.ids)")
        }
    }

    @Test func decodingReproducesTheText() {
        for testCase in reference.cases {
            #expect(scalars(tokenizer.decode(tokenizer.encode(testCase.text))) == scalars(testCase.text),
                    "\(testCase.text.debugDescription)")
        }
    }

    @Test func decodesArbitraryIDSequencesAsHFDoes() {
        for decode in reference.decodes {
            #expect(scalars(tokenizer.decode(decode.ids)) == scalars(decode.text), "\(decode.ids)")
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
        let vocabulary = try TokenizerVocabulary(gguf: GGUFFile(contentsOf: SharedTokenizers.smolLM2File))
        let loneByte = try #require(vocabulary.tokens.firstIndex { $0.unicodeScalars.elementsEqual("ä".unicodeScalars) })
        #expect(tokenizer.piece(Int32(loneByte)) == "<0xE4>")
        #expect(tokenizer.piece(-1) == "")
        #expect(tokenizer.piece(49152) == "")
    }
}
