/// One JSON-RPC 2.0 message.
///
/// `params` is an object or an array when present. A response's `result` may be `.null`; an error
/// response's `id` is nil when the request's id could not be read.
public enum JSONRPCMessage: Hashable, Sendable {
    case request(id: RequestID, method: String, params: JSONValue?)
    case notification(method: String, params: JSONValue?)
    case response(id: RequestID, result: JSONValue)
    case errorResponse(id: RequestID?, error: JSONRPCError)
}

/// A body that is not a valid JSON-RPC message, with the error response it deserves.
///
/// `error.code` is `.parseError` for bytes that are not JSON and `.invalidRequest` for JSON that is
/// not a message. `id` is the request's id when the body is an object with a "method" and a valid id,
/// so the error response can name it; otherwise nil, which answers with `"id":null`.
public struct InvalidMessage: Error, Hashable, Sendable, CustomStringConvertible {
    public var error: JSONRPCError
    public var id: RequestID?

    public init(error: JSONRPCError, id: RequestID? = nil) {
        self.error = error
        self.id = id
    }

    /// The error response to send back.
    public var response: JSONRPCMessage { .errorResponse(id: id, error: error) }

    public var description: String { error.message }
}

extension JSONRPCMessage {
    /// Parses and classifies one message body.
    ///
    /// Batches (top-level arrays, including the empty one) are not supported: they are rejected as one
    /// invalid request, which JSON-RPC answers with a single error whose id is null. `"params": null`
    /// is accepted as absent params.
    public init(parsing body: [UInt8]) throws(InvalidMessage) {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: body)
        } catch {
            throw InvalidMessage(error: JSONRPCError(code: .parseError, message: "Parse error: \(error)"))
        }
        try self.init(value)
    }

    /// Classifies a parsed JSON value.
    public init(_ value: JSONValue) throws(InvalidMessage) {
        guard case .object(let members) = value else {
            if case .array = value { throw invalid("batch requests are not supported") }
            throw invalid("expected an object, found \(value.typeName)")
        }
        let method = members["method"]
        // The id a request error response can name.
        let requestID = method != nil ? members["id"].flatMap(RequestID.init) : nil
        guard members["jsonrpc"] == "2.0" else { throw invalid(#""jsonrpc" must be "2.0""#, id: requestID) }

        if let method {
            guard case .string(let name) = method else { throw invalid(#""method" must be a string"#, id: requestID) }
            let params: JSONValue?
            switch members["params"] {
            case nil, .null?: params = nil
            case .object?, .array?: params = members["params"]
            default: throw invalid(#""params" must be an object or an array"#, id: requestID)
            }
            guard let id = members["id"] else {
                self = .notification(method: name, params: params)
                return
            }
            guard let requestID else { throw invalid(#""id" must be an integer or a string, found \#(id.typeName)"#) }
            self = .request(id: requestID, method: name, params: params)
            return
        }

        guard let id = members["id"] else { throw invalid(#"expected "method", or "id" with "result" or "error""#) }
        switch (members["result"], members["error"]) {
        case (let result?, nil):
            guard let id = RequestID(id) else {
                throw invalid(#"a response's "id" must be an integer or a string, found \#(id.typeName)"#)
            }
            self = .response(id: id, result: result)
        case (nil, let error?):
            guard id == .null || RequestID(id) != nil else {
                throw invalid(#"an error response's "id" must be an integer, a string or null, found \#(id.typeName)"#)
            }
            self = .errorResponse(id: RequestID(id), error: try errorObject(error))
        case (nil, nil):
            throw invalid(#"a response needs "result" or "error""#)
        case (_?, _?):
            throw invalid(#"a response cannot have both "result" and "error""#)
        }
    }

    /// The message as a JSON object.
    public var jsonValue: JSONValue {
        var members: [String: JSONValue] = ["jsonrpc": "2.0"]
        switch self {
        case .request(let id, let method, let params):
            members["id"] = id.jsonValue
            members["method"] = .string(method)
            members["params"] = params
        case .notification(let method, let params):
            members["method"] = .string(method)
            members["params"] = params
        case .response(let id, let result):
            members["id"] = id.jsonValue
            members["result"] = result
        case .errorResponse(let id, let error):
            members["id"] = id?.jsonValue ?? .null
            var errorMembers: [String: JSONValue] = ["code": .integer(error.code.rawValue), "message": .string(error.message)]
            errorMembers["data"] = error.data
            members["error"] = .object(errorMembers)
        }
        return .object(members)
    }

    /// The message body: compact JSON with sorted keys.
    public func serialized() throws(JSONError) -> [UInt8] {
        try jsonValue.serialized()
    }
}

private func invalid(_ detail: String, id: RequestID? = nil) -> InvalidMessage {
    InvalidMessage(error: JSONRPCError(code: .invalidRequest, message: "Invalid Request: \(detail)"), id: id)
}

private func errorObject(_ value: JSONValue) throws(InvalidMessage) -> JSONRPCError {
    guard case .object(let members) = value else { throw invalid(#""error" must be an object, found \#(value.typeName)"#) }
    guard case .integer(let code)? = members["code"] else { throw invalid(#""error.code" must be an integer"#) }
    guard case .string(let message)? = members["message"] else { throw invalid(#""error.message" must be a string"#) }
    return JSONRPCError(code: .init(rawValue: code), message: message, data: members["data"])
}
