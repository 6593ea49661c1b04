import ModelFiles
import Foundation
import JSONRPC
import LMDebugProtocol
import ProtocolSchema
import Testing
@testable import LMDebugServer

struct DispatchTests {
    @Test func everyRequestOfTheRegistryAndSchemaHasAHandlerAndViceVersa() throws {
        let registry = Set(ProtocolRegistry.requests.map { $0.method })
        let handled = Set(DebugServer.routes.keys)
        #expect(handled == registry)

        let schemaURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Protocol/lmdbg.schema.json")
        let schema = try JSONValue(parsing: String(contentsOf: schemaURL, encoding: .utf8))
        let schemaRequests = Set((schema["x-methods"]?.array ?? []).compactMap { method -> String? in
            guard method["kind"] == "request" else { return nil }
            return method["method"]?.string
        })
        #expect(!schemaRequests.isEmpty)
        #expect(handled == schemaRequests)
    }

    @Test func lifecycleErrors() throws {
        let client = EndpointClient()
        #expect(client.request("model/tokenize", ["text": "hi"]).code == -32002)
        #expect(client.request("initialize", [:]).value?["serverInfo"]?["name"] == "lmdbg")
        #expect(client.request("initialize", [:]).code == -32600)
        #expect(client.request("debug/teleport").code == -32601)
        #expect(client.request("model/tokenize", ["text": 3]).code == -32602)
        #expect(client.request("model/tokenize", ["text": "hi"]).code == -32001)
        let noRun = client.request("debug/continue")
        #expect(noRun.code == -32003)
        #expect(client.request("debug/stackTrace").code == -32003)
        #expect(client.request("model/load", ["path": "/nonexistent/model.gguf"]).code == -32004)
        #expect(client.request("debug/setExceptionBreakpoints", ["filters": ["nan"]]).value == .object([:]))
        #expect(client.request("patch/list").value?["patches"] == .array([]))
        #expect(client.request("shutdown").value == .null)
        #expect(client.request("model/tokenize", ["text": "hi"]).code == -32600)
        client.notify("exit")
        #expect(client.endpoint.waitForExit() == 0)
        #expect(try client.schemaProblems() == [])
        let description = try ProtocolDescription(contentsOf: try #require(ProtocolDescription.schemaURL()))
        #expect(!description.checkServerMessage(["jsonrpc": "2.0", "method": "debug/stopped", "params": [:]]) { _ in nil }.isEmpty,
                "the schema check does check")
    }

    @Test func exitWithoutShutdownIsOne() {
        let client = EndpointClient()
        _ = client.request("initialize", [:])
        client.notify("exit")
        #expect(client.endpoint.waitForExit() == 1)
    }

    @Test func cancelledRequestsAnswerRequestCancelled() {
        let client = EndpointClient()
        _ = client.request("initialize", [:])
        let path = JSONValue.string(try! ModelCatalog().resolve("smollm2").path)
        // A load that is cancelled while it runs answers -32800 and loads nothing.
        client.endpoint.receive(.request(id: .integer(100), method: "model/load", params: ["path": path]))
        client.notify("$/cancelRequest", ["id": 100])
        #expect(client.wait(for: .integer(100)).code == -32800)
        #expect(client.request("model/tokenize", ["text": "hi"]).code == -32001)
        // A request cancelled while it waits behind a long one answers -32800; the long one goes on.
        client.endpoint.receive(.request(id: .integer(101), method: "model/load", params: ["path": path]))
        client.endpoint.receive(.request(id: .integer(102), method: "model/tokenize", params: ["text": "hi"]))
        client.notify("$/cancelRequest", ["id": 102])
        #expect(client.wait(for: .integer(102)).code == -32800)
        #expect(client.wait(for: .integer(101)).value?["config"]?["nLayers"] == 30)
        #expect(client.request("model/tokenize", ["text": "hi"]).value?["tokens"] != nil)
    }
}
