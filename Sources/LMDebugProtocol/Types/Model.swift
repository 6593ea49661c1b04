/// A loaded model (`model/load` result).
public struct ModelInfo: Codable, Sendable, Equatable {
    /// The file name without `.gguf`.
    public var name: String
    /// The absolute path of the file loaded.
    public var path: String
    /// As `general.architecture` names it: `llama`, `gemma3`, `gpt2`.
    public var architecture: String
    public var config: ModelConfig
    /// Every hook point, in forward order.
    public var hookPoints: [HookPointInfo]

    public init(name: String, path: String, architecture: String, config: ModelConfig, hookPoints: [HookPointInfo]) {
        self.name = name
        self.path = path
        self.architecture = architecture
        self.config = config
        self.hookPoints = hookPoints
    }
}

/// A model's dimensions.
public struct ModelConfig: Codable, Sendable, Equatable {
    public var nLayers: Int
    public var dModel: Int
    public var nHeads: Int
    public var nKVHeads: Int
    public var dHead: Int
    public var dMLP: Int
    public var vocabSize: Int
    public var contextLength: Int

    public init(nLayers: Int, dModel: Int, nHeads: Int, nKVHeads: Int, dHead: Int, dMLP: Int,
                vocabSize: Int, contextLength: Int) {
        self.nLayers = nLayers
        self.dModel = dModel
        self.nHeads = nHeads
        self.nKVHeads = nKVHeads
        self.dHead = dHead
        self.dMLP = dMLP
        self.vocabSize = vocabSize
        self.contextLength = contextLength
    }
}

/// A hook point of the loaded model, with its shape's sequence axes symbolic.
public struct HookPointInfo: Codable, Sendable, Equatable {
    /// The TransformerLens name, e.g. `blocks.0.attn.hook_pattern`.
    public var name: String
    public var shape: [ShapeDimension]

    public init(name: String, shape: [ShapeDimension]) {
        self.name = name
        self.shape = shape
    }
}

/// A dimension of a hook point's shape: a size, `"pos"` (the positions of the pass) or `"kpos"` (all key
/// positions so far).
public enum ShapeDimension: Codable, Sendable, Hashable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    case size(Int)
    case pos
    case kpos

    public init(integerLiteral value: Int) { self = .size(value) }

    public var description: String {
        switch self {
        case .size(let size): String(size)
        case .pos: "pos"
        case .kpos: "kpos"
        }
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let size = try? container.decode(Int.self) {
            guard size >= 0 else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "negative dimension \(size)")
            }
            self = .size(size)
            return
        }
        switch try container.decode(String.self) {
        case "pos": self = .pos
        case "kpos": self = .kpos
        case let other:
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected a size, \"pos\" or \"kpos\", got \"\(other)\"")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .size(let size): try container.encode(size)
        case .pos: try container.encode("pos")
        case .kpos: try container.encode("kpos")
        }
    }
}
