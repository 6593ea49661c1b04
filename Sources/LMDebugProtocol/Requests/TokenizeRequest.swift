/// `model/tokenize`: tokenizes text as `session/launch` tokenizes its prompt.
public struct TokenizeRequest: RequestType {
    public static let method = "model/tokenize"
    public typealias Response = TokenizeResult

    public var text: String
    /// false: the text's own tokens, without the BOS (or EOS) the model file asks for. Default true.
    public var addSpecialTokens: Bool?

    public init(text: String, addSpecialTokens: Bool? = nil) {
        self.text = text
        self.addSpecialTokens = addSpecialTokens
    }
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
