import Glibc
import Synchronization
import Testing
@testable import JSONRPC

/// Starts `connection` and returns its events as a stream.
private func events(of connection: Connection) -> AsyncStream<ConnectionEvent> {
    let (stream, continuation) = AsyncStream.makeStream(of: ConnectionEvent.self)
    connection.start { event in
        continuation.yield(event)
        if case .inputEnded = event { continuation.finish() }
    }
    return stream
}

/// A server for the tests: `echo` answers with its params after sending a `note` notification;
/// `fail` answers with an error; `later` is answered with its params only once a `release`
/// notification arrives, in reverse order; `held` answers how many requests wait for release.
private func startEchoServer(_ server: Connection) {
    let held = Mutex<[(RequestID, JSONValue?)]>([])
    server.start { event in
        switch event {
        case .message(.request(let id, "echo", let params)):
            try! server.send(.notification(method: "note", params: ["for": id.jsonValue]))
            try! server.send(.response(id: id, result: params ?? .null))
        case .message(.request(let id, "fail", _)):
            try! server.send(.errorResponse(id: id, error: JSONRPCError(code: .invalidParams, message: "params.x: bad", data: [1])))
        case .message(.request(let id, "later", let params)):
            held.withLock { $0.append((id, params)) }
        case .message(.request(let id, "held", _)):
            try! server.send(.response(id: id, result: .integer(Int64(held.withLock { $0.count }))))
        case .message(.notification("release", _)):
            for (id, params) in held.withLock({ $0.reversed() }) { try! server.send(.response(id: id, result: params ?? .null)) }
        case .message(.request(let id, let method, _)):
            try! server.send(.errorResponse(id: id, error: JSONRPCError(code: .methodNotFound, message: method)))
        case .invalidMessage(let invalid):
            try! server.send(invalid.response)
        case .inputEnded:
            server.close()
        default:
            break
        }
    }
}

/// Reads until end of file.
private func readAll(_ descriptor: Int32) -> [UInt8] {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count <= 0 { return bytes }
        bytes += chunk[0..<count]
    }
}

private func makePipe() -> (read: Int32, write: Int32) {
    var descriptors: [Int32] = [0, 0]
    precondition(pipe(&descriptors) == 0)
    return (descriptors[0], descriptors[1])
}

private func writeString(_ text: String, to descriptor: Int32) {
    let bytes = Array(text.utf8)
    precondition(bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) } == bytes.count)
}

@Suite(.timeLimit(.minutes(1))) struct ConnectionTests {
    @Test func requestsGetTheirResponsesAndNotificationsArrive() async throws {
        let (serverSide, clientSide) = try Connection.pair()
        startEchoServer(serverSide)
        let client = JSONRPCClient(connection: clientSide)
        defer { client.close() }

        #expect(try await client.request("echo", params: ["text": "é🦙", "n": [1, 2.5]]) == ["text": "é🦙", "n": [1, 2.5]])
        var incoming = client.incoming.makeAsyncIterator()
        guard case .message(.notification("note", let params))? = await incoming.next() else {
            Issue.record("no notification")
            return
        }
        #expect(params == ["for": 1])
    }

    @Test func aLargeMessageCrossesWholeThroughEnlargedPipes() async throws {
        var toServer: [Int32] = [0, 0], toClient: [Int32] = [0, 0]
        #expect(pipe(&toServer) == 0 && pipe(&toClient) == 0)
        let serverSide = try Connection(input: toServer[0], output: toClient[1])
        startEchoServer(serverSide)
        let client = JSONRPCClient(connection: try Connection(input: toClient[0], output: toServer[1]))
        defer { client.close() }
        #expect(fcntl(toClient[0], 1032) >= 1 << 20, "F_GETPIPE_SZ: the pipe holds 1 MB")
        let data = String(repeating: "0123456789+/abcdefABCDEF", count: 200_000)
        #expect(try await client.request("echo", params: ["data": .string(data)]) == ["data": .string(data)])
    }

    @Test func errorResponsesThrow() async throws {
        let (serverSide, clientSide) = try Connection.pair()
        startEchoServer(serverSide)
        let client = JSONRPCClient(connection: clientSide)
        defer { client.close() }

        await #expect(throws: JSONRPCError(code: .invalidParams, message: "params.x: bad", data: [1])) {
            try await client.request("fail")
        }
        await #expect(throws: JSONRPCError(code: .methodNotFound, message: "nope")) {
            try await client.request("nope", params: [1])
        }
    }

    @Test func typedRequests() async throws {
        struct Point: Codable, Equatable { var x: Int; var label: String? }
        let (serverSide, clientSide) = try Connection.pair()
        startEchoServer(serverSide)
        let client = JSONRPCClient(connection: clientSide)
        defer { client.close() }
        #expect(try await client.request("echo", params: Point(x: 3), as: Point.self) == Point(x: 3))
    }

    @Test func concurrentRequestsAreMatchedByID() async throws {
        let (serverSide, clientSide) = try Connection.pair()
        startEchoServer(serverSide)
        let client = JSONRPCClient(connection: clientSide)
        defer { client.close() }

        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    let params: JSONValue = ["index": .integer(Int64(index)), "pad": .string(String(repeating: "x", count: index * 50))]
                    let result = try await client.request("echo", params: params)
                    #expect(result == params)
                }
            }
            try await group.waitForAll()
        }
    }

    @Test func responsesOutOfOrder() async throws {
        let (serverSide, clientSide) = try Connection.pair()
        startEchoServer(serverSide)
        let client = JSONRPCClient(connection: clientSide)
        defer { client.close() }

        async let first = client.request("later", params: [1])
        async let second = client.request("later", params: [2])
        while try await client.request("held") != 2 {
            try await Task.sleep(for: .milliseconds(1))
        }
        try client.notify("release")
        #expect(try await [first, second] == [[1], [2]])
    }

    @Test func invalidBodiesGetErrorResponsesWithNullID() async throws {
        let (serverSide, clientSide) = try Connection.pair()
        startEchoServer(serverSide)
        let client = JSONRPCClient(connection: clientSide)
        defer { client.close() }

        try clientSide.send(body: Array("{not json".utf8))
        try clientSide.send(body: Array("[]".utf8))
        var incoming = client.incoming.makeAsyncIterator()
        for expected in [JSONRPCError.Code.parseError, .invalidRequest] {
            guard case .message(.errorResponse(nil, let error))? = await incoming.next() else {
                Issue.record("expected an error response")
                return
            }
            #expect(error.code == expected)
        }
        #expect(try await client.request("echo", params: [true]) == [true])
    }

    @Test func framingErrorIsTheLastEvent() async throws {
        let toServer = makePipe()
        let fromServer = makePipe()
        let server = try Connection(input: toServer.read, output: fromServer.write)
        var serverEvents = events(of: server).makeAsyncIterator()

        let notification = MessageFramer.frame(body: Array(#"{"jsonrpc":"2.0","method":"a"}"#.utf8))
        writeString(String(decoding: notification, as: UTF8.self) + "Content-Length: 12x\r\n\r\n", to: toServer.write)
        guard case .message(.notification("a", nil))? = await serverEvents.next() else {
            Issue.record("expected the notification first")
            return
        }
        guard case .inputEnded(.framing(.invalidContentLength("12x")))? = await serverEvents.next() else {
            Issue.record("expected the framing error")
            return
        }
        if let extra = await serverEvents.next() { Issue.record("event after the end: \(extra)") }

        // The server can still say why before closing.
        try server.send(.errorResponse(id: nil, error: JSONRPCError(code: .parseError, message: "framing")))
        server.close()
        #expect(throws: ConnectionError.closed) { try server.send(.notification(method: "late", params: nil)) }
        let written = String(decoding: readAll(fromServer.read), as: UTF8.self)
        #expect(written == "Content-Length: 71\r\n\r\n" + #"{"error":{"code":-32700,"message":"framing"},"id":null,"jsonrpc":"2.0"}"#)
        _ = Glibc.close(toServer.write)
        _ = Glibc.close(fromServer.read)
    }

    @Test func closingFromTheHandlerStopsDelivery() async throws {
        let toServer = makePipe()
        let server = try Connection(input: toServer.read, output: makePipe().write)
        let (stream, continuation) = AsyncStream.makeStream(of: ConnectionEvent.self)
        server.start { event in
            continuation.yield(event)
            if case .message = event { server.close() }
            if case .inputEnded = event { continuation.finish() }
        }
        let body = Array(#"{"jsonrpc":"2.0","method":"a"}"#.utf8)
        writeString(String(decoding: MessageFramer.frame(body: body) + MessageFramer.frame(body: body), as: UTF8.self), to: toServer.write)
        var events = stream.makeAsyncIterator()
        guard case .message? = await events.next(), case .inputEnded(nil)? = await events.next() else {
            Issue.record("expected one message, then the end")
            return
        }
        if let extra = await events.next() { Issue.record("event after the end: \(extra)") }
        _ = Glibc.close(toServer.write)
    }

    @Test func endOfInputInsideAMessage() async throws {
        let toServer = makePipe()
        let server = try Connection(input: toServer.read, output: makePipe().write)
        var serverEvents = events(of: server).makeAsyncIterator()
        writeString("Content-Length: 10\r\n\r\n{}", to: toServer.write)
        _ = Glibc.close(toServer.write)
        guard case .inputEnded(.framing(.truncated))? = await serverEvents.next() else {
            Issue.record("expected truncation")
            return
        }
        server.close()
    }

    @Test func peerClosingEndsInputAndFailsPendingRequests() async throws {
        let (serverSide, clientSide) = try Connection.pair()
        var serverEvents = events(of: serverSide).makeAsyncIterator()
        let client = JSONRPCClient(connection: clientSide)

        let pending = Task { try await client.request("never answered") }
        guard case .message(.request(_, "never answered", nil))? = await serverEvents.next() else {
            Issue.record("request did not arrive")
            return
        }
        serverSide.close()
        await #expect(throws: ConnectionError.closed) { try await pending.value }
        await #expect(throws: ConnectionError.closed) { try await client.request("after") }
        guard case .inputEnded(nil)? = await serverEvents.next() else {
            Issue.record("server input did not end")
            return
        }
        client.close()
    }

    @Test func concurrentSendsNeverInterleave() async throws {
        let (serverSide, clientSide) = try Connection.pair()
        serverSide.start { _ in }
        var received = events(of: clientSide).makeAsyncIterator()
        let senders = 8, perSender = 250
        Task.detached {
            runOnThreads(count: senders) { sender in
                for index in 0..<perSender {
                    let text = String(repeating: Character(Unicode.Scalar(UInt8(65 + sender))), count: index * 7)
                    try! serverSide.send(.notification(method: "n", params: ["sender": .integer(Int64(sender)), "text": .string(text)]))
                }
            }
        }
        var nextIndex = [Int](repeating: 0, count: senders)
        for _ in 0..<senders * perSender {
            guard case .message(.notification("n", let params?))? = await received.next(),
                  case .integer(let sender)? = params["sender"], case .string(let text)? = params["text"] else {
                Issue.record("garbled message")
                return
            }
            let index = nextIndex[Int(sender)]
            #expect(text == String(repeating: Character(Unicode.Scalar(UInt8(65 + Int(sender)))), count: index * 7))
            nextIndex[Int(sender)] += 1
        }
        #expect(nextIndex == [Int](repeating: perSender, count: senders))
        serverSide.close()
        clientSide.close()
    }

    @Test func takeOverRedirectsStrayOutputAndInput() throws {
        let fakeStdin = makePipe(), fakeStdout = makePipe(), fakeStderr = makePipe()
        let connection = try Connection.takeOver(
            input: fakeStdin.read, output: fakeStdout.write, errors: fakeStderr.write, limits: .init())

        writeString("stray print\n", to: fakeStdout.write)  // What `print` would do after the takeover.
        try connection.send(.notification(method: "hello", params: nil))
        connection.close()
        _ = Glibc.close(fakeStdout.write)
        _ = Glibc.close(fakeStderr.write)

        #expect(String(decoding: readAll(fakeStdout.read), as: UTF8.self)
            == "Content-Length: 34\r\n\r\n" + #"{"jsonrpc":"2.0","method":"hello"}"#)
        #expect(String(decoding: readAll(fakeStderr.read), as: UTF8.self) == "stray print\n")
        #expect(readAll(fakeStdin.read).isEmpty)  // Now /dev/null.
        for descriptor in [fakeStdin.read, fakeStdin.write, fakeStdout.read, fakeStderr.read] { _ = Glibc.close(descriptor) }
    }
}

/// Runs `body` on `count` threads at once and waits for all of them.
private func runOnThreads(count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    final class Context {
        let body: @Sendable (Int) -> Void
        let index: Int
        init(_ body: @escaping @Sendable (Int) -> Void, _ index: Int) { (self.body, self.index) = (body, index) }
    }
    var threads: [pthread_t] = []
    for index in 0..<count {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(Context(body, index)).toOpaque()
        precondition(pthread_create(&thread, nil, { raw in
            let context = Unmanaged<Context>.fromOpaque(raw!).takeRetainedValue()
            context.body(context.index)
            return nil
        }, context) == 0)
        threads.append(thread)
    }
    for thread in threads { pthread_join(thread, nil) }
}
