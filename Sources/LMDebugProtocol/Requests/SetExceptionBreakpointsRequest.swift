/// `debug/setExceptionBreakpoints`: replaces the set of exception filters.
public struct SetExceptionBreakpointsRequest: RequestType {
    public static let method = "debug/setExceptionBreakpoints"
    public typealias Response = EmptyResult

    public var filters: [ExceptionFilter]
    /// For `massive`; default 1e4.
    public var massiveThreshold: Double?

    public init(filters: [ExceptionFilter], massiveThreshold: Double? = nil) {
        self.filters = filters
        self.massiveThreshold = massiveThreshold
    }
}
