import JSONRPC

/// A request from a DAP client: `{"seq", "type": "request", "command", "arguments"?}`.
struct DAPRequest: Equatable, Sendable {
    let seq: Int64
    let command: String
    let arguments: JSONValue?

    /// Reads a message body; anything but a well-formed request is refused with the reason.
    init(_ body: JSONValue) throws(DAPMessageError) {
        guard case .object(let members) = body else { throw DAPMessageError("expected an object, found \(body.typeName)") }
        guard members["type"] == "request" else {
            throw DAPMessageError("only requests are accepted, not \(members["type"].map { "\($0)" } ?? "a message without \"type\"")")
        }
        guard case .integer(let seq)? = members["seq"] else { throw DAPMessageError("a request needs an integer \"seq\"") }
        guard case .string(let command)? = members["command"] else { throw DAPMessageError("a request needs a string \"command\"") }
        switch members["arguments"] {
        case nil, .null?: arguments = nil
        case .object?: arguments = members["arguments"]
        case let other?: throw DAPMessageError("\"arguments\" must be an object, found \(other.typeName)")
        }
        self.seq = seq
        self.command = command
    }
}

/// Why a message body is not a DAP request.
struct DAPMessageError: Error, Equatable, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A message the adapter sends; the transport numbers it (`seq`) as it goes out.
enum DAPOutgoing: Equatable, Sendable {
    case response(requestSeq: Int64, command: String, body: JSONValue?)
    case errorResponse(requestSeq: Int64, command: String, error: DAPError)
    case event(String, body: JSONValue?)

    /// The message as JSON, numbered `seq`.
    func json(seq: Int64) -> JSONValue {
        var members: [String: JSONValue] = ["seq": .integer(seq)]
        switch self {
        case .response(let requestSeq, let command, let body):
            members["type"] = "response"
            members["request_seq"] = .integer(requestSeq)
            members["command"] = .string(command)
            members["success"] = true
            members["body"] = body
        case .errorResponse(let requestSeq, let command, let error):
            members["type"] = "response"
            members["request_seq"] = .integer(requestSeq)
            members["command"] = .string(command)
            members["success"] = false
            members["message"] = .string(error.message)
            members["body"] = ["error": ["id": .integer(Int64(error.id)), "format": .string(error.message),
                                         "showUser": .bool(error.showUser)]]
        case .event(let name, let body):
            members["type"] = "event"
            members["event"] = .string(name)
            members["body"] = body
        }
        return .object(members)
    }
}

/// A failed request: `message` for the user, `id` one of lmdbg's protocol error codes (Protocol/README.md).
struct DAPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The JSON-RPC protocol's codes, reused so that both fronts classify failures alike.
    enum Code: Int, Sendable {
        case invalidRequest = -32600, invalidParams = -32602, internalError = -32603
        case noModelLoaded = -32001, invalidSessionState = -32003, modelLoadFailed = -32004
        case memoryBudgetExceeded = -32005, expressionError = -32006
    }

    let id: Int
    let message: String
    /// Whether a client should show it in its UI (as opposed to only in a log).
    let showUser: Bool

    init(_ code: Code, _ message: String, showUser: Bool = true) {
        id = code.rawValue
        self.message = message
        self.showUser = showUser
    }

    var description: String { message }
}
