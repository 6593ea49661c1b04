/// `analysis/logitLens`: the logit lens of every layer's residual stream at some positions, or of each
/// row of an expression's value at a stop.
public struct LogitLensRequest: RequestType {
    public static let method = "analysis/logitLens"
    public typealias Response = LogitLensResult

    /// The prompt to run; absent: the current run's tokens. Not with `expression`.
    public var prompt: String?
    /// Default `[-1]` (the last); negative counts from the end. Not with `expression`.
    public var positions: [Int]?
    /// Tokens per row, default 5.
    public var k: Int?
    /// At a stop: an expression whose value has rows of d_model (`x[-1]`, `resid_mid`).
    public var expression: String?

    public init(prompt: String? = nil, positions: [Int]? = nil, k: Int? = nil, expression: String? = nil) {
        self.prompt = prompt
        self.positions = positions
        self.k = k
        self.expression = expression
    }
}

public struct LogitLensResult: Codable, Sendable, Equatable {
    /// The tokens the table was computed on (table mode).
    public var tokens: [Int]?
    /// Table mode: layer by layer resid_pre, resid_mid, resid_post, position by position, then `logits`.
    public var rows: [LensRow]

    public init(tokens: [Int]? = nil, rows: [LensRow]) {
        self.tokens = tokens
        self.rows = rows
    }
}
