import JSONRPC

// LMDebugProtocol: the lmdbg protocol's messages as Swift values, one type per method.
// Protocol/lmdbg.schema.json is the source of truth; LMDebugProtocolTests check these types against it.
// No I/O here: the JSONRPC module frames and sends, the server dispatches.

/// Who sends a message.
public enum MessageDirection: String, Sendable, CaseIterable {
    case clientToServer
    case serverToClient
}

/// A message of the protocol: its `params` object, as a Swift value, with the method name it travels under.
///
/// A conforming type *is* the params: encoding a value gives the JSON-RPC `params` member. Methods without
/// params have a type with no stored properties, which encodes as `{}` (and which a receiver decodes from
/// `{}` when `params` is absent).
public protocol MessageType: Codable, Sendable, Equatable {
    /// The JSON-RPC method name, e.g. `debug/setBreakpoints`.
    static var method: String { get }
    /// Who sends it.
    static var direction: MessageDirection { get }
}

extension MessageType {
    /// Decodes a message's `params`; absent params (`nil`) read as `{}`, so a method with no required
    /// member may leave them out. Errors name the member at fault (answer them with `-32602`).
    public static func decode(params: JSONValue?) throws -> Self {
        try JSONValueDecoder().decode(Self.self, from: params ?? .object([:]))
    }

    /// The `params` member for this message.
    public func encodedParams() throws -> JSONValue {
        try JSONValueEncoder().encode(self)
    }
}

/// A request (always client → server in this protocol) and the type of its successful result.
///
/// ```swift
/// public struct SetBreakpointsRequest: RequestType {
///     public static let method = "debug/setBreakpoints"
///     public typealias Response = SetBreakpointsResult
///     public var breakpoints: [SourceBreakpoint]
/// }
/// ```
public protocol RequestType: MessageType {
    /// The `result` member of a successful response.
    associatedtype Response: Codable & Sendable & Equatable
}

extension RequestType {
    public static var direction: MessageDirection { .clientToServer }
}

/// A notification: a message without an id, never answered. Its `direction` says who sends it.
public protocol NotificationType: MessageType {}

/// The result `{}` of requests that only acknowledge (`debug/continue`, `patch/clear` …).
public struct EmptyResult: Codable, Sendable, Equatable {
    public init() {}
}
