/// `session/launch`: starts a run (ending the current one first); answers at once.
public struct LaunchRequest: RequestType {
    public static let method = "session/launch"
    public typealias Response = LaunchResult

    public var prompt: String
    /// Default 0: the prompt pass only.
    public var maxNewTokens: Int?
    /// Default false.
    public var stopOnEntry: Bool?
    /// Default greedy.
    public var sampling: Sampling?

    public init(prompt: String, maxNewTokens: Int? = nil, stopOnEntry: Bool? = nil, sampling: Sampling? = nil) {
        self.prompt = prompt
        self.maxNewTokens = maxNewTokens
        self.stopOnEntry = stopOnEntry
        self.sampling = sampling
    }
}

/// The result of `session/launch` and `debug/restart`.
public struct LaunchResult: Codable, Sendable, Equatable {
    /// Identifies the run in its notifications; never reused.
    public var sessionId: Int
    /// The prompt's tokens (the positions of the prompt pass).
    public var promptTokens: [Int]

    public init(sessionId: Int, promptTokens: [Int]) {
        self.sessionId = sessionId
        self.promptTokens = promptTokens
    }
}
