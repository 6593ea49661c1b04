import Foundation
import JSONRPC
import LMDebugProtocol
import ModelFiles
import Testing
@testable import LMDebugServer

/// The analysis requests through the endpoint on SmolLM2-135M: shapes, progress, cancellation with partial
/// results, patches made by steering and SAE features; the numbers themselves are tested in AnalysesTests.
@Suite(.serialized) struct AnalysisOverProtocolTests {
    static let modelURL = try! ModelCatalog().resolve("smollm2")
    static let saeDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sae/smollm2-resid8-relu512")
    static let clean = "When John and Mary went home, John gave a drink to"
    static let corrupted = "When John and Mary went home, Mary gave a drink to"

    func loadedClient() -> EndpointClient {
        let client = EndpointClient()
        _ = client.request("initialize", [:])
        _ = client.request("model/load", ["path": .string(Self.modelURL.path)])
        return client
    }

    func token(_ client: EndpointClient, _ text: String) -> JSONValue {
        client.request("model/tokenize", ["text": .string(text)]).value?["tokens"]?[0] ?? .null
    }

    @Test func logitLensAndAttribution() throws {
        let client = loadedClient()
        let table = client.request("analysis/logitLens", ["prompt": "The Eiffel Tower is in the city of", "k": 3])
        let rows = try #require(table.value?["rows"]?.array)
        #expect(rows.count == 30 * 3 + 1 && table.value?["tokens"]?.array?.count == 9)
        #expect(rows[0]["hook"] == "blocks.0.hook_resid_pre" && rows[0]["position"] == 8)
        #expect(rows.last?["hook"] == "logits" && rows.last?["top"]?.array?.count == 3)
        #expect(rows.last?["top"]?[0]?["piece"] == " Paris")

        let paris = token(client, " Paris"), rome = token(client, " Rome")
        let attribution = try #require(client.request("analysis/attribution", [
            "prompt": "The Eiffel Tower is in the city of", "token": paris, "baseline": rome]).value)
        #expect(attribution["heads"]?.array?.count == 30 && attribution["heads"]?[0]?.array?.count == 9)
        #expect(attribution["mlp"]?.array?.count == 30 && attribution["position"] == 8)
        let total = try JSONValueDecoder().decode(Double.self, from: try #require(attribution["total"]))
        let logit = try JSONValueDecoder().decode(Double.self, from: try #require(attribution["logit"]))
        #expect(abs(total - logit) < 1e-3 && logit > 0)

        #expect(client.request("analysis/attribution", ["prompt": "a", "token": 49152]).code == -32602)
        #expect(client.request("analysis/logitLens", ["expression": "x[-1]"]).code == -32003)
        #expect(client.request("analysis/logitLens", ["prompt": "a", "expression": "x[-1]"]).code == -32602)
        #expect(client.request("analysis/logitLens", ["prompt": "a b", "positions": [7]]).code == -32602)
        #expect(try client.schemaProblems() == [])
    }

    @Test func aSweepReportsProgressAndACancelledOneAnswersWhatItHas() throws {
        let client = loadedClient()
        let metric: JSONValue = ["kind": "logitDifference", "token": token(client, " Mary"), "baseline": token(client, " John")]
        func params(_ token: String) -> JSONValue {
            ["clean": .string(Self.clean), "corrupted": .string(Self.corrupted), "site": "mlpOut", "metric": metric,
             "workDoneToken": .string(token)]
        }
        let full = try #require(client.request("analysis/patchSweep", params("sweep"), timeout: 900).value)
        #expect(full["cancelled"] == false && full["completed"] == 360 && full["total"] == 360)
        #expect(full["values"]?.array?.count == 30 && full["values"]?[0]?.array?.count == 12 && full["columnAxis"] == "position")
        #expect(client.next("$/progress")?["value"]?["kind"] == "begin")
        #expect(client.next("$/progress")?["value"]?["kind"] == "report")

        let cancelled = client.send("analysis/patchSweep", params("cancelled"))
        while let progress = client.next("$/progress"), !(progress["token"] == "cancelled" && progress["value"]?["kind"] == "report") {}
        client.notify("$/cancelRequest", ["id": cancelled.jsonValue])
        let partial = try client.wait(for: cancelled, timeout: 900).get()
        let completed = try #require(partial["completed"]?.int)
        #expect(partial["cancelled"] == true && completed < 360 && completed > 0)
        let values = try #require(partial["values"]?.array?.flatMap { $0.array ?? [] })
        #expect(values.filter { $0 != .null }.count == completed)

        #expect(client.request("analysis/patchSweep", ["clean": "a b c", "corrupted": "a", "site": "residPre",
                                                       "metric": ["kind": "klDivergence"]]).code == -32602)
        #expect(client.request("analysis/patchSweep", ["clean": "a b", "corrupted": "a c", "site": "residPre",
                                                       "metric": ["kind": "probability"]]).code == -32602)
        #expect(try client.schemaProblems() == [])
    }

    @Test func steeringMakesPatchesThePatchListShows() throws {
        let client = loadedClient()
        let pairs: JSONValue = [["positive": "I love this", "negative": "I hate this"]]
        let added = try #require(client.request("steer/fromContrast", ["pairs": pairs, "layer": 8, "scale": 2]).value)
        #expect(added["hook"] == "blocks.8.hook_resid_pre" && added["direction"]?["shape"] == [576])
        let scale = try JSONValueDecoder().decode(Double.self, from: try #require(added["patch"]?["scale"]))
        #expect(added["patch"]?["op"] == "add" && scale == 2)
        let ablated = try #require(client.request("steer/fromContrast", ["pairs": pairs, "hook": "blocks.3.hook_resid_post",
                                                                         "apply": "ablate"]).value)
        #expect(ablated["patch"]?["hook"] == "blocks.*.hook_resid_*" && ablated["patch"]?["hooks"] == 90)
        let listed = try #require(client.request("patch/list").value?["patches"]?.array)
        #expect(listed.map { $0["id"] } == [added["patch"]?["id"], ablated["patch"]?["id"]])
        let none = try #require(client.request("steer/fromContrast", ["pairs": pairs, "layer": 2, "apply": "none"]).value)
        #expect(none["patch"] == nil)
        #expect(client.request("steer/fromContrast", ["pairs": pairs, "layer": 2, "hook": "blocks.2.hook_resid_pre"]).code == -32602)
        #expect(client.request("steer/fromContrast", ["pairs": pairs, "hook": "blocks.2.attn.hook_pattern"]).code == -32602)
        #expect(try client.schemaProblems() == [])
    }

    @Test func saeFeaturesAtAStopAndFeaturePatches() throws {
        let client = loadedClient()
        #expect(client.request("sae/load", ["path": "/nonexistent"]).code == -32602)
        let sae = try #require(client.request("sae/load", ["path": .string(Self.saeDirectory.path)]).value)
        #expect(sae["hook"] == "blocks.8.hook_resid_pre" && sae["dSae"] == 512 && sae["architecture"] == "relu" && sae["id"] == 1)
        #expect(client.request("sae/features").code == -32003)

        _ = client.request("debug/setBreakpoints", ["breakpoints": [["hook": "blocks.8.hook_resid_pre"]]])
        _ = client.request("session/launch", ["prompt": "The Eiffel Tower is in Paris"])
        #expect(client.next("debug/stopped")?["hook"] == "blocks.8.hook_resid_pre")
        let features = try #require(client.request("sae/features", ["k": 3]).value)
        let rows = try #require(features["rows"]?.array)
        let l0 = try #require(rows[1]["l0"]?.int)
        #expect(rows.count == 7 && l0 > 0 && rows[1]["features"]?.array?.count == min(3, l0))
        let strongest = try #require(rows[1]["features"]?[0]?["feature"])
        let evaluated = client.request("debug/evaluate", ["expression": .string("feature(\(strongest.int!))[1] > 0")])
        #expect(evaluated.value?["value"] == true)

        let ablation = client.request("patch/set", ["patches": [["hook": "blocks.8.hook_resid_pre", "op": "ablateFeatures",
                                                                  "features": [strongest]]]])
        #expect(ablation.value?["ids"]?.array?.count == 1)
        #expect(client.request("patch/list").value?["patches"]?[0]?["features"] == [strongest])
        #expect(client.request("patch/set", ["patches": [["hook": "blocks.7.hook_resid_pre", "op": "steerFeatures",
                                                          "features": [strongest]]]]).code == -32602)
        #expect(client.request("patch/set", ["patches": [["hook": "blocks.8.hook_resid_pre", "op": "ablateFeatures",
                                                          "features": [512]]]]).code == -32602)
        #expect(client.request("patch/set", ["patches": [["hook": "blocks.8.hook_resid_pre", "op": "ablateFeatures"]]]).code == -32602)
        _ = client.request("shutdown")
        #expect(try client.schemaProblems() == [])
    }
}
