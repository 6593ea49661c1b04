import Testing
import Tokenizers

/// Every model's tokenizer against HF's tokenizer loaded from the same GGUF.
@Suite struct GoldenCorpusTests {
    @Test(arguments: GoldenModel.all)
    func encodesTheCorpusToHFsIDs(model: GoldenModel) throws {
        let tokenizer = try model.tokenizer()
        let reference = try model.reference()
        #expect(reference.gguf == model.file)
        for testCase in reference.cases {
            #expect(tokenizer.encode(testCase.text) == testCase.ids, "\(testCase.text.debugDescription)")
        }
    }

    @Test(arguments: GoldenModel.all)
    func decodesTheCorpusAsHFDoes(model: GoldenModel) throws {
        let tokenizer = try model.tokenizer()
        for testCase in try model.reference().cases {
            #expect(scalars(tokenizer.decode(testCase.ids)) == scalars(testCase.decoded), "\(testCase.ids)")
        }
    }

    @Test(arguments: GoldenModel.all)
    func decodesArbitraryIDSequencesAsHFDoes(model: GoldenModel) throws {
        let tokenizer = try model.tokenizer()
        for decode in try model.reference().decodes {
            #expect(scalars(tokenizer.decode(decode.ids)) == scalars(decode.text), "\(decode.ids)")
        }
    }

    @Test(arguments: GoldenModel.all)
    func decodingReproducesTheText(model: GoldenModel) throws {
        let tokenizer = try model.tokenizer()
        for testCase in try model.reference().cases {
            let ids = tokenizer.encode(testCase.text)
            let text = tokenizer.decode(Array(ids.dropFirst(model.addsBOS ? 1 : 0)))
            #expect(scalars(text) == scalars(testCase.text), "\(testCase.text.debugDescription)")
        }
    }
}
