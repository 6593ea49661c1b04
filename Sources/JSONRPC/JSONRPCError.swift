/// The `error` member of a JSON-RPC error response.
public struct JSONRPCError: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: Code
    public var message: String
    public var data: JSONValue?

    public init(code: Code, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    /// A JSON-RPC error code; the named ones are those of JSON-RPC 2.0 and LSP.
    public struct Code: RawRepresentable, Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
        public var rawValue: Int64

        public init(rawValue: Int64) { self.rawValue = rawValue }
        public init(integerLiteral value: Int64) { rawValue = value }

        /// The body is not valid JSON.
        public static let parseError: Code = -32700
        /// The JSON is not a valid request object.
        public static let invalidRequest: Code = -32600
        public static let methodNotFound: Code = -32601
        public static let invalidParams: Code = -32602
        public static let internalError: Code = -32603
        /// LSP: a request other than `initialize` arrived before it.
        public static let serverNotInitialized: Code = -32002
        /// LSP: the request was cancelled by `$/cancelRequest`.
        public static let requestCancelled: Code = -32800
        /// LSP: the state the request depended on changed before it finished.
        public static let contentModified: Code = -32801

        public var description: String { "\(rawValue)" }
    }

    public var description: String { "error \(code): \(message)" }

    /// -32602 for params that failed to decode; a `DecodingError` becomes
    /// `params.breakpoints[0].hook: expected string, found integer`.
    public static func invalidParams(_ error: Error) -> JSONRPCError {
        let message = (error as? DecodingError)?.pathDescription(root: "params") ?? "params: \(error)"
        return JSONRPCError(code: .invalidParams, message: message)
    }
}
