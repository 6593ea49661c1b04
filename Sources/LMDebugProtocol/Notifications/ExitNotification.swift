/// `exit`: the server exits, with code 0 after `shutdown` and 1 otherwise.
public struct ExitNotification: NotificationType {
    public static let method = "exit"
    public static let direction = MessageDirection.clientToServer

    public init() {}
}
