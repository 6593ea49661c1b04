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
}
