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
