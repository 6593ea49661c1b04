import Testing
import Tensors
import Transformer
@testable import Analyses

/// Direct logit attribution against HF transformers' per-head decomposition.
struct AttributionTests {
    @Test(arguments: ["difference", "single"])
    func matchesTheReferenceAndSumsToTheLogit(_ kind: String) throws {
        let model = try SmolLM2.model()
        let settings = try References.settings("dla")
        let target = LogitTarget(token: model.token(settings["target"] as! String),
                                 baseline: kind == "difference" ? model.token(settings["baseline"] as! String) : nil)
        let tokens = model.tokenizer.encode(settings["prompt"] as! String)
        let attribution = try model.directLogitAttribution(tokens: tokens, position: -1, target: target)
        #expect(attribution.position == tokens.count - 1)
        #expect(abs(attribution.total - attribution.logit) < 1e-3, "the components sum to the logit")
        let prefix = "dla.\(kind)"
        #expect(abs(attribution.logit - (try References.tensor("\(prefix).logit").data[0])) < 2e-3)
        #expect(abs(attribution.finalScale - (try References.tensor("\(prefix).scale").data[0])) < 1e-3)
        #expect(abs(attribution.embed - (try References.tensor("\(prefix).embed").data[0])) < 1e-3)
        #expect(maxDifference(attribution.heads.joined(), try References.tensor("\(prefix).heads").data) < 2e-3)
        #expect(maxDifference(attribution.mlps, try References.tensor("\(prefix).mlp").data) < 2e-3)
    }

    @Test func aDifferenceIsTheDifferenceOfTwoAttributions() throws {
        let model = try SmolLM2.model()
        let tokens = model.tokenizer.encode("When Mary and John went to the store, John gave a drink to")
        let mary = model.token(" Mary"), john = model.token(" John")
        let difference = try model.directLogitAttribution(tokens: tokens, position: -1, target: LogitTarget(token: mary, baseline: john))
        let a = try model.directLogitAttribution(tokens: tokens, position: -1, target: LogitTarget(token: mary))
        let b = try model.directLogitAttribution(tokens: tokens, position: -1, target: LogitTarget(token: john))
        #expect(maxDifference(difference.heads.joined(), zip(a.heads.joined(), b.heads.joined()).map { $0 - $1 }) < 1e-4)
        #expect(abs(difference.logit - (a.logit - b.logit)) < 1e-4)
        #expect(abs(difference.total - difference.logit) < 1e-3)
    }
}
