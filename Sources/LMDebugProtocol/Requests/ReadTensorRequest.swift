/// `tensor/read`: a recorded activation or an expression's value, optionally sliced, as a `WireTensor`.
public struct ReadTensorRequest: RequestType {
    public static let method = "tensor/read"
    public typealias Response = WireTensor

    /// What to read: exactly one of `hook` and `expression` on the wire.
    public enum Source: Sendable, Equatable {
        /// A hook point name (not a glob), recorded in the current token step.
        case hook(String)
        /// An expression whose value is a tensor or a number.
        case expression(String)
    }

    public var source: Source
    /// A NumPy-style slice, e.g. `[-1, :10]`.
    public var slice: String?

    public init(_ source: Source, slice: String? = nil) {
        self.source = source
        self.slice = slice
    }

    private enum CodingKeys: String, CodingKey { case hook, expression, slice }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let hook = try container.decodeIfPresent(String.self, forKey: .hook)
        let expression = try container.decodeIfPresent(String.self, forKey: .expression)
        switch (hook, expression) {
        case (let hook?, nil): source = .hook(hook)
        case (nil, let expression?): source = .expression(expression)
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "give exactly one of `hook` and `expression`"))
        }
        slice = try container.decodeIfPresent(String.self, forKey: .slice)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch source {
        case .hook(let hook): try container.encode(hook, forKey: .hook)
        case .expression(let expression): try container.encode(expression, forKey: .expression)
        }
        try container.encodeIfPresent(slice, forKey: .slice)
    }
}
