/// `steer/fromContrast`: a steering direction from contrasting prompt pairs, optionally applied as a patch.
public struct SteerFromContrastRequest: RequestType {
    public static let method = "steer/fromContrast"
    public typealias Response = SteerFromContrastResult

    public var pairs: [ContrastPromptPair]
    /// The direction is read at `blocks.<layer>.hook_resid_pre` …
    public var layer: Int?
    /// … or at this hook (one of `layer` and `hook`).
    public var hook: String?
    /// Default `lastPosition`.
    public var reduction: ContrastReductionKind?
    /// Default `add`.
    public var apply: SteeringApplication?
    /// For `add`, default 1.
    public var scale: Double?
    /// For `add`, default `all`.
    public var positions: PatchPositions?

    public init(pairs: [ContrastPromptPair], layer: Int? = nil, hook: String? = nil, reduction: ContrastReductionKind? = nil,
                apply: SteeringApplication? = nil, scale: Double? = nil, positions: PatchPositions? = nil) {
        self.pairs = pairs
        self.layer = layer
        self.hook = hook
        self.reduction = reduction
        self.apply = apply
        self.scale = scale
        self.positions = positions
    }
}

public struct SteerFromContrastResult: Codable, Sendable, Equatable {
    /// The hook the direction was read at.
    public var hook: String
    /// Unnormalised: the mean difference.
    public var direction: WireTensor
    public var norm: Double
    /// The patch made (as `patch/list` shows it), unless `apply` is `none`.
    public var patch: Patch?

    public init(hook: String, direction: WireTensor, norm: Double, patch: Patch? = nil) {
        self.hook = hook
        self.direction = direction
        self.norm = norm
        self.patch = patch
    }
}
