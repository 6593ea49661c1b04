/// `debug/stackTrace`: the frames of the current stop, innermost first.
public struct StackTraceRequest: RequestType {
    public static let method = "debug/stackTrace"
    public typealias Response = StackTraceResult

    public init() {}
}

public struct StackTraceResult: Codable, Sendable, Equatable {
    public var frames: [StackFrame]

    public init(frames: [StackFrame]) { self.frames = frames }
}
