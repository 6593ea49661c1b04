import ModelFiles

/// Model families the forward pass knows. Each is a variant of one decoder-only forward pass;
/// what differs between them is carried by `ModelConfig`'s fields.
public enum Architecture: String, Sendable, CaseIterable {
    /// LLaMA: RMSNorm, rotary embeddings (rotate-half), grouped-query attention, SiLU-gated MLP.
    case llama
}

/// The sizes and constants of a model, read from its file's metadata.
public struct ModelConfig: Equatable, Sendable {
    public var architecture: Architecture
    public var layerCount: Int
    /// d_model: the width of the residual stream.
    public var modelDim: Int
    public var headCount: Int
    /// Key/value heads; each serves `headCount / kvHeadCount` query heads (grouped-query attention).
    public var kvHeadCount: Int
    public var headDim: Int
    /// d_mlp: the width of the MLP's hidden layer.
    public var mlpDim: Int
    public var vocabularySize: Int
    /// The context the model was trained for (positions beyond it still run).
    public var contextLength: Int
    /// RoPE rotates all d_head dimensions of each head, with frequencies base^(−2i/d_head).
    public var ropeBase: Float
    public var normEpsilon: Float

    public init(
        architecture: Architecture, layerCount: Int, modelDim: Int, headCount: Int, kvHeadCount: Int,
        headDim: Int, mlpDim: Int, vocabularySize: Int, contextLength: Int,
        ropeBase: Float, normEpsilon: Float
    ) {
        self.architecture = architecture
        self.layerCount = layerCount
        self.modelDim = modelDim
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.mlpDim = mlpDim
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.ropeBase = ropeBase
        self.normEpsilon = normEpsilon
    }

    /// 1/√d_head, multiplying q·k.
    public var attentionScale: Float { 1 / Float(headDim).squareRoot() }
    /// Query heads per key/value head.
    public var groupSize: Int { headCount / kvHeadCount }
    /// Width of all query heads together (n_heads · d_head).
    public var qDim: Int { headCount * headDim }
    /// Width of all key (or value) heads together (n_kv_heads · d_head).
    public var kvDim: Int { kvHeadCount * headDim }
}

extension ModelConfig {
    /// Reads `general.architecture` and the `<architecture>.*` keys of a GGUF file.
    public init(gguf: GGUFFile) throws {
        let name = try gguf.string(forKey: "general.architecture")
        guard let architecture = Architecture(rawValue: name) else {
            throw TransformerError.unsupportedArchitecture(name)
        }
        func int(_ key: String) throws -> Int { try gguf.int(forKey: "\(name).\(key)") }
        func optional<T>(_ key: String, _ read: (String) throws -> T) throws -> T? {
            gguf.metadata["\(name).\(key)"] == nil ? nil : try read("\(name).\(key)")
        }
        let modelDim = try int("embedding_length"), headCount = try int("attention.head_count")
        let headDim = try optional("attention.key_length", gguf.int) ?? modelDim / max(1, headCount)
        let vocabularySize = try optional("vocab_size", gguf.int)
            ?? gguf.tensorInfo(named: "token_embd.weight")?.shape.first
            ?? gguf.stringArray(forKey: "tokenizer.ggml.tokens").count
        self.init(
            architecture: architecture,
            layerCount: try int("block_count"),
            modelDim: modelDim,
            headCount: headCount,
            kvHeadCount: try optional("attention.head_count_kv", gguf.int) ?? headCount,
            headDim: headDim,
            mlpDim: try int("feed_forward_length"),
            vocabularySize: vocabularySize,
            contextLength: try int("context_length"),
            ropeBase: try optional("rope.freq_base", gguf.float) ?? 10000,
            normEpsilon: try gguf.float(forKey: "\(name).attention.layer_norm_rms_epsilon"))

        let ropeDim = try optional("rope.dimension_count", gguf.int) ?? headDim
        guard ropeDim == headDim else {
            throw TransformerError.unsupportedConfiguration("RoPE on \(ropeDim) of \(headDim) head dimensions")
        }
        guard layerCount > 0, modelDim > 0, headDim > 0, headDim % 2 == 0, mlpDim > 0, vocabularySize > 0,
              kvHeadCount > 0, headCount % kvHeadCount == 0 else {
            throw TransformerError.unsupportedConfiguration(
                "\(layerCount) layers, d_model \(modelDim), \(headCount) heads over \(kvHeadCount) KV heads of \(headDim), d_mlp \(mlpDim), vocabulary \(vocabularySize)")
        }
    }
}
