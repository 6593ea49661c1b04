/// `debug/restart`: relaunches with the last `session/launch`'s arguments; answers like it.
public struct RestartRequest: RequestType {
    public static let method = "debug/restart"
    public typealias Response = LaunchResult

    public init() {}
}
