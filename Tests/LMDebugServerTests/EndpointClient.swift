import Foundation
import JSONRPC
import ProtocolSchema
import Testing
@testable import LMDebugServer

/// Talks to an `Endpoint` in process, without framing: sends messages and waits for its answers.
final class EndpointClient: @unchecked Sendable {
    private let condition = NSCondition()
    private var responses: [RequestID: JSONRPCMessage] = [:]
    private var notifications: [(method: String, params: JSONValue)] = []
    private var consumed = 0
    /// Every message the endpoint sent, in order.
    private(set) var sent: [JSONRPCMessage] = []
    private var nextID: Int64 = 1
    /// The method of each request sent, by id.
    private var methods: [RequestID: String] = [:]
    var endpoint: Endpoint!

    init(options: ServerOptions = ServerOptions()) {
        endpoint = Endpoint(options: options) { [unowned self] message in
            condition.withLock {
                sent.append(message)
                switch message {
                case .response(let id, _), .errorResponse(let id?, _): responses[id] = message
                case .errorResponse(nil, _): responses[.string("null")] = message
                case .notification(let method, let params): notifications.append((method, params ?? .null))
                case .request: break
                }
                condition.broadcast()
            }
        }
    }

    /// Sends a request and waits for its answer: the result, or the error.
    func request(_ method: String, _ params: JSONValue? = nil, timeout: TimeInterval = 60) -> Result<JSONValue, JSONRPCError> {
        wait(for: send(method, params), timeout: timeout)
    }

    /// Sends a request without waiting; `wait(for:)` takes its answer.
    func send(_ method: String, _ params: JSONValue? = nil) -> RequestID {
        let id = condition.withLock { () -> RequestID in
            defer { nextID += 1 }
            methods[.integer(nextID)] = method
            return .integer(nextID)
        }
        endpoint.receive(.request(id: id, method: method, params: params))
        return id
    }

    func wait(for id: RequestID, timeout: TimeInterval = 60) -> Result<JSONValue, JSONRPCError> {
        condition.withLock {
            let deadline = Date(timeIntervalSinceNow: timeout)
            while responses[id] == nil {
                if !condition.wait(until: deadline) {
                    return .failure(JSONRPCError(code: -1, message: "no answer to \(id) in time"))
                }
            }
            switch responses.removeValue(forKey: id)! {
            case .response(_, let result): return .success(result)
            case .errorResponse(_, let error): return .failure(error)
            default: fatalError("not an answer")
            }
        }
    }

    /// Every message sent so far, each as a short label: `response 3`, `debug/stopped 1` (with the session id).
    func labels() -> [String] {
        condition.withLock {
            sent.map { message in
                switch message {
                case .response(let id, _), .errorResponse(let id?, _): "response \(id.jsonValue.int ?? -1)"
                case .notification(let method, let params): "\(method) \(params?["sessionId"]?.int ?? 0)"
                default: "other"
                }
            }
        }
    }

    /// The schema's complaints about every message the endpoint sent so far.
    func schemaProblems() throws -> [String] {
        let description = try ProtocolDescription(contentsOf: try #require(ProtocolDescription.schemaURL()))
        let (messages, methods) = condition.withLock { (sent, self.methods) }
        return messages.flatMap { message in
            description.checkServerMessage(message.jsonValue) { id in RequestID(id).flatMap { methods[$0] } }
        }
    }

    func notify(_ method: String, _ params: JSONValue? = nil) {
        endpoint.receive(.notification(method: method, params: params))
    }

    /// The next notification not seen yet with `method`, skipping others; nil after `timeout`.
    func next(_ method: String, timeout: TimeInterval = 60) -> JSONValue? {
        condition.withLock {
            let deadline = Date(timeIntervalSinceNow: timeout)
            while true {
                while consumed < notifications.count {
                    consumed += 1
                    if notifications[consumed - 1].method == method { return notifications[consumed - 1].params }
                }
                if !condition.wait(until: deadline) { return nil }
            }
        }
    }
}

extension Result where Success == JSONValue, Failure == JSONRPCError {
    var value: JSONValue? { try? get() }
    var code: Int64? {
        if case .failure(let error) = self { return error.code.rawValue }
        return nil
    }
    var message: String? {
        if case .failure(let error) = self { return error.message }
        return nil
    }
}

extension JSONValue {
    var int: Int? { if case .integer(let value) = self { return Int(value) }; return nil }
    var string: String? { if case .string(let value) = self { return value }; return nil }
    var array: [JSONValue]? { if case .array(let value) = self { return value }; return nil }
    subscript(index: Int) -> JSONValue? {
        guard let array, array.indices.contains(index) else { return nil }
        return array[index]
    }
}
