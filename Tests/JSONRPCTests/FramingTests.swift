import Testing
@testable import JSONRPC

/// Feeds `stream` to a framer in chunks of `chunkSize` bytes, collecting bodies until the end or an error.
private func bodies(in stream: [UInt8], chunkSize: Int = .max, limits: MessageFramer.Limits = .init())
    -> (bodies: [[UInt8]], error: FramingError?)
{
    var framer = MessageFramer(limits: limits)
    var bodies: [[UInt8]] = []
    var offset = 0
    do {
        while offset < stream.count {
            let end = min(stream.count, offset + min(chunkSize, stream.count))
            framer.append(Array(stream[offset..<end]))
            offset = end
            while let body = try framer.nextBody() { bodies.append(body) }
        }
        try framer.finish()
        return (bodies, nil)
    } catch {
        return (bodies, error)
    }
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite struct FramingTests {
    let messages = [
        #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#,
        #"{"jsonrpc":"2.0","method":"debug/output","params":{"text":"é🦙\r\n"}}"#,
        "",
        #"{"jsonrpc":"2.0","id":2,"result":null}"#,
    ].map(bytes)

    @Test func frameWritesContentLength() {
        #expect(MessageFramer.frame(body: bytes("{}")) == bytes("Content-Length: 2\r\n\r\n{}"))
        #expect(MessageFramer.frame(body: bytes("é")) == bytes("Content-Length: 2\r\n\r\né"))
    }

    @Test(arguments: [1, 2, 3, 7, 64, Int.max])
    func packedMessagesInAnyChunking(chunkSize: Int) {
        let stream = messages.flatMap { MessageFramer.frame(body: $0) }
        let result = bodies(in: stream, chunkSize: chunkSize)
        #expect(result.error == nil)
        #expect(result.bodies == messages)
    }

    @Test func byteAtATimeYieldsEachBodyExactlyWhenComplete() throws {
        var framer = MessageFramer()
        let framed = MessageFramer.frame(body: messages[0])
        for (index, byte) in framed.enumerated() {
            framer.append([byte])
            let body = try framer.nextBody()
            #expect((body != nil) == (index == framed.count - 1))
        }
        try framer.finish()
    }

    @Test func contentTypeAndOtherHeadersAreAccepted() {
        let stream = bytes("content-length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\nX-Trace:\t1 \r\n\r\n{}")
            + bytes("Content-Type: application/vscode-jsonrpc; charset=utf8\r\nCONTENT-LENGTH:   3  \r\n\r\n[1]")
            + bytes("Content-Length: 0002\r\n\r\n{}")
        let result = bodies(in: stream)
        #expect(result.error == nil)
        #expect(result.bodies == [bytes("{}"), bytes("[1]"), bytes("{}")])
    }

    @Test(arguments: [
        ("\r\n{}", FramingError.missingContentLength),
        ("Content-Type: x\r\n\r\n{}", .missingContentLength),
        ("Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", .duplicateContentLength),
        ("Content-Length: 2\r\ncontent-length: 3\r\n\r\n{}", .duplicateContentLength),
        ("Content-Length: -2\r\n\r\n{}", .invalidContentLength("-2")),
        ("Content-Length: +2\r\n\r\n{}", .invalidContentLength("+2")),
        ("Content-Length: two\r\n\r\n{}", .invalidContentLength("two")),
        ("Content-Length: 2.0\r\n\r\n{}", .invalidContentLength("2.0")),
        ("Content-Length: 0x10\r\n\r\n{}", .invalidContentLength("0x10")),
        ("Content-Length:\r\n\r\n{}", .invalidContentLength("")),
        ("Content-Length: 1 2\r\n\r\n{}", .invalidContentLength("1 2")),
        ("Content-Length: 67108865\r\n\r\n", .contentLengthTooLarge("67108865", limit: 64 << 20)),
        ("Content-Length: 99999999999999999999999999999\r\n\r\n", .contentLengthTooLarge("99999999999999999999999999999", limit: 64 << 20)),
        ("Content-Length 2\r\n\r\n{}", .malformedHeader("no colon in header line")),
        (": 2\r\n\r\n{}", .malformedHeader("invalid header name \"\"")),
        ("Content Length: 2\r\n\r\n{}", .malformedHeader("invalid header name \"Content Length\"")),
        (#"{"jsonrpc":"2.0"}"# + "\r\n", .malformedHeader("invalid header name \"{\"jsonrpc\"\"")),
        ("Content-Length: 2\n\n{}", .malformedHeader("line ended by LF without CR")),
        ("Content-Length: 2\r\r\n\r\n{}", .malformedHeader("CR not followed by LF")),
        ("Content-Length: 2\r\n\u{0}\r\n{}", .malformedHeader("byte 0x0 in header")),
        ("Content-Length: 2\r\nX: é\r\n\r\n{}", .malformedHeader("byte 0xc3 in header")),
        ("Content-Length: 2\r\n\r", .truncated),
        ("Content-Length: 5\r\n\r\n{}", .truncated),
        ("Content-Len", .truncated),
        ("Content-Length: 2\r\n\r\n{}\r", .truncated),
        ("Content-Length: 2\r\n\r\n{}\r\n", .missingContentLength),
    ])
    func badHeaders(stream: String, expected: FramingError) {
        for chunkSize in [1, .max] {
            #expect(bodies(in: bytes(stream), chunkSize: chunkSize).error == expected, "chunk size \(chunkSize)")
        }
    }

    @Test func contentLengthAtTheLimitIsAccepted() {
        let limits = MessageFramer.Limits(maximumContentLength: 4)
        #expect(bodies(in: bytes("Content-Length: 4\r\n\r\n[12]"), limits: limits).bodies == [bytes("[12]")])
        #expect(bodies(in: bytes("Content-Length: 5\r\n\r\n[123]"), limits: limits).error == .contentLengthTooLarge("5", limit: 4))
    }

    @Test func longHeaderLinesAreRejectedWithoutWaitingForTheirEnd() throws {
        let limits = MessageFramer.Limits(maximumHeaderLineLength: 32)
        let exact = "X-Pad: " + String(repeating: "a", count: 25)  // 32 bytes
        #expect(bodies(in: bytes(exact + "\r\nContent-Length: 2\r\n\r\n{}"), chunkSize: 1, limits: limits).error == nil)
        var framer = MessageFramer(limits: limits)
        framer.append(bytes(exact + "a"))  // no line end yet
        #expect(throws: FramingError.headerLineTooLong(limit: 32)) { try framer.nextBody() }
        // Over a megabyte of garbage without a newline stops at the limit.
        #expect(bodies(in: [UInt8](repeating: 0x41, count: 1 << 20), chunkSize: 4096).error == .headerLineTooLong(limit: 1024))
    }

    @Test func tooManyHeaderLines() {
        let limits = MessageFramer.Limits(maximumHeaderLines: 3)
        #expect(bodies(in: bytes("A: 1\r\nB: 2\r\nContent-Length: 2\r\n\r\n{}"), limits: limits).error == nil)
        #expect(bodies(in: bytes("A: 1\r\nB: 2\r\nC: 3\r\nContent-Length: 2\r\n\r\n{}"), limits: limits).error
            == .tooManyHeaderLines(limit: 3))
    }

    @Test func bodiesBeforeAnErrorAreDeliveredAndTheErrorSticks() throws {
        var framer = MessageFramer()
        framer.append(MessageFramer.frame(body: messages[0]) + bytes("Content-Length: x\r\n\r\n") + MessageFramer.frame(body: messages[1]))
        #expect(try framer.nextBody() == messages[0])
        #expect(throws: FramingError.invalidContentLength("x")) { try framer.nextBody() }
        framer.append(MessageFramer.frame(body: messages[1]))
        #expect(throws: FramingError.invalidContentLength("x")) { try framer.nextBody() }
        #expect(throws: FramingError.invalidContentLength("x")) { try framer.finish() }
    }

    @Test func largeBodyArrivingInPieces() throws {
        let body = [UInt8](repeating: UInt8(ascii: "7"), count: 3_000_000)
        let result = bodies(in: MessageFramer.frame(body: body) + MessageFramer.frame(body: messages[0]), chunkSize: 65536)
        #expect(result.error == nil)
        #expect(result.bodies == [body, messages[0]])
    }
}
