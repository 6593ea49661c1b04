import Foundation
import JSONRPC
import Testing
@testable import LMDebugServer

/// The server over a real framed connection, driven by the JSONRPC in-process client.
struct ConnectionTests {
    @Test func aSessionOverAFramedConnection() async throws {
        let (serverSide, clientSide) = try Connection.pair()
        let exitCode = ExitCodeBox()
        let thread = Thread {
            exitCode.set(runServer(connection: serverSide, options: ServerOptions()))
        }
        thread.start()
        let client = JSONRPCClient(connection: clientSide)
        var incoming = client.incoming.makeAsyncIterator()
        func nextNotification(_ method: String) async -> JSONValue? {
            while let event = await incoming.next() {
                if case .message(.notification(method, let params)) = event { return params }
            }
            return nil
        }

        await #expect(throws: JSONRPCError.self) { _ = try await client.request("debug/continue") }
        _ = try await client.request("initialize", params: [:])
        try client.notify("initialized")
        let model = try await client.request("model/load", params: ["name": "SmolLM2-135M-Instruct.Q4_1"])
        #expect(model["name"] == "SmolLM2-135M-Instruct.Q4_1")
        _ = try await client.request("debug/setBreakpoints", params: ["breakpoints": [["hook": "blocks.2.hook_resid_post"]]])
        _ = try await client.request("session/launch", params: ["prompt": "Hello", "maxNewTokens": 2])
        let stop = await nextNotification("debug/stopped")
        #expect(stop?["hook"] == "blocks.2.hook_resid_post")
        let tensor = try await client.request("tensor/read", params: ["hook": "blocks.2.hook_resid_post"])
        #expect(tensor["dtype"] == "float32")
        do {
            _ = try await client.request("debug/evaluate", params: ["expression": "x.norm( +"])
            Issue.record("a bad expression is an error")
        } catch let error as JSONRPCError {
            #expect(error.code.rawValue == -32006)
        }
        _ = try await client.request("debug/setBreakpoints", params: ["breakpoints": []])
        _ = try await client.request("debug/continue")
        let terminated = await nextNotification("debug/terminated")
        #expect(terminated?["tokens"].flatMap { if case .array(let tokens) = $0 { tokens.count } else { nil } } == 2)
        #expect(try await client.request("shutdown") == .null)
        try client.notify("exit")
        while exitCode.value == nil { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(exitCode.value == 0)
        client.close()
    }
}

final class ExitCodeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var code: Int32?
    func set(_ value: Int32) { lock.withLock { code = value } }
    var value: Int32? { lock.withLock { code } }
}
