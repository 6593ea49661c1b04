/// A breakpoint as the client asks for it (`debug/setBreakpoints`).
public struct SourceBreakpoint: Codable, Sendable, Equatable {
    /// A hook point name or glob.
    public var hook: String
    /// An expression; only hits where it is true count.
    public var condition: String?
    /// DAP-style: `5`, `>= 3`, `% 2`.
    public var hitCondition: String?
    /// Makes this a logpoint: send this text (with `{expression}`s interpolated) instead of stopping.
    public var logMessage: String?

    public init(hook: String, condition: String? = nil, hitCondition: String? = nil, logMessage: String? = nil) {
        self.hook = hook
        self.condition = condition
        self.hitCondition = hitCondition
        self.logMessage = logMessage
    }
}

/// A breakpoint as the server resolved it.
public struct Breakpoint: Codable, Sendable, Equatable {
    /// Unique for the server's lifetime.
    public var id: Int
    public var verified: Bool
    /// Why it is not verified.
    public var message: String?
    /// How many hook points the glob matches.
    public var hooks: Int

    public init(id: Int, verified: Bool, message: String? = nil, hooks: Int) {
        self.id = id
        self.verified = verified
        self.message = message
        self.hooks = hooks
    }
}

/// An exception filter: stop on a NaN, an infinity, or a massive activation.
public enum ExceptionFilter: String, Codable, Sendable, CaseIterable {
    case nan, inf, massive
}
