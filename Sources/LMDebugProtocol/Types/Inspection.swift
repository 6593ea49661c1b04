/// A frame of a stop: a hook point, a layer, or a token step.
public struct StackFrame: Codable, Sendable, Equatable {
    public var id: Int
    public var name: String
    public var kind: FrameKind
    public var hook: String?
    public var layer: Int?
    public var tokenStep: Int

    public init(id: Int, name: String, kind: FrameKind, hook: String? = nil, layer: Int? = nil, tokenStep: Int) {
        self.id = id
        self.name = name
        self.kind = kind
        self.hook = hook
        self.layer = layer
        self.tokenStep = tokenStep
    }
}

public enum FrameKind: String, Codable, Sendable, CaseIterable {
    case hook, layer, token
}

/// A group of variables of a frame: `Current`, `Residual stream`, `Attention`, `MLP`, `Logits`.
public struct Scope: Codable, Sendable, Equatable {
    public var name: String
    public var variablesReference: Int

    public init(name: String, variablesReference: Int) {
        self.name = name
        self.variablesReference = variablesReference
    }
}

/// A named value at a stop.
public struct Variable: Codable, Sendable, Equatable {
    public var name: String
    /// A one-line summary for display.
    public var value: String
    public var type: ValueType
    public var shape: [Int]?
    public var summary: TensorSummary?
    /// 0 when it has no children.
    public var variablesReference: Int
    public var evaluateName: String?

    public init(name: String, value: String, type: ValueType, shape: [Int]? = nil, summary: TensorSummary? = nil,
                variablesReference: Int, evaluateName: String? = nil) {
        self.name = name
        self.value = value
        self.type = type
        self.shape = shape
        self.summary = summary
        self.variablesReference = variablesReference
        self.evaluateName = evaluateName
    }
}

/// What a value is.
public enum ValueType: String, Codable, Sendable, CaseIterable {
    case tensor, number, tokens, bool, string
}

/// Statistics over all elements of a tensor.
public struct TensorSummary: Codable, Sendable, Equatable {
    /// The L2 (Frobenius) norm.
    public var norm: FloatValue
    public var mean: FloatValue
    public var min: FloatValue
    public var max: FloatValue
    /// The elements of largest magnitude, largest first (at most 5).
    public var topDims: [TopDim]
    public var nanCount: Int?
    public var infCount: Int?

    public init(norm: FloatValue, mean: FloatValue, min: FloatValue, max: FloatValue, topDims: [TopDim],
                nanCount: Int? = nil, infCount: Int? = nil) {
        self.norm = norm
        self.mean = mean
        self.min = min
        self.max = max
        self.topDims = topDims
        self.nanCount = nanCount
        self.infCount = infCount
    }
}

/// One element of a tensor: its index along each axis, and its value.
public struct TopDim: Codable, Sendable, Equatable {
    public var index: [Int]
    public var value: FloatValue

    public init(index: [Int], value: FloatValue) {
        self.index = index
        self.value = value
    }
}

/// The JSON form of an evaluated value; which case applies follows from `ValueType`.
public enum EvaluatedValue: Codable, Sendable, Equatable {
    case number(FloatValue)
    case bool(Bool)
    case string(String)
    case tokens([Int])

    /// The value type this case carries.
    public var valueType: ValueType {
        switch self {
        case .number: .number
        case .bool: .bool
        case .string: .string
        case .tokens: .tokens
        }
    }

    /// Decodes by the JSON type alone: a string is always `.string` (so `"NaN"` is a string here;
    /// `EvaluateResult` decodes its `value` by its `type` instead).
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Double.self) {
            self = .number(FloatValue(number))
        } else if let tokens = try? container.decode([Int].self) {
            self = .tokens(tokens)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let number): try container.encode(number)
        case .bool(let flag): try container.encode(flag)
        case .string(let text): try container.encode(text)
        case .tokens(let tokens): try container.encode(tokens)
        }
    }
}
