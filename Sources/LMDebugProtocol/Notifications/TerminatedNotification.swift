/// `debug/terminated` (schema `TerminatedEvent`): the run has ended; sent once per run.
public struct TerminatedNotification: NotificationType {
    public static let method = "debug/terminated"
    public static let direction = MessageDirection.serverToClient

    public var sessionId: Int
    public var reason: TerminationReason
    /// The generated tokens (not the prompt's).
    public var tokens: [Int]
    /// The generated text.
    public var text: String
    /// The patches in force at any time during the run.
    public var activePatches: [Int]
    /// For reason `.error`.
    public var message: String?

    public init(sessionId: Int, reason: TerminationReason, tokens: [Int], text: String, activePatches: [Int],
                message: String? = nil) {
        self.sessionId = sessionId
        self.reason = reason
        self.tokens = tokens
        self.text = text
        self.activePatches = activePatches
        self.message = message
    }
}
