/// `debug/setBreakpoints`: replaces the set of hook breakpoints.
public struct SetBreakpointsRequest: RequestType {
    public static let method = "debug/setBreakpoints"
    public typealias Response = SetBreakpointsResult

    /// The new set; `[]` removes all.
    public var breakpoints: [SourceBreakpoint]

    public init(breakpoints: [SourceBreakpoint]) { self.breakpoints = breakpoints }
}

public struct SetBreakpointsResult: Codable, Sendable, Equatable {
    /// One per requested breakpoint, in order.
    public var breakpoints: [Breakpoint]

    public init(breakpoints: [Breakpoint]) { self.breakpoints = breakpoints }
}
