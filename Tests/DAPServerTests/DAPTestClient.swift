import Foundation
import JSONRPC
@testable import DAPServer

/// Drives a `DAPAdapter` in process: sends requests as JSON bodies and waits for responses and events, which it
/// sees exactly as they would go on the wire (numbered by `seq`).
final class DAPTestClient: @unchecked Sendable {
    private let condition = NSCondition()
    /// Every message the adapter sent, in order.
    private(set) var received: [JSONValue] = []
    private var consumedEvents = 0
    private var nextSeq: Int64 = 1
    private var outgoingSeq: Int64 = 1
    var adapter: DAPAdapter!

    init(options: DAPOptions = DAPOptions()) {
        adapter = DAPAdapter(options: options) { [unowned self] message in
            condition.withLock {
                received.append(message.json(seq: outgoingSeq))
                outgoingSeq += 1
                condition.broadcast()
            }
        }
    }

    /// Sends a request and waits for its response (the whole message: `success`, `body`, `message`).
    @discardableResult
    func request(_ command: String, _ arguments: JSONValue? = nil, timeout: TimeInterval = 120) -> JSONValue {
        let seq = condition.withLock { () -> Int64 in
            defer { nextSeq += 1 }
            return nextSeq
        }
        var message: [String: JSONValue] = ["seq": .integer(seq), "type": "request", "command": .string(command)]
        message["arguments"] = arguments
        adapter.receive(.object(message))
        return condition.withLock {
            let deadline = Date(timeIntervalSinceNow: timeout)
            while true {
                if let response = received.first(where: { $0["type"] == "response" && $0["request_seq"] == .integer(seq) }) {
                    return response
                }
                if !condition.wait(until: deadline) { return ["success": false, "message": "no response in time"] }
            }
        }
    }

    /// The body of a successful response; records an issue through `#require` in the caller when it failed.
    func body(_ command: String, _ arguments: JSONValue? = nil) -> JSONValue? {
        let response = request(command, arguments)
        return response["success"] == true ? (response["body"] ?? .object([:])) : nil
    }

    /// The next event named `name` not consumed yet (skipping other events), whole; nil after `timeout`.
    func next(_ name: String, timeout: TimeInterval = 120) -> JSONValue? {
        condition.withLock {
            let deadline = Date(timeIntervalSinceNow: timeout)
            while true {
                let events = received.filter { $0["type"] == "event" }
                while consumedEvents < events.count {
                    consumedEvents += 1
                    if events[consumedEvents - 1]["event"] == .string(name) { return events[consumedEvents - 1] }
                }
                if !condition.wait(until: deadline) { return nil }
            }
        }
    }

    /// Every event named `name` received so far.
    func events(_ name: String) -> [JSONValue] {
        condition.withLock { received.filter { $0["type"] == "event" && $0["event"] == .string(name) } }
    }
}

extension JSONValue {
    var array: [JSONValue]? { if case .array(let elements) = self { elements } else { nil } }
    var string: String? { if case .string(let text) = self { text } else { nil } }
    var int: Int? { if case .integer(let value) = self { Int(value) } else { nil } }
    var double: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }
    subscript(index: Int) -> JSONValue? { array.flatMap { index < $0.count ? $0[index] : nil } }
}

/// Decodes base64 little-endian float32 bytes.
func floats(base64 text: String) -> [Float]? {
    guard let data = Data(base64Encoded: text), data.count % 4 == 0 else { return nil }
    return data.withUnsafeBytes { raw in
        (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }
}
