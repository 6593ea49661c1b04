/// `initialized`: the client has received the `initialize` result.
public struct InitializedNotification: NotificationType {
    public static let method = "initialized"
    public static let direction = MessageDirection.clientToServer

    public init() {}
}
