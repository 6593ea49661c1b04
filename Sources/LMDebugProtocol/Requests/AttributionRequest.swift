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
    /// With learned position embeddings (GPT-2).
    public var posEmbed: Double?
    /// [layer]: each layer's attention output (`hook_attn_out`).
    public var attention: [Double]
    /// [layer][head]: the heads of `attention` (the rest is W_O's bias); empty where a norm after attention
    /// mixes them (Gemma 3).
    public var heads: [[Double]]
    /// [layer].
    public var mlp: [Double]
    /// The final LayerNorm's bias through the unembedding (GPT-2).
    public var constant: Double?

    public init(position: Int, token: Int, baseline: Int? = nil, logit: Double, total: Double, finalScale: Double,
                embed: Double, posEmbed: Double? = nil, attention: [Double], heads: [[Double]], mlp: [Double],
                constant: Double? = nil) {
        self.position = position
        self.token = token
        self.baseline = baseline
        self.logit = logit
        self.total = total
        self.finalScale = finalScale
        self.embed = embed
        self.posEmbed = posEmbed
        self.attention = attention
        self.heads = heads
        self.mlp = mlp
        self.constant = constant
    }
}
