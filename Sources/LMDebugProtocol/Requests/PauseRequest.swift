/// `debug/pause`: Stops a running run at the next hook point. Answers `{}` at once; the stop arrives as `debug/stopped`.
public struct PauseRequest: RequestType {
    public static let method = "debug/pause"
    public typealias Response = EmptyResult

    public init() {}
}
