/// `shutdown`: ends the run, frees the model, answers `null`; then only `exit` is served.
public struct ShutdownRequest: RequestType {
    public static let method = "shutdown"
    public typealias Response = ShutdownResult

    public init() {}
}

/// The result `null`.
public struct ShutdownResult: Codable, Sendable, Equatable {
    public init() {}

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard container.decodeNil() else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "the shutdown result is null")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encodeNil()
    }
}
