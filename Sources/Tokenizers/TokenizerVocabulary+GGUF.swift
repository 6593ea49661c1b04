import ModelFiles

extension TokenizerVocabulary {
    /// Reads the `tokenizer.ggml.*` keys of `gguf`. Missing or mistyped required keys throw
    /// `ModelFileError`; optional ones default as llama.cpp and HF default them.
    public init(gguf: GGUFFile) throws {
        func optional<T>(_ key: String, _ read: (String) throws -> T) throws -> T? {
            gguf.metadata[key] == nil ? nil : try read(key)
        }
        func id(_ key: String) throws -> Int32? {
            try optional(key, gguf.int).map { Int32(truncatingIfNeeded: $0) }
        }
        let model = try gguf.string(forKey: "tokenizer.ggml.model")
        let types = try optional("tokenizer.ggml.token_type", gguf.intArray) ?? []
        self.init(
            model: model,
            preTokenizer: try optional("tokenizer.ggml.pre", gguf.string),
            architecture: try optional("general.architecture", gguf.string),
            tokens: try gguf.stringArray(forKey: "tokenizer.ggml.tokens"),
            tokenTypes: types.map { TokenType(rawValue: Int32(truncatingIfNeeded: $0)) ?? .undefined },
            scores: try optional("tokenizer.ggml.scores", gguf.floatArray) ?? [],
            merges: try optional("tokenizer.ggml.merges", gguf.stringArray) ?? [],
            bosID: try id("tokenizer.ggml.bos_token_id"),
            eosID: try id("tokenizer.ggml.eos_token_id"),
            unknownID: try id("tokenizer.ggml.unknown_token_id"),
            paddingID: try id("tokenizer.ggml.padding_token_id"),
            // Older SentencePiece files say nothing, and llama.cpp then adds BOS.
            addBOS: try optional("tokenizer.ggml.add_bos_token", gguf.bool) ?? (model == "llama"),
            addEOS: try optional("tokenizer.ggml.add_eos_token", gguf.bool) ?? false)
    }
}

extension Tokenizer {
    /// The tokenizer `gguf` describes.
    public convenience init(gguf: GGUFFile) throws {
        try self.init(vocabulary: TokenizerVocabulary(gguf: gguf))
    }
}
