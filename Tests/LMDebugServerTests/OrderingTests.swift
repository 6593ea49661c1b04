import Foundation
import JSONRPC
import ModelFiles
import Testing
@testable import LMDebugServer

/// The order of responses and notifications that Protocol/lifecycle.md promises.
struct OrderingTests {
    @Test func aSupersededRunEndsBeforeTheResponseOfTheRequestThatEndedIt() throws {
        let client = EndpointClient()
        _ = client.request("initialize")
        _ = client.request("model/load", ["path": .string(try ModelCatalog().resolve("smollm2").path)])
        _ = client.request("session/launch", ["prompt": "Hi", "stopOnEntry": true])
        #expect(client.next("debug/stopped")?["sessionId"] == 1)
        _ = client.request("session/launch", ["prompt": "Hi", "stopOnEntry": true])
        #expect(client.next("debug/stopped")?["sessionId"] == 2)
        _ = client.request("debug/restart")
        #expect(client.next("debug/stopped")?["sessionId"] == 3)
        #expect(client.request("shutdown").value == .null)
        let labels = client.labels().filter { !$0.hasPrefix("$/progress") }
        #expect(labels == [
            "response 1", "response 2",
            "response 3", "debug/stopped 1",
            "debug/terminated 1", "response 4", "debug/stopped 2",
            "debug/terminated 2", "response 5", "debug/stopped 3",
            "debug/terminated 3", "response 6",
        ])
        #expect(try client.schemaProblems() == [])
    }
}
