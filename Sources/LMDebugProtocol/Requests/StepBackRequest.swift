/// `debug/stepBack`: Stops at the previous hook point in the record. Answers `{}` at once; the stop arrives as `debug/stopped`.
public struct StepBackRequest: RequestType {
    public static let method = "debug/stepBack"
    public typealias Response = EmptyResult

    public init() {}
}
