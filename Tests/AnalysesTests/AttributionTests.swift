import Foundation
import ModelFiles
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
        // LLaMA's W_O has no bias: each layer's attention output is its heads' sum.
        #expect(maxDifference(attribution.attention, attribution.heads.map { $0.reduce(0, +) }) < 1e-4)
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

/// Direct logit attribution through LayerNorm with biases (GPT-2) and through post-sublayer norms (Gemma 3),
/// against HF transformers (`attribution.safetensors`, scripts/make_attribution_references.py).
struct OtherArchitectureAttributionTests {
    static let reference = Result { try ReferenceFile("attribution") }

    @Test func gpt2SplitsHeadsBiasesAndPositionEmbeddings() throws {
        let reference = try Self.reference.get(), settings = reference.settings("gpt2")
        let model = try LanguageModel.load(ReferenceFile.repository.appendingPathComponent("Tests/Golden/gpt2-tiny"))
        let tokens = (settings["tokens"] as! [Int]).map(Int32.init)
        #expect(model.tokenizer.encode(settings["prompt"] as! String) == tokens)
        let target = LogitTarget(token: Int32(settings["token"] as! Int), baseline: Int32(settings["baseline"] as! Int))
        let attribution = try model.directLogitAttribution(tokens: tokens, position: -1, target: target)
        func expectClose(_ value: Float?, _ name: String) throws {
            #expect(abs((value ?? .nan) - (try reference.tensor("gpt2.\(name)").data[0])) < 1e-4, "\(name)")
        }
        try expectClose(attribution.logit, "logit")
        try expectClose(attribution.finalScale, "scale")
        try expectClose(attribution.embed, "embed")
        try expectClose(attribution.positionEmbed, "pos_embed")
        try expectClose(attribution.constant, "constant")
        #expect(maxDifference(attribution.attention, try reference.tensor("gpt2.attention").data) < 1e-4)
        #expect(maxDifference(attribution.heads.joined(), try reference.tensor("gpt2.heads").data) < 1e-4)
        #expect(maxDifference(attribution.mlps, try reference.tensor("gpt2.mlp").data) < 1e-4)
        #expect(abs(attribution.total - attribution.logit) < 1e-4, "the components sum to the logit")
        // The bias is what the heads leave of each layer's attention output, and it is not nothing here.
        #expect(zip(attribution.attention, attribution.heads).allSatisfy { abs($0 - $1.reduce(0, +)) > 1e-3 })
    }

    @Test func gemma3StopsAtEachLayersAttention() throws {
        let reference = try Self.reference.get(), settings = reference.settings("gemma3")
        let model = try LanguageModel.load(ModelCatalog().resolve("gemma3"))
        let tokens = (settings["tokens"] as! [Int]).map(Int32.init)
        #expect(model.tokenizer.encode(settings["prompt"] as! String) == tokens)
        let target = LogitTarget(token: Int32(settings["target_id"] as! Int), baseline: Int32(settings["baseline_id"] as! Int))
        let attribution = try model.directLogitAttribution(tokens: tokens, position: -1, target: target)
        #expect(abs(attribution.logit - (try reference.tensor("gemma3.logit").data[0])) < 2e-3)
        #expect(abs(attribution.finalScale - (try reference.tensor("gemma3.scale").data[0])) / attribution.finalScale < 1e-4)
        #expect(abs(attribution.embed - (try reference.tensor("gemma3.embed").data[0])) < 2e-3)
        #expect(maxDifference(attribution.attention, try reference.tensor("gemma3.attention").data) < 2e-3)
        #expect(maxDifference(attribution.mlps, try reference.tensor("gemma3.mlp").data) < 2e-3)
        #expect(attribution.heads.allSatisfy(\.isEmpty) && attribution.heads.count == 18)
        #expect(attribution.positionEmbed == nil && attribution.constant == 0)
        #expect(abs(attribution.total - attribution.logit) < 1e-3, "the components sum to the logit")
    }
}
