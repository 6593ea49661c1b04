/// `debug/evaluate`: evaluates an expression at the current stop.
public struct EvaluateRequest: RequestType {
    public static let method = "debug/evaluate"
    public typealias Response = EvaluateResult

    public var expression: String
    /// The innermost frame when nil.
    public var frameId: Int?

    public init(expression: String, frameId: Int? = nil) {
        self.expression = expression
        self.frameId = frameId
    }
}

public struct EvaluateResult: Codable, Sendable, Equatable {
    /// The value as text, for display.
    public var result: String
    public var type: ValueType
    /// For tensors.
    public var shape: [Int]?
    /// For numbers, bools, strings and tokens; its case matches `type`.
    public var value: EvaluatedValue?
    /// For tensors.
    public var summary: TensorSummary?
    /// 0, or a reference to the value's children.
    public var variablesReference: Int

    public init(result: String, type: ValueType, shape: [Int]? = nil, value: EvaluatedValue? = nil,
                summary: TensorSummary? = nil, variablesReference: Int = 0) {
        self.result = result
        self.type = type
        self.shape = shape
        self.value = value
        self.summary = summary
        self.variablesReference = variablesReference
    }

    private enum CodingKeys: String, CodingKey { case result, type, shape, value, summary, variablesReference }

    /// Decodes `value` according to `type`, so that a number `"NaN"` is not taken for a string.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        result = try container.decode(String.self, forKey: .result)
        type = try container.decode(ValueType.self, forKey: .type)
        shape = try container.decodeIfPresent([Int].self, forKey: .shape)
        if !container.contains(.value) {
            value = nil
        } else {
            switch type {
            case .number: value = .number(try container.decode(FloatValue.self, forKey: .value))
            case .bool: value = .bool(try container.decode(Bool.self, forKey: .value))
            case .string: value = .string(try container.decode(String.self, forKey: .value))
            case .tokens: value = .tokens(try container.decode([Int].self, forKey: .value))
            case .tensor:
                throw DecodingError.dataCorruptedError(forKey: .value, in: container,
                                                       debugDescription: "a tensor result has no `value`")
            }
        }
        summary = try container.decodeIfPresent(TensorSummary.self, forKey: .summary)
        variablesReference = try container.decode(Int.self, forKey: .variablesReference)
    }
}
