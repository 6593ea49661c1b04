import JSONRPC

/// `$/cancelRequest`: asks the server to cancel a pending request (which then answers `-32800`).
public struct CancelRequestNotification: NotificationType {
    public static let method = "$/cancelRequest"
    public static let direction = MessageDirection.clientToServer

    /// The id of the request to cancel.
    public var id: RequestID

    public init(id: RequestID) { self.id = id }
}
