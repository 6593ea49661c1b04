/// `model/tokenize`: tokenizes text as `session/launch` tokenizes its prompt.
public struct TokenizeRequest: RequestType {
    public static let method = "model/tokenize"
    public typealias Response = TokenizeResult

    public var text: String

    public init(text: String) { self.text = text }
}

public struct TokenizeResult: Codable, Sendable, Equatable {
    public var tokens: [Int]
    /// Each token's text, one per token.
    public var pieces: [String]

    public init(tokens: [Int], pieces: [String]) {
        self.tokens = tokens
        self.pieces = pieces
    }
}
