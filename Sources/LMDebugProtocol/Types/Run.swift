/// How to choose generated tokens; every member optional, greedy by default.
public struct Sampling: Codable, Sendable, Equatable {
    /// 0 (the default) is greedy.
    public var temperature: Double?
    /// 0 (the default) keeps all tokens.
    public var topK: Int?
    /// 1 (the default) keeps all tokens.
    public var topP: Double?
    /// Default 0.
    public var seed: Int?

    public init(temperature: Double? = nil, topK: Int? = nil, topP: Double? = nil, seed: Int? = nil) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
    }
}

/// Positions `start ..< end`.
public struct PositionRange: Codable, Sendable, Hashable {
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    public init(_ range: Range<Int>) { self.init(start: range.lowerBound, end: range.upperBound) }

    /// The range, or nil when `end < start`.
    public var range: Range<Int>? { end >= start ? start..<end : nil }
}

/// Why a run stopped.
public enum StopReason: String, Codable, Sendable, CaseIterable {
    case entry, breakpoint, step, exception, pause
}

/// Why a run ended.
public enum TerminationReason: String, Codable, Sendable, CaseIterable {
    case endOfSequence, maxNewTokens, superseded, error
}

/// What a `debug/output` text is.
public enum OutputCategory: String, Codable, Sendable, CaseIterable {
    case generated, log
}

/// The unit of `debug/next`.
public enum SteppingGranularity: String, Codable, Sendable, CaseIterable {
    case hook, layer, token
}

/// The state of the run, as `-32003` reports it.
public enum SessionState: String, Codable, Sendable, CaseIterable {
    case none, running, stopped, terminated
}
