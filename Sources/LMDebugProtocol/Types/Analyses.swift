/// One of the logit lens's best tokens.
public struct LensToken: Codable, Sendable, Equatable {
    public var token: Int
    public var piece: String
    public var logit: Double
    /// Under the softmax over the whole vocabulary.
    public var probability: Double

    public init(token: Int, piece: String, logit: Double, probability: Double) {
        self.token = token
        self.piece = piece
        self.logit = logit
        self.probability = probability
    }
}

/// The lens of one vector: a hook and position of the layer table, or a row of an expression's value.
public struct LensRow: Codable, Sendable, Equatable {
    /// `blocks.L.hook_resid_pre/mid/post`, or `logits` for the model's output (table mode).
    public var hook: String?
    /// The token position (table mode).
    public var position: Int?
    /// The row of the expression's value, row-major over its leading axes (expression mode).
    public var index: Int?
    /// Best first.
    public var top: [LensToken]

    public init(hook: String? = nil, position: Int? = nil, index: Int? = nil, top: [LensToken]) {
        self.hook = hook
        self.position = position
        self.index = index
        self.top = top
    }
}

/// Where a patching sweep patches.
public enum SweepSite: String, Codable, Sendable, CaseIterable {
    case residPre, attnOut, mlpOut, headZ
}

/// Which run a sweep patches with which run's activations.
public enum SweepDirection: String, Codable, Sendable, CaseIterable {
    case denoise, noise
}

public enum SweepMetricKind: String, Codable, Sendable, CaseIterable {
    case logitDifference, probability, klDivergence
}

/// What a sweep measures on the last position's logits: `logitDifference` needs `token` and `baseline`,
/// `probability` needs `token`, `klDivergence` neither.
public struct SweepMetric: Codable, Sendable, Equatable {
    public var kind: SweepMetricKind
    public var token: Int?
    public var baseline: Int?

    public init(kind: SweepMetricKind, token: Int? = nil, baseline: Int? = nil) {
        self.kind = kind
        self.token = token
        self.baseline = baseline
    }
}

/// A pair of prompts for a contrast direction.
public struct ContrastPromptPair: Codable, Sendable, Equatable {
    public var positive: String
    public var negative: String

    public init(positive: String, negative: String) {
        self.positive = positive
        self.negative = negative
    }
}

public enum ContrastReductionKind: String, Codable, Sendable, CaseIterable {
    case lastPosition, meanOverPositions
}

/// What `steer/fromContrast` does with the direction besides answering it.
public enum SteeringApplication: String, Codable, Sendable, CaseIterable {
    /// Nothing: only answer the direction.
    case directionOnly = "none"
    /// A patch adding `scale` × direction at the hook.
    case add
    /// A patch projecting the direction out of every residual-stream hook.
    case ablate
}

public enum SAEArchitectureName: String, Codable, Sendable, CaseIterable {
    case relu, jumprelu, topk
}

/// A sparse autoencoder attached to the session.
public struct SAEInfo: Codable, Sendable, Equatable {
    public var id: Int
    public var name: String
    /// The hook point it reads.
    public var hook: String
    public var dIn: Int
    public var dSae: Int
    public var architecture: SAEArchitectureName
    /// For `topk`.
    public var k: Int?

    public init(id: Int, name: String, hook: String, dIn: Int, dSae: Int, architecture: SAEArchitectureName, k: Int? = nil) {
        self.id = id
        self.name = name
        self.hook = hook
        self.dIn = dIn
        self.dSae = dSae
        self.architecture = architecture
        self.k = k
    }
}

/// An active SAE feature and its activation.
public struct FeatureActivation: Codable, Sendable, Equatable {
    public var feature: Int
    public var activation: Double

    public init(feature: Int, activation: Double) {
        self.feature = feature
        self.activation = activation
    }
}

/// An SAE's reading of one position.
public struct FeatureRow: Codable, Sendable, Equatable {
    public var position: Int
    /// The most active features, strongest first.
    public var features: [FeatureActivation]
    /// How many features are active (> 0).
    public var l0: Int
    /// ‖x − x̂‖.
    public var errorNorm: Double
    /// ‖x − x̂‖ / ‖x‖.
    public var relativeError: Double

    public init(position: Int, features: [FeatureActivation], l0: Int, errorNorm: Double, relativeError: Double) {
        self.position = position
        self.features = features
        self.l0 = l0
        self.errorNorm = errorNorm
        self.relativeError = relativeError
    }
}
