import ModelFiles
import Foundation
import JSONRPC
import LMDebugProtocol
import Tensors
import Testing
import Transformer
@testable import LMDebugServer

/// A whole debugging session with SmolLM2-135M through the protocol, checked against independent forwards.
struct SessionOverProtocolTests {
    static let modelURL = try! ModelCatalog().resolve("smollm2")
    let prompt = "The capital of France is"

    func decode(_ value: JSONValue?) throws -> Tensor {
        let wire = try JSONValueDecoder().decode(WireTensor.self, from: try #require(value))
        return Tensor(shape: wire.shape, data: try wire.values())
    }

    @Test func aWholeSession() throws {
        let model = try LanguageModel.load(Self.modelURL)
        let client = EndpointClient()
        #expect(client.request("initialize", ["clientInfo": ["name": "tests"]]).value?["protocolVersion"] == "0.1.0")
        client.notify("initialized")

        let loaded = client.request("model/load", ["path": .string(Self.modelURL.path), "workDoneToken": "load"])
        #expect(loaded.value?["config"]?["nLayers"] == 30)
        #expect(loaded.value?["hookPoints"]?.array?.first?["shape"] == ["pos", 576])
        #expect(client.next("$/progress")?["value"]?["kind"] == "begin")

        let breakpoints = client.request("debug/setBreakpoints", ["breakpoints": [
            ["hook": "blocks.*.hook_resid_post", "condition": "layer % 10 == 9"],
            ["hook": "blocks.99.hook_resid_pre"],
        ]])
        #expect(breakpoints.value?["breakpoints"]?.array?.map { $0["verified"] } == [true, false])
        #expect(breakpoints.value?["breakpoints"]?[1]?["message"]?.string?.contains("unknown hook point 'blocks.99.hook_resid_pre'") == true)

        let launched = client.request("session/launch", ["prompt": .string(prompt)])
        let sessionID = try #require(launched.value?["sessionId"])
        #expect(launched.value?["promptTokens"]?.array?.count == 5)

        // Stops in layer order; the tensor read equals an independent forward.
        let reference = RecordingObserver()
        _ = try model.forward(model.tokenizer.encode(prompt), cache: model.makeCache(), observer: reference)
        var stop = try #require(client.next("debug/stopped"))
        #expect(stop["hook"] == "blocks.9.hook_resid_post" && stop["reason"] == "breakpoint" && stop["sessionId"] == sessionID)
        let read = try decode(client.request("tensor/read", ["hook": "blocks.9.hook_resid_post"]).value)
        #expect(read == reference.tensors[.block(9, .residPost)])
        let lastRow = try decode(client.request("tensor/read", ["hook": "blocks.9.hook_resid_post", "slice": "[-1, :10]"]).value)
        #expect(lastRow.shape == [10] && lastRow.data == Array(read.data[4 * 576..<(4 * 576 + 10)]))

        #expect(client.request("debug/continue").value == .object([:]))
        stop = try #require(client.next("debug/stopped"))
        #expect(stop["hook"] == "blocks.19.hook_resid_post")

        // Inspection.
        let frames = try #require(client.request("debug/stackTrace").value?["frames"]?.array)
        #expect(frames.map { $0["kind"] } == ["hook", "layer", "token"])
        let scopes = try #require(client.request("debug/scopes", ["frameId": frames[0]["id"]!]).value?["scopes"]?.array)
        let current = try #require(client.request("debug/variables", ["variablesReference": scopes[0]["variablesReference"]!]).value)
        #expect(current["variables"]?[0]?["name"] == "x" && current["variables"]?[0]?["shape"] == [5, 576])
        let norm = client.request("debug/evaluate", ["expression": "x.norm()"]).value
        #expect(norm?["type"] == "number")

        // Step back into the record, then replay to the live stop.
        #expect(client.request("debug/stepBack").value == .object([:]))
        stop = try #require(client.next("debug/stopped"))
        #expect(stop["hook"] == "blocks.9.hook_resid_post" && stop["recorded"] == true)
        #expect(try decode(client.request("tensor/read", ["hook": "blocks.9.hook_resid_post"]).value) == read)

        // Malformed requests get their codes, and the session goes on.
        let badGranularity = client.request("debug/next", ["granularity": "sideways"])
        #expect(badGranularity.code == -32602 && badGranularity.message?.contains("granularity") == true)
        #expect(client.request("debug/variables", ["variablesReference": 123456]).code == -32602)
        let badExpression = client.request("debug/evaluate", ["expression": "x +"])
        #expect(badExpression.code == -32006)
        if case .failure(let error) = badExpression {
            #expect(error.data?["expression"] == "x +" && error.data?["position"] != nil)
        }
        let unknownHook = client.request("tensor/read", ["hook": "blocks.99.hook_resid_pre"])
        #expect(unknownHook.code == -32602 && unknownHook.message?.contains("unknown hook point 'blocks.99.hook_resid_pre'") == true)
        #expect(client.request("tensor/read", ["hook": "logits", "expression": "x"]).code == -32602)
        #expect(client.request("session/launch", ["prompt": 7]).code == -32602)
        client.endpoint.receive(invalid: InvalidMessage(error: JSONRPCError(code: .parseError, message: "Parse error")))

        #expect(client.request("debug/continue").value == .object([:]))
        stop = try #require(client.next("debug/stopped"))
        #expect(stop["hook"] == "blocks.19.hook_resid_post" && stop["recorded"] == nil, "the replay reaches the live stop")
        #expect(client.request("debug/continue").value == .object([:]))
        stop = try #require(client.next("debug/stopped"))
        #expect(stop["hook"] == "blocks.29.hook_resid_post")
        #expect(client.request("debug/continue").value == .object([:]))
        #expect(client.next("debug/terminated")?["reason"] == "maxNewTokens")
        #expect(client.request("debug/continue").code == -32003)

        // Zero ablation of blocks.3.hook_attn_out, read at the logits, against an independent computation.
        let ids = client.request("patch/set", ["patches": [["hook": "blocks.3.hook_attn_out", "op": "zero"]]]).value?["ids"]
        #expect(ids?.array?.count == 1)
        #expect(client.request("debug/setBreakpoints", ["breakpoints": [["hook": "logits"]]]).value != nil)
        _ = client.request("session/launch", ["prompt": .string(prompt)])
        #expect(client.next("debug/stopped")?["hook"] == "logits")
        let patched = try decode(client.request("tensor/read", ["hook": "logits", "slice": "[-1]"]).value)
        let ablated = RecordingObserver { view in
            if view.hook == .block(3, .attnOut) { for i in view.data.indices { view.data[i] = 0 } }
        }
        let expected = try model.forward(model.tokenizer.encode(prompt), cache: model.makeCache(), observer: ablated)
        let expectedLast = Array(expected.data[(expected.count - 49152)...])
        #expect(zip(patched.data, expectedLast).allSatisfy { abs($0 - $1) < 1e-3 })
        let clean = Array(reference.tensors[.logits]!.data.suffix(49152))
        #expect(patched.data != clean)
        #expect(client.request("debug/continue").value == .object([:]))
        #expect(client.next("debug/terminated")?["activePatches"] == ids)

        #expect(client.request("shutdown").value == .null)
        client.notify("exit")
        #expect(client.endpoint.waitForExit() == 0)
        #expect(try client.schemaProblems() == [], "every message the server sent follows the schema")
    }
}

/// Copies every activation of a pass (after `edit`, if any).
final class RecordingObserver: HookObserver {
    private(set) var tensors: [HookPoint: Tensor] = [:]
    let edit: ((ActivationView) -> Void)?
    init(edit: ((ActivationView) -> Void)? = nil) { self.edit = edit }
    func wants(_ hook: HookPoint) -> Bool { true }
    func observe(_ activation: ActivationView) {
        edit?(activation)
        tensors[activation.hook] = activation.copy()
    }
}
