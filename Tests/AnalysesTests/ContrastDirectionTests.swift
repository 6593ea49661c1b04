import Testing
import Tensors
import Transformer
@testable import Analyses

/// Contrast directions against HF transformers' (the steering itself is tested through the debugger's patches).
struct ContrastDirectionTests {
    @Test(arguments: [(ContrastReduction.lastPosition, "steer.direction"), (.meanOverPositions, "steer.direction.mean")])
    func matchesTheReference(_ reduction: ContrastReduction, _ name: String) throws {
        let model = try SmolLM2.model()
        let settings = try References.settings("steer")
        let pairs = (settings["pairs"] as! [[String]]).map {
            ContrastPair(positive: model.tokenizer.encode($0[0]), negative: model.tokenizer.encode($0[1]))
        }
        let direction = try model.contrastDirection(pairs: pairs, hook: .block(settings["layer"] as! Int, .residPre),
                                                    reduction: reduction)
        let reference = try References.tensor(name)
        let norm = reference.data.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(direction.shape == [model.config.modelDim])
        #expect(maxDifference(direction.data, reference.data) < 1e-3 * norm)
    }

    @Test func refusesHooksWithoutARowPerPosition() throws {
        let model = try SmolLM2.model()
        let pair = ContrastPair(positive: [1, 2], negative: [3])
        #expect(throws: AnalysisError.self) { try model.contrastDirection(pairs: [pair], hook: .block(0, .pattern), reduction: .lastPosition) }
        #expect(throws: AnalysisError.self) { try model.contrastDirection(pairs: [], hook: .block(0, .residPre), reduction: .lastPosition) }
    }
}
