/// `model/load`: loads a GGUF model by name (from the model directory) or by path.
public struct LoadModelRequest: RequestType {
    public static let method = "model/load"
    public typealias Response = ModelInfo

    /// Where the model comes from: exactly one of `name` and `path` on the wire.
    public enum Source: Sendable, Equatable {
        /// A file in the model directory, with or without `.gguf`.
        case name(String)
        /// A file path, absolute or relative to the server's working directory.
        case path(String)
    }

    public var source: Source
    public var workDoneToken: ProgressToken?

    public init(_ source: Source, workDoneToken: ProgressToken? = nil) {
        self.source = source
        self.workDoneToken = workDoneToken
    }

    private enum CodingKeys: String, CodingKey { case name, path, workDoneToken }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decodeIfPresent(String.self, forKey: .name)
        let path = try container.decodeIfPresent(String.self, forKey: .path)
        switch (name, path) {
        case (let name?, nil): source = .name(name)
        case (nil, let path?): source = .path(path)
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "give exactly one of `name` and `path`"))
        }
        workDoneToken = try container.decodeIfPresent(ProgressToken.self, forKey: .workDoneToken)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch source {
        case .name(let name): try container.encode(name, forKey: .name)
        case .path(let path): try container.encode(path, forKey: .path)
        }
        try container.encodeIfPresent(workDoneToken, forKey: .workDoneToken)
    }
}
