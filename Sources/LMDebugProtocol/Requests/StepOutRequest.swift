/// `debug/stepOut`: Stops at the end of the current layer, or of the token step. Answers `{}` at once; the stop arrives as `debug/stopped`.
public struct StepOutRequest: RequestType {
    public static let method = "debug/stepOut"
    public typealias Response = EmptyResult

    public init() {}
}
