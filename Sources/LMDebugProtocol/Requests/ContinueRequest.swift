/// `debug/continue`: Resumes a stopped run until the next breakpoint or the end of the run. Answers `{}` at once; the stop arrives as `debug/stopped`.
public struct ContinueRequest: RequestType {
    public static let method = "debug/continue"
    public typealias Response = EmptyResult

    public init() {}
}
