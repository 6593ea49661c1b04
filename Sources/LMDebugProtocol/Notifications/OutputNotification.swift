/// `debug/output` (schema `OutputEvent`): generated text, logpoint and server messages.
public struct OutputNotification: NotificationType {
    public static let method = "debug/output"
    public static let direction = MessageDirection.serverToClient

    /// Nil for server messages outside a run.
    public var sessionId: Int?
    public var category: OutputCategory
    public var text: String
    /// The token id, for `.generated`.
    public var token: Int?

    public init(sessionId: Int? = nil, category: OutputCategory, text: String, token: Int? = nil) {
        self.sessionId = sessionId
        self.category = category
        self.text = text
        self.token = token
    }
}
