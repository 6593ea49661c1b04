/// The protocol version these types implement (schema `x-protocolVersion`).
public let lmdbgProtocolVersion = "0.1.0"

/// Every message type of the protocol, so that the server's dispatch and the tests can enumerate them.
/// LMDebugProtocolTests check that this list and the schema's `x-methods` name the same methods.
public enum ProtocolRegistry {
    /// Every request, in the schema's order.
    public static let requests: [any RequestType.Type] = [
        InitializeRequest.self,
        ShutdownRequest.self,
        LoadModelRequest.self,
        TokenizeRequest.self,
        LaunchRequest.self,
        SetBreakpointsRequest.self,
        SetExceptionBreakpointsRequest.self,
        ContinueRequest.self,
        NextRequest.self,
        StepInRequest.self,
        StepOutRequest.self,
        StepBackRequest.self,
        PauseRequest.self,
        RestartRequest.self,
        StackTraceRequest.self,
        ScopesRequest.self,
        VariablesRequest.self,
        EvaluateRequest.self,
        ReadTensorRequest.self,
        SetPatchesRequest.self,
        ListPatchesRequest.self,
        ClearPatchesRequest.self,
        LogitLensRequest.self,
        AttributionRequest.self,
        PatchSweepRequest.self,
        SteerFromContrastRequest.self,
        LoadSAERequest.self,
        SAEFeaturesRequest.self,
    ]

    /// Every notification, both directions.
    public static let notifications: [any NotificationType.Type] = [
        InitializedNotification.self,
        ExitNotification.self,
        CancelRequestNotification.self,
        ProgressNotification.self,
        StoppedNotification.self,
        OutputNotification.self,
        TerminatedNotification.self,
    ]

    /// Requests and notifications.
    public static var all: [any MessageType.Type] {
        requests.map { $0 as any MessageType.Type } + notifications.map { $0 as any MessageType.Type }
    }

    private static let requestsByMethod: [String: any RequestType.Type] =
        Dictionary(uniqueKeysWithValues: requests.map { ($0.method, $0) })
    private static let notificationsByMethod: [String: any NotificationType.Type] =
        Dictionary(uniqueKeysWithValues: notifications.map { ($0.method, $0) })

    /// The request type of a method, or nil when the method is not a request (answer `-32601`).
    public static func requestType(forMethod method: String) -> (any RequestType.Type)? {
        requestsByMethod[method]
    }

    /// The notification type of a method, or nil when the method is not a notification.
    public static func notificationType(forMethod method: String) -> (any NotificationType.Type)? {
        notificationsByMethod[method]
    }
}
