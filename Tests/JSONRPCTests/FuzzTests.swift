import Testing
@testable import JSONRPC

/// SplitMix64: a small seeded generator, so every run sees the same inputs.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// What one input turned into.
private struct Outcome {
    var messages = 0
    var invalidMessages = 0
    var framingError: FramingError?
    /// Broken properties, described; checked once at the end since `#expect` is slow in a hot loop.
    var violations: [String] = []
}

@Suite struct FuzzTests {
    static let corpus: [String] = [
        #"{"jsonrpc":"2.0","id":1,"method":"debug/evaluate","params":{"expression":"resid[-1].norm()","frameId":3}}"#,
        #"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"x"}}"#,
        #"{"jsonrpc":"2.0","id":"a","result":{"variables":[{"name":"é","value":1.5e-3}]}}"#,
        #"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error","data":[null,true]}}"#,
        #"[{"jsonrpc":"2.0","method":"a"}]"#,
        #"{"jsonrpc":"2.0","id":9223372036854775807,"method":"x","params":["\ud83e\udd99\n"]}"#,
    ]

    static let tokens: [String] = [
        "{", "}", "[", "]", ":", ",", "\"jsonrpc\"", "\"2.0\"", "\"id\"", "\"method\"", "\"params\"", "\"result\"",
        "\"error\"", "\"code\"", "\"message\"", "\"data\"", "1", "-1", "0", "1.5", "-2e10", "1e400", "18446744073709551616",
        "true", "false", "null", "\"\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\n\\t\"", "\"é🦙\"", " ", "\n", "\"", "\\", "nul",
    ]

    /// Runs one stream through framer and message parser in random chunks, checking what must hold.
    private static func run(_ stream: [UInt8], _ random: inout SeededGenerator) -> Outcome {
        var outcome = Outcome()
        var framer = MessageFramer(limits: .init(maximumContentLength: 1 << 16, maximumHeaderLineLength: 256))
        var offset = 0
        do {
            while offset < stream.count {
                let end = min(stream.count, offset + Int.random(in: 1...64, using: &random))
                framer.append(Array(stream[offset..<end]))
                offset = end
                while let body = try framer.nextBody() {
                    switch Result(catching: { () throws(InvalidMessage) in try JSONRPCMessage(parsing: body) }) {
                    case .success(let message):
                        outcome.messages += 1
                        // What parses must survive the trip back.
                        if (try? JSONRPCMessage(parsing: message.serialized())) != message {
                            outcome.violations.append("no round trip: \(message)")
                        }
                    case .failure(let invalid):
                        outcome.invalidMessages += 1
                        if invalid.error.code != .parseError && invalid.error.code != .invalidRequest {
                            outcome.violations.append("unexpected code: \(invalid)")
                        }
                        if invalid.error.code == .parseError && invalid.id != nil {
                            outcome.violations.append("parse error with an id: \(invalid)")
                        }
                    }
                }
            }
            try framer.finish()
        } catch {
            outcome.framingError = error
        }
        return outcome
    }

    private static func randomBytes(_ random: inout SeededGenerator) -> [UInt8] {
        var bytes: [UInt8] = []
        for _ in 0..<Int.random(in: 0...25, using: &random) {
            withUnsafeBytes(of: random.next()) { bytes += $0 }
        }
        return bytes
    }

    private static func mutatedFrames(_ random: inout SeededGenerator) -> [UInt8] {
        var stream = (0..<Int.random(in: 1...3, using: &random)).flatMap { _ in
            MessageFramer.frame(body: Array(corpus.randomElement(using: &random)!.utf8))
        }
        for _ in 0..<Int.random(in: 1...4, using: &random) where !stream.isEmpty {
            let index = Int.random(in: 0..<stream.count, using: &random)
            switch Int.random(in: 0..<6, using: &random) {
            case 0: stream[index] ^= 1 << UInt8.random(in: 0..<8, using: &random)
            case 1: stream.insert(UInt8.random(in: 0...255, using: &random), at: index)
            case 2: stream.remove(at: index)
            case 3: stream.removeSubrange(index...)
            case 4: stream.insert(contentsOf: stream[index..<min(stream.count, index + 16)], at: index)
            default: stream[index] = Array("0123456789:\r\n-".utf8).randomElement(using: &random)!
            }
        }
        return stream
    }

    /// Well-framed bodies of random JSON-ish text; the framer must return exactly these bodies.
    private static func jsonishBodies(_ random: inout SeededGenerator) -> [[UInt8]] {
        (0..<Int.random(in: 1...3, using: &random)).map { _ in
            Array((0..<Int.random(in: 0...24, using: &random)).map { _ in tokens.randomElement(using: &random)! }.joined().utf8)
        }
    }

    @Test func hundredThousandRandomInputsEndInMessagesOrTypedErrors() {
        var random = SeededGenerator(state: 0x6C6D_6462_6721)
        var totals = Outcome()
        var framingErrors = 0
        for iteration in 0..<100_000 {
            var outcome: Outcome
            switch iteration % 3 {
            case 0:
                outcome = Self.run(Self.randomBytes(&random), &random)
            case 1:
                outcome = Self.run(Self.mutatedFrames(&random), &random)
            default:
                let bodies = Self.jsonishBodies(&random)
                outcome = Self.run(bodies.flatMap(MessageFramer.frame), &random)
                if outcome.framingError != nil || outcome.messages + outcome.invalidMessages != bodies.count {
                    outcome.violations.append("well-framed bodies \(bodies) came out as \(outcome)")
                }
            }
            totals.messages += outcome.messages
            totals.invalidMessages += outcome.invalidMessages
            totals.violations += outcome.violations
            if outcome.framingError != nil { framingErrors += 1 }
        }
        #expect(totals.violations.isEmpty, "\(totals.violations.prefix(5))")
        // Each kind of ending must actually occur, or the generators have gone stale.
        #expect(totals.messages > 1_000)
        #expect(totals.invalidMessages > 10_000)
        #expect(framingErrors > 30_000)
    }

    @Test func parsedJSONRoundTrips() {
        var random = SeededGenerator(state: 42)
        var parsed = 0
        var violations: [String] = []
        for _ in 0..<20_000 {
            let text = (0..<Int.random(in: 1...12, using: &random)).map { _ in Self.tokens.randomElement(using: &random)! }.joined()
            guard let value = try? JSONValue(parsing: text) else { continue }
            parsed += 1
            if (try? JSONValue(parsing: value.serialized())) != value { violations.append(text) }
        }
        #expect(violations.isEmpty, "\(violations.prefix(5))")
        #expect(parsed > 1_000)
    }
}
