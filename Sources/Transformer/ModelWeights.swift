import Tensors

/// An immutable float32 weight in memory the forward pass can read by pointer without copying.
public final class Parameter: @unchecked Sendable {
    public let shape: [Int]
    public let count: Int
    /// Row-major, `count` floats; never written after `init`.
    public let pointer: UnsafePointer<Float>

    public init(_ tensor: Tensor) {
        let storage = UnsafeMutablePointer<Float>.allocate(capacity: max(1, tensor.count))
        tensor.data.withUnsafeBufferPointer { storage.initialize(from: $0.baseAddress!, count: $0.count) }
        shape = tensor.shape
        count = tensor.count
        pointer = UnsafePointer(storage)
    }

    deinit { UnsafeMutablePointer(mutating: pointer).deallocate() }

    /// A copy as a `Tensor`.
    public var tensor: Tensor { Tensor(shape: shape, data: Array(UnsafeBufferPointer(start: pointer, count: count))) }
}

/// The weights of one transformer block. Linear weights are `[out, in]` (y = x Wᵀ).
public struct LayerWeights: Sendable {
    /// [d_model]
    public var attentionNorm: Parameter
    /// [n_heads · d_head, d_model], rows in HF order (see `unpermuteRotaryRows`)
    public var query: Parameter
    /// [n_kv_heads · d_head, d_model], rows in HF order
    public var key: Parameter
    /// [n_kv_heads · d_head, d_model]
    public var value: Parameter
    /// [d_model, n_heads · d_head]
    public var output: Parameter
    /// [d_model]
    public var mlpNorm: Parameter
    /// [d_mlp, d_model]
    public var gate: Parameter
    /// [d_mlp, d_model]
    public var up: Parameter
    /// [d_model, d_mlp]
    public var down: Parameter
}

/// All weights of a model, dequantized to float32 once at load.
public struct ModelWeights: Sendable {
    /// W_E, [vocab, d_model]
    public var tokenEmbedding: Parameter
    public var layers: [LayerWeights]
    /// [d_model]
    public var finalNorm: Parameter
    /// W_U as `[vocab, d_model]`; the token embedding when the model ties them.
    public var unembedding: Parameter

    /// The GGUF tensor names of a LLaMA model, in the order they are loaded.
    static func llamaTensorNames(layerCount: Int) -> [String] {
        ["token_embd.weight"]
            + (0..<layerCount).flatMap { layer in
                ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output",
                 "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"].map { "blk.\(layer).\($0).weight" }
            }
            + ["output_norm.weight"]
    }

    /// Loads a LLaMA model's weights through `tensor(name)`, checking each shape against `config`.
    /// `hasOutput` says whether the file has its own `output.weight` (otherwise W_U is tied to W_E).
    /// `progress` gets the fraction done and the name of the tensor just loaded.
    static func loadLlama(
        config: ModelConfig, hasOutput: Bool,
        tensor: (String) throws -> Tensor, progress: ((Double, String) -> Void)?
    ) throws -> ModelWeights {
        let total = Double(llamaTensorNames(layerCount: config.layerCount).count + (hasOutput ? 1 : 0))
        var loaded = 0.0
        func read(_ name: String, _ shape: [Int]) throws -> Tensor {
            let value = try tensor(name)
            guard value.shape == shape else {
                throw TransformerError.weightShape(tensor: name, expected: shape, found: value.shape)
            }
            loaded += 1
            progress?(loaded / total, name)
            return value
        }
        func load(_ name: String, _ shape: [Int]) throws -> Parameter { Parameter(try read(name, shape)) }
        let c = config
        let embedding = try load("token_embd.weight", [c.vocabularySize, c.modelDim])
        var layers: [LayerWeights] = []
        for l in 0..<c.layerCount {
            let prefix = "blk.\(l)."
            layers.append(LayerWeights(
                attentionNorm: try load(prefix + "attn_norm.weight", [c.modelDim]),
                query: Parameter(unpermuteRotaryRows(
                    try read(prefix + "attn_q.weight", [c.qDim, c.modelDim]), heads: c.headCount)),
                key: Parameter(unpermuteRotaryRows(
                    try read(prefix + "attn_k.weight", [c.kvDim, c.modelDim]), heads: c.kvHeadCount)),
                value: try load(prefix + "attn_v.weight", [c.kvDim, c.modelDim]),
                output: try load(prefix + "attn_output.weight", [c.modelDim, c.qDim]),
                mlpNorm: try load(prefix + "ffn_norm.weight", [c.modelDim]),
                gate: try load(prefix + "ffn_gate.weight", [c.mlpDim, c.modelDim]),
                up: try load(prefix + "ffn_up.weight", [c.mlpDim, c.modelDim]),
                down: try load(prefix + "ffn_down.weight", [c.modelDim, c.mlpDim])))
        }
        let finalNorm = try load("output_norm.weight", [c.modelDim])
        let unembedding = hasOutput ? try load("output.weight", [c.vocabularySize, c.modelDim]) : embedding
        return ModelWeights(tokenEmbedding: embedding, layers: layers, finalNorm: finalNorm, unembedding: unembedding)
    }

    /// Undoes llama.cpp's Q/K row permutation. Its converter interleaves each head's two halves so that
    /// RoPE can rotate adjacent pairs: GGUF row 2j+s of a head is HF row s·d_head/2 + j.
    /// weight: [heads · d_head, in] → the same shape, rows in HF order.
    static func unpermuteRotaryRows(_ weight: Tensor, heads: Int) -> Tensor {
        let rows = weight.shape[0], columns = weight.shape[1]
        let headDim = rows / heads, half = headDim / 2
        var result = Tensor(zeros: weight.shape)
        for head in 0..<heads {
            for j in 0..<half {
                for s in 0..<2 {
                    let ggufRow = head * headDim + 2 * j + s
                    let hfRow = head * headDim + s * half + j
                    result.data.replaceSubrange(
                        hfRow * columns..<(hfRow + 1) * columns,
                        with: weight.data[ggufRow * columns..<(ggufRow + 1) * columns])
                }
            }
        }
        return result
    }
}
