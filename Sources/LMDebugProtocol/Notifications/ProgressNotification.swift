/// `$/progress`: progress of a request that carried a `workDoneToken`.
public struct ProgressNotification: NotificationType {
    public static let method = "$/progress"
    public static let direction = MessageDirection.serverToClient

    public var token: ProgressToken
    public var value: WorkDoneProgress

    public init(token: ProgressToken, value: WorkDoneProgress) {
        self.token = token
        self.value = value
    }
}
