/// What a token is, as GGUF's `tokenizer.ggml.token_type` says (llama.cpp's numbering).
public enum TokenType: Int32, Sendable {
    case undefined = 0
    case normal = 1
    case unknown = 2
    case control = 3
    case userDefined = 4
    case unused = 5
    case byte = 6
}

/// Everything a tokenizer is built from: GGUF's `tokenizer.ggml.*` keys as plain values.
public struct TokenizerVocabulary: Sendable, Equatable {
    /// `tokenizer.ggml.model`: "gpt2" (byte-level BPE) or "llama" (SentencePiece-style BPE).
    public var model: String
    /// `tokenizer.ggml.pre`: the pre-tokenizer's name, e.g. "gpt2" or "smollm".
    public var preTokenizer: String?
    /// `general.architecture`; SentencePiece vocabularies are read differently per family.
    public var architecture: String?
    public var tokens: [String]
    /// One per token; empty when the file has none (every token is then normal).
    public var tokenTypes: [TokenType]
    /// One per token; empty when the file has none.
    public var scores: [Float]
    /// "left right" pairs, best first; empty when the file has none.
    public var merges: [String]
    public var bosID: Int32?
    public var eosID: Int32?
    public var unknownID: Int32?
    public var paddingID: Int32?
    public var addBOS: Bool
    public var addEOS: Bool

    public init(
        model: String, preTokenizer: String? = nil, architecture: String? = nil,
        tokens: [String], tokenTypes: [TokenType] = [], scores: [Float] = [], merges: [String] = [],
        bosID: Int32? = nil, eosID: Int32? = nil, unknownID: Int32? = nil, paddingID: Int32? = nil,
        addBOS: Bool = false, addEOS: Bool = false
    ) {
        self.model = model
        self.preTokenizer = preTokenizer
        self.architecture = architecture
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.scores = scores
        self.merges = merges
        self.bosID = bosID
        self.eosID = eosID
        self.unknownID = unknownID
        self.paddingID = paddingID
        self.addBOS = addBOS
        self.addEOS = addEOS
    }

    /// The type of token `id`; normal when the file lists no types.
    func type(of id: Int) -> TokenType {
        id < tokenTypes.count ? tokenTypes[id] : .normal
    }
}

/// Why a tokenizer could not be built.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    /// `tokenizer.ggml.model` names a tokenizer this module does not implement.
    case unsupportedModel(String)
    /// `tokenizer.ggml.pre` names a pre-tokenizer this module does not implement.
    case unsupportedPreTokenizer(String)
    /// A SentencePiece vocabulary of a model family this module does not know how to read.
    case unsupportedArchitecture(String)
    /// A merge that is not two tokens of the vocabulary joining into a third.
    case invalidMerge(String)
    /// A special token id outside the vocabulary.
    case tokenIDOutOfRange(name: String, id: Int32)

    public var description: String {
        switch self {
        case .unsupportedModel(let name): "unsupported tokenizer model \"\(name)\""
        case .unsupportedPreTokenizer(let name): "unsupported pre-tokenizer \"\(name)\""
        case .unsupportedArchitecture(let name): "unsupported architecture \"\(name)\" for a SentencePiece tokenizer"
        case .invalidMerge(let merge): "invalid merge \"\(merge)\""
        case .tokenIDOutOfRange(let name, let id): "\(name) \(id) is outside the vocabulary"
        }
    }
}
