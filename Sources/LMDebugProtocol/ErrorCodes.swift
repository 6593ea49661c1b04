import JSONRPC

/// Every error code of the protocol (schema `x-errors`): JSON-RPC's standard codes, LSP's two, and lmdbg's own.
public enum ProtocolErrorCode: Int, Sendable, CaseIterable {
    /// The message is not JSON (answered with id null).
    case parseError = -32700
    /// Not a JSON-RPC request; a second `initialize`; a request after `shutdown`.
    case invalidRequest = -32600
    case methodNotFound = -32601
    /// The params do not match the schema, or name something that does not exist (the message names it).
    case invalidParams = -32602
    case internalError = -32603
    /// A request before `initialize` (LSP).
    case serverNotInitialized = -32002
    /// Cancelled by `$/cancelRequest` (LSP).
    case requestCancelled = -32800
    case noModelLoaded = -32001
    /// No run, or not stopped; `data` is `SessionStateErrorData`.
    case invalidSessionState = -32003
    /// The model file is missing, corrupt or unsupported; the message names the cause.
    case modelLoadFailed = -32004
    case memoryBudgetExceeded = -32005
    /// An expression did not parse or evaluate; `data` is `ExpressionErrorData`.
    case expressionError = -32006
}

extension ProtocolErrorCode {
    /// The code as JSONRPC carries it.
    public var code: JSONRPCError.Code { JSONRPCError.Code(rawValue: Int64(rawValue)) }
}

/// lmdbg's own codes, beside JSONRPC's standard and LSP ones.
extension JSONRPCError.Code {
    public static let noModelLoaded = ProtocolErrorCode.noModelLoaded.code
    public static let invalidSessionState = ProtocolErrorCode.invalidSessionState.code
    public static let modelLoadFailed = ProtocolErrorCode.modelLoadFailed.code
    public static let memoryBudgetExceeded = ProtocolErrorCode.memoryBudgetExceeded.code
    public static let expressionError = ProtocolErrorCode.expressionError.code
}

extension JSONRPCError {
    /// `-32003`, with the run's state as `data`, e.g. `invalidSessionState("debug/next needs a stopped run; it is running", state: .running)`.
    public static func invalidSessionState(_ message: String, state: SessionState) -> JSONRPCError {
        JSONRPCError(code: .invalidSessionState, message: message, data: .object(["state": .string(state.rawValue)]))
    }

    /// `-32006`, locating the problem in the expression.
    public static func expressionError(_ message: String, expression: String, position: Int) -> JSONRPCError {
        JSONRPCError(code: .expressionError, message: message,
                     data: .object(["expression": .string(expression), "position": .integer(Int64(position))]))
    }
}

/// `data` of `-32003` (invalidSessionState).
public struct SessionStateErrorData: Codable, Sendable, Equatable {
    public var state: SessionState

    public init(state: SessionState) { self.state = state }
}

/// `data` of `-32006` (expressionError).
public struct ExpressionErrorData: Codable, Sendable, Equatable {
    /// The expression as received.
    public var expression: String
    /// Offset of the problem, in Unicode scalars from the start of `expression`.
    public var position: Int

    public init(expression: String, position: Int) {
        self.expression = expression
        self.position = position
    }
}
