/// An intervention as the client asks for it (`patch/set`). Which operand an operation needs:
/// `set` → `value`; `add` → `vector` (and `scale`, default 1); `scale` → `scale`; `projectOut` → `vector`;
/// `resample` → `source`; `zero`, `mean` → none; `ablateFeatures` → `features` (and `sae`); `steerFeatures` →
/// `features` (and `sae`, `scale`, default 1).
public struct PatchSpec: Codable, Sendable, Equatable {
    /// A hook point name or glob.
    public var hook: String
    /// Default `.all`.
    public var positions: PatchPositions?
    public var heads: [Int]?
    public var op: PatchOperation
    public var value: WireTensor?
    public var vector: WireTensor?
    public var scale: Double?
    public var source: String?
    /// For the feature operations: the SAE's id (default the first loaded).
    public var sae: Int?
    /// For the feature operations: the SAE features to ablate or steer along.
    public var features: [Int]?

    public init(hook: String, positions: PatchPositions? = nil, heads: [Int]? = nil, op: PatchOperation,
                value: WireTensor? = nil, vector: WireTensor? = nil, scale: Double? = nil, source: String? = nil,
                sae: Int? = nil, features: [Int]? = nil) {
        self.hook = hook
        self.positions = positions
        self.heads = heads
        self.op = op
        self.value = value
        self.vector = vector
        self.scale = scale
        self.source = source
        self.sae = sae
        self.features = features
    }
}

/// A patch in force (`patch/list`): its spec as given (positions filled in), its id and match count.
public struct Patch: Codable, Sendable, Equatable {
    public var id: Int
    /// How many hook points `hook` matches.
    public var hooks: Int
    public var hook: String
    public var positions: PatchPositions
    public var heads: [Int]?
    public var op: PatchOperation
    public var value: WireTensor?
    public var vector: WireTensor?
    public var scale: Double?
    public var source: String?
    public var sae: Int?
    public var features: [Int]?

    public init(id: Int, hooks: Int, hook: String, positions: PatchPositions, heads: [Int]? = nil,
                op: PatchOperation, value: WireTensor? = nil, vector: WireTensor? = nil, scale: Double? = nil,
                source: String? = nil, sae: Int? = nil, features: [Int]? = nil) {
        self.id = id
        self.hooks = hooks
        self.hook = hook
        self.positions = positions
        self.heads = heads
        self.op = op
        self.value = value
        self.vector = vector
        self.scale = scale
        self.source = source
        self.sae = sae
        self.features = features
    }

    /// The patch `spec` got as `id`, matching `hooks` hook points.
    public init(id: Int, hooks: Int, spec: PatchSpec) {
        self.init(id: id, hooks: hooks, hook: spec.hook, positions: spec.positions ?? .all, heads: spec.heads,
                  op: spec.op, value: spec.value, vector: spec.vector, scale: spec.scale, source: spec.source,
                  sae: spec.sae, features: spec.features)
    }

    /// The spec this patch was made from (with `positions` explicit).
    public var spec: PatchSpec {
        PatchSpec(hook: hook, positions: positions, heads: heads, op: op, value: value, vector: vector,
                  scale: scale, source: source, sae: sae, features: features)
    }
}

/// Which positions a patch touches: absolute positions, or every position of every pass (`all`), the
/// prompt pass's (`prompt`), or each token step's one position (`generated`).
public enum PatchPositions: Codable, Sendable, Hashable {
    case list([Int])
    case all
    case prompt
    case generated

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let positions = try? container.decode([Int].self) {
            guard positions.allSatisfy({ $0 >= 0 }) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "positions must be ≥ 0")
            }
            self = .list(positions)
            return
        }
        switch try container.decode(String.self) {
        case "all": self = .all
        case "prompt": self = .prompt
        case "generated": self = .generated
        case let other:
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected a list of positions, \"all\", \"prompt\" or \"generated\", got \"\(other)\"")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .list(let positions): try container.encode(positions)
        case .all: try container.encode("all")
        case .prompt: try container.encode("prompt")
        case .generated: try container.encode("generated")
        }
    }
}

public enum PatchOperation: String, Codable, Sendable, CaseIterable {
    case set, add, zero, mean, scale, projectOut, resample, ablateFeatures, steerFeatures
}
