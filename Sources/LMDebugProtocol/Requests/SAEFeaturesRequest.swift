/// `sae/features`: an SAE's features and reconstruction error at the stop, per position.
public struct SAEFeaturesRequest: RequestType {
    public static let method = "sae/features"
    public typealias Response = SAEFeaturesResult

    /// The SAE's id; default the first loaded.
    public var sae: Int?
    /// Features per position, default 10.
    public var k: Int?

    public init(sae: Int? = nil, k: Int? = nil) {
        self.sae = sae
        self.k = k
    }
}

public struct SAEFeaturesResult: Codable, Sendable, Equatable {
    public var sae: Int
    public var hook: String
    public var rows: [FeatureRow]

    public init(sae: Int, hook: String, rows: [FeatureRow]) {
        self.sae = sae
        self.hook = hook
        self.rows = rows
    }
}
