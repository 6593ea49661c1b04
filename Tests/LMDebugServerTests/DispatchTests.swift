import Foundation
import JSONRPC
import LMDebugProtocol
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
    }

    @Test func exitWithoutShutdownIsOne() {
        let client = EndpointClient()
        _ = client.request("initialize", [:])
        client.notify("exit")
        #expect(client.endpoint.waitForExit() == 1)
    }
}
