/// `analysis/attribution`: direct logit attribution of one logit, or of a logit difference, at a position.
public struct AttributionRequest: RequestType {
    public static let method = "analysis/attribution"
    public typealias Response = AttributionResult

    /// The prompt to run; absent: the current run's tokens.
    public var prompt: String?
    /// Default -1 (the last); negative counts from the end.
    public var position: Int?
    public var token: Int
    /// When given, the target is `logit[token] − logit[baseline]`.
    public var baseline: Int?

    public init(prompt: String? = nil, position: Int? = nil, token: Int, baseline: Int? = nil) {
        self.prompt = prompt
        self.position = position
        self.token = token
        self.baseline = baseline
    }
}

public struct AttributionResult: Codable, Sendable, Equatable {
    public var position: Int
    public var token: Int
    public var baseline: Int?
    /// The model's logit (or logit difference).
    public var logit: Double
    /// The sum of the contributions (equal to `logit` up to rounding).
    public var total: Double
    /// The final norm's scale at the position, by which every component is divided.
    public var finalScale: Double
    public var embed: Double
    /// [layer][head].
    public var heads: [[Double]]
    /// [layer].
    public var mlp: [Double]

    public init(position: Int, token: Int, baseline: Int? = nil, logit: Double, total: Double, finalScale: Double,
                embed: Double, heads: [[Double]], mlp: [Double]) {
        self.position = position
        self.token = token
        self.baseline = baseline
        self.logit = logit
        self.total = total
        self.finalScale = finalScale
        self.embed = embed
        self.heads = heads
        self.mlp = mlp
    }
}
