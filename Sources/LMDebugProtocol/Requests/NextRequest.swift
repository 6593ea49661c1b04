/// `debug/next`: resumes and stops one hook, layer or token step further. Answers `{}` at once.
public struct NextRequest: RequestType {
    public static let method = "debug/next"
    public typealias Response = EmptyResult

    /// Default `.hook`.
    public var granularity: SteppingGranularity?

    public init(granularity: SteppingGranularity? = nil) { self.granularity = granularity }
}
