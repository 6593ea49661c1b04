import Foundation
import JSONRPC
import Testing
@testable import DAPServer

/// The DAP message layer, and the adapter over real pipes with Content-Length framing.
struct DAPWireTests {
    @Test func requestsAreReadAndOthersRefused() throws {
        let request = try DAPRequest(["seq": 7, "type": "request", "command": "next", "arguments": ["threadId": 1]])
        #expect(request.seq == 7 && request.command == "next" && request.arguments?["threadId"] == 1)
        #expect(try DAPRequest(["seq": 1, "type": "request", "command": "threads"]).arguments == nil)
        #expect(throws: DAPMessageError.self) { try DAPRequest(["seq": 1, "type": "event", "event": "stopped"]) }
        #expect(throws: DAPMessageError.self) { try DAPRequest(["seq": "1", "type": "request", "command": "threads"]) }
        #expect(throws: DAPMessageError.self) { try DAPRequest(["seq": 1, "type": "request", "command": "x", "arguments": [1]]) }
    }

    @Test func outgoingMessagesHaveDAPsShape() {
        let response = DAPOutgoing.response(requestSeq: 3, command: "threads", body: ["threads": []]).json(seq: 9)
        #expect(response == ["seq": 9, "type": "response", "request_seq": 3, "command": "threads", "success": true,
                             "body": ["threads": []]])
        let error = DAPOutgoing.errorResponse(requestSeq: 4, command: "evaluate",
                                              error: DAPError(.expressionError, "bad {x}")).json(seq: 10)
        #expect(error["success"] == false && error["message"] == "bad {x}")
        #expect(error["body"]?["error"] == ["id": -32006, "format": "bad {x}", "showUser": true])
        #expect(DAPOutgoing.event("initialized", body: nil).json(seq: 1) == ["seq": 1, "type": "event", "event": "initialized"])
    }

    @Test func expressionsForChildren() {
        #expect(subscripted("blocks.3.hook_resid_post", "[2, 5]") == "blocks.3.hook_resid_post[2, 5]")
        #expect(subscripted("x + 1", "[0]") == "(x + 1)[0]")
        #expect(typeName("tensor", shape: [9, 5, 5]) == "float32[9, 5, 5]" && typeName("number", shape: nil) == "number")
        #expect(littleEndianBytes([1, -2]) == [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0])
    }

    /// A session over pipes as a DAP client runs one: framed requests in, framed responses and events out, exit 0.
    @Test func overPipes() throws {
        var toServer: [Int32] = [0, 0], fromServer: [Int32] = [0, 0]
        #expect(pipe(&toServer) == 0 && pipe(&fromServer) == 0)
        let exitCode = LockedBox<Int32?>(nil)
        let (serverInput, serverOutput) = (toServer[0], fromServer[1])
        let thread = Thread { exitCode.set(runDAPServer(input: serverInput, output: serverOutput)) }
        thread.start()
        let writer = FileHandle(fileDescriptor: toServer[1], closeOnDealloc: true)
        let reader = FileHandle(fileDescriptor: fromServer[0], closeOnDealloc: true)
        var framer = MessageFramer()
        var seq: Int64 = 0
        func send(_ command: String, _ arguments: JSONValue) throws {
            seq += 1
            let body = try JSONValue.object(["seq": .integer(seq), "type": "request", "command": .string(command),
                                             "arguments": arguments]).serialized()
            try writer.write(contentsOf: MessageFramer.frame(body: body))
        }
        /// Reads messages until one satisfies `match`.
        func read(until match: (JSONValue) -> Bool) throws -> JSONValue {
            while true {
                if let body = try framer.nextBody() {
                    let message = try JSONValue(parsing: body)
                    if match(message) { return message }
                    continue
                }
                let chunk = reader.availableData
                if chunk.isEmpty { throw DAPMessageError("the adapter closed its output") }
                framer.append(Array(chunk))
            }
        }

        try send("initialize", ["adapterID": "lmdbg"])
        #expect(try read { $0["request_seq"] == 1 }["body"]?["supportsStepBack"] == true)
        try send("launch", ["prompt": "Hello", "stopOnEntry": true])
        #expect(try read { $0["request_seq"] == 2 }["success"] == true)
        _ = try read { $0["event"] == "initialized" }
        try send("configurationDone", [:])
        let stopped = try read { $0["event"] == "stopped" }
        #expect(stopped["body"]?["reason"] == "entry" && stopped["type"] == "event" && stopped["seq"] != nil)
        try send("evaluate", ["expression": "tokenStep"])
        #expect(try read { $0["request_seq"] == 4 }["body"]?["result"] == "0")
        try send("disconnect", ["terminateDebuggee": true])
        #expect(try read { $0["request_seq"] == 5 }["success"] == true)
        while exitCode.value == nil { Thread.sleep(forTimeInterval: 0.01) }
        #expect(exitCode.value == 0)
    }
}

final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    func set(_ value: Value) { lock.withLock { stored = value } }
    var value: Value { lock.withLock { stored } }
}
