/// `debug/stopped` (schema `StoppedEvent`): the run has stopped; earlier references are invalid.
public struct StoppedNotification: NotificationType {
    public static let method = "debug/stopped"
    public static let direction = MessageDirection.serverToClient

    public var sessionId: Int
    public var reason: StopReason
    /// Nil for a stop on entry.
    public var hook: String?
    public var layer: Int?
    /// The positions of the pass stopped in.
    public var positions: PositionRange
    /// 0 for the prompt pass, n for the pass of the n-th generated token.
    public var tokenStep: Int
    /// For reason `.breakpoint`.
    public var breakpointIds: [Int]?
    /// For reason `.exception`.
    public var exceptionFilter: ExceptionFilter?
    /// True for a stop in the recorded past (after `debug/stepBack`); nil means false.
    public var recorded: Bool?
    public var description: String?

    public init(sessionId: Int, reason: StopReason, hook: String? = nil, layer: Int? = nil, positions: PositionRange,
                tokenStep: Int, breakpointIds: [Int]? = nil, exceptionFilter: ExceptionFilter? = nil,
                recorded: Bool? = nil, description: String? = nil) {
        self.sessionId = sessionId
        self.reason = reason
        self.hook = hook
        self.layer = layer
        self.positions = positions
        self.tokenStep = tokenStep
        self.breakpointIds = breakpointIds
        self.exceptionFilter = exceptionFilter
        self.recorded = recorded
        self.description = description
    }
}
