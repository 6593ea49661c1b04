/// `debug/stepIn`: Stops at the next hook point (`debug/next` with granularity `hook`). Answers `{}` at once; the stop arrives as `debug/stopped`.
public struct StepInRequest: RequestType {
    public static let method = "debug/stepIn"
    public typealias Response = EmptyResult

    public init() {}
}
