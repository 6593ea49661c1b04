import ModelFiles
import Tensors

/// An immutable float32 weight in memory the forward pass can read by pointer without copying.
public final class Parameter: @unchecked Sendable {
    public let shape: [Int]
    public let count: Int
    /// Row-major, `count` floats; never written after `init`.
    public let pointer: UnsafePointer<Float>
    /// The same [out, in] matrix in the file's block format, when the file stored it in one that
    /// `QuantizedMatrix` reads: one-row products (decoding) read it instead of the floats.
    public let quantized: QuantizedMatrix?

    /// A weight of `shape` whose values `fill` writes.
    public init(shape: [Int], quantized: QuantizedMatrix? = nil,
                fill: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        let count = shape.reduce(1, *)
        let storage = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
        do {
            try fill(UnsafeMutableBufferPointer(start: storage, count: count))
        } catch {
            storage.deallocate()
            throw error
        }
        self.shape = shape
        self.count = count
        pointer = UnsafePointer(storage)
        self.quantized = quantized
    }

    public convenience init(_ tensor: Tensor) {
        self.init(shape: tensor.shape) { storage in _ = storage.update(fromContentsOf: tensor.data) }
    }

    deinit { UnsafeMutablePointer(mutating: pointer).deallocate() }

    /// y = x Wᵀ for a weight W [out, in] and `rows` rows of x [rows, in], into y [rows, out]. A single row
    /// (decoding) reads the quantized blocks when there are some: it is bound by the bytes of weights it reads.
    public func linear(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        if rows == 1, let quantized {
            quantized.multiply(x, into: y)
        } else {
            BLAS.linear(x, rows: rows, inFeatures: shape[1], weight: pointer, outFeatures: shape[0], into: y)
        }
    }

    /// A copy as a `Tensor`.
    public var tensor: Tensor { Tensor(shape: shape, data: Array(UnsafeBufferPointer(start: pointer, count: count))) }

    /// A copy of rows `range` of a [rows, columns] weight, or of elements `range` of a vector.
    func rows(_ range: Range<Int>) -> Parameter {
        let columns = shape.count == 2 ? shape[1] : 1
        return Parameter(shape: shape.count == 2 ? [range.count, columns] : [range.count],
                         quantized: quantized?.rows(range)) { storage in
            _ = storage.initialize(from: UnsafeBufferPointer(start: pointer + range.lowerBound * columns, count: storage.count))
        }
    }
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
    /// [d_mlp, d_model]; nil in an ungated MLP (GPT-2)
    public var up: Parameter?
    /// [d_model, d_mlp]
    public var down: Parameter
    /// [d_head], with QK-norm (Gemma)
    public var queryNorm: Parameter? = nil
    /// [d_head], with QK-norm (Gemma)
    public var keyNorm: Parameter? = nil
    /// [d_model], with post-sublayer norms (Gemma): applied to attn_out
    public var postAttentionNorm: Parameter? = nil
    /// [d_model], with post-sublayer norms (Gemma): applied to mlp_out
    public var postMLPNorm: Parameter? = nil
    /// GPT-2's biases: of the norms [d_model], of q [n_heads · d_head], k and v [n_kv_heads · d_head],
    /// of attn_out [d_model], of mlp.hook_pre [d_mlp] and of mlp_out [d_model].
    public var attentionNormBias: Parameter? = nil
    public var queryBias: Parameter? = nil
    public var keyBias: Parameter? = nil
    public var valueBias: Parameter? = nil
    public var outputBias: Parameter? = nil
    public var mlpNormBias: Parameter? = nil
    public var gateBias: Parameter? = nil
    public var downBias: Parameter? = nil
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
    /// W_pos, [context, d_model], with learned position embeddings (GPT-2)
    public var positionEmbedding: Parameter? = nil
    /// [d_model], with LayerNorm (GPT-2)
    public var finalNormBias: Parameter? = nil

    /// Loads a model's weights from a GGUF `file` in llama.cpp's names, dequantizing each to float32 and
    /// checking its shape against `config`. W_U is `output.weight` if the file has one, else tied to W_E.
    /// LLaMA's Q/K rows are un-permuted to HF order; Gemma's are stored in HF order already. GPT-2's fused
    /// `attn_qkv` is split into q, k and v. `progress` gets the fraction of elements done and the name of
    /// the tensor just loaded.
    static func loadGGUF(
        from file: GGUFFile, config c: ModelConfig, progress: ((Double, String) -> Void)?
    ) throws -> ModelWeights {
        let hasOutput = file.tensorInfo(named: "output.weight") != nil
        let gpt2 = c.architecture == .gpt2
        let layerNames = gpt2
            ? ["attn_norm", "attn_qkv", "attn_output", "ffn_norm", "ffn_up", "ffn_down"].flatMap { ["\($0).weight", "\($0).bias"] }
            : (["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"]
                + (c.queryKeyNorm ? ["attn_q_norm", "attn_k_norm"] : [])
                + (c.postSublayerNorm ? ["post_attention_norm", "post_ffw_norm"] : [])).map { "\($0).weight" }
        let globalNames = ["token_embd.weight", "output_norm.weight"]
            + (gpt2 ? ["position_embd.weight", "output_norm.bias"] : []) + (hasOutput ? ["output.weight"] : [])
        let reader = GGUFWeightReader(
            file: file, names: globalNames + (0..<c.layerCount).flatMap { l in layerNames.map { "blk.\(l).\($0)" } },
            progress: progress)
        if gpt2 { return try loadGPT2GGUF(reader, config: c, hasOutput: hasOutput) }

        func rotaryRows(heads: Int) -> [Int]? {
            c.architecture == .llama ? rotaryRowOrder(heads: heads, headDim: c.headDim) : nil
        }
        let embedding = try reader.load("token_embd.weight", [c.vocabularySize, c.modelDim])
        var layers: [LayerWeights] = []
        for l in 0..<c.layerCount {
            let prefix = "blk.\(l)."
            layers.append(LayerWeights(
                attentionNorm: try reader.load(prefix + "attn_norm.weight", [c.modelDim]),
                query: try reader.load(prefix + "attn_q.weight", [c.qDim, c.modelDim], rowOrder: rotaryRows(heads: c.headCount)),
                key: try reader.load(prefix + "attn_k.weight", [c.kvDim, c.modelDim], rowOrder: rotaryRows(heads: c.kvHeadCount)),
                value: try reader.load(prefix + "attn_v.weight", [c.kvDim, c.modelDim]),
                output: try reader.load(prefix + "attn_output.weight", [c.modelDim, c.qDim]),
                mlpNorm: try reader.load(prefix + "ffn_norm.weight", [c.modelDim]),
                gate: try reader.load(prefix + "ffn_gate.weight", [c.mlpDim, c.modelDim]),
                up: try reader.load(prefix + "ffn_up.weight", [c.mlpDim, c.modelDim]),
                down: try reader.load(prefix + "ffn_down.weight", [c.modelDim, c.mlpDim]),
                queryNorm: c.queryKeyNorm ? try reader.load(prefix + "attn_q_norm.weight", [c.headDim]) : nil,
                keyNorm: c.queryKeyNorm ? try reader.load(prefix + "attn_k_norm.weight", [c.headDim]) : nil,
                postAttentionNorm: c.postSublayerNorm ? try reader.load(prefix + "post_attention_norm.weight", [c.modelDim]) : nil,
                postMLPNorm: c.postSublayerNorm ? try reader.load(prefix + "post_ffw_norm.weight", [c.modelDim]) : nil))
        }
        let finalNorm = try reader.load("output_norm.weight", [c.modelDim])
        let unembedding = hasOutput ? try reader.load("output.weight", [c.vocabularySize, c.modelDim]) : embedding
        return ModelWeights(tokenEmbedding: embedding, layers: layers, finalNorm: finalNorm, unembedding: unembedding)
    }

    /// GPT-2 in llama.cpp's layout: every linear map and norm has a bias; `attn_qkv` holds the rows of q,
    /// k and v one after another ([3·d_model, d_model], as HF's c_attn transposed); `ffn_up` is the GELU's
    /// input (HF's c_fc, our `gate`) and `ffn_down` the MLP's output (c_proj).
    private static func loadGPT2GGUF(_ reader: GGUFWeightReader, config c: ModelConfig, hasOutput: Bool) throws -> ModelWeights {
        let d = c.modelDim
        let embedding = try reader.load("token_embd.weight", [c.vocabularySize, d])
        let position = try reader.load("position_embd.weight", [c.contextLength, d])
        let layers = try (0..<c.layerCount).map { l -> LayerWeights in
            let p = "blk.\(l)."
            let qkv = try reader.load(p + "attn_qkv.weight", [3 * d, d]), qkvBias = try reader.load(p + "attn_qkv.bias", [3 * d])
            return LayerWeights(
                attentionNorm: try reader.load(p + "attn_norm.weight", [d]),
                query: qkv.rows(0..<d), key: qkv.rows(d..<2 * d), value: qkv.rows(2 * d..<3 * d),
                output: try reader.load(p + "attn_output.weight", [d, d]),
                mlpNorm: try reader.load(p + "ffn_norm.weight", [d]),
                gate: try reader.load(p + "ffn_up.weight", [c.mlpDim, d]),
                up: nil,
                down: try reader.load(p + "ffn_down.weight", [d, c.mlpDim]),
                attentionNormBias: try reader.load(p + "attn_norm.bias", [d]),
                queryBias: qkvBias.rows(0..<d), keyBias: qkvBias.rows(d..<2 * d), valueBias: qkvBias.rows(2 * d..<3 * d),
                outputBias: try reader.load(p + "attn_output.bias", [d]),
                mlpNormBias: try reader.load(p + "ffn_norm.bias", [d]),
                gateBias: try reader.load(p + "ffn_up.bias", [c.mlpDim]),
                downBias: try reader.load(p + "ffn_down.bias", [d]))
        }
        let finalNorm = try reader.load("output_norm.weight", [d]), finalNormBias = try reader.load("output_norm.bias", [d])
        let unembedding = hasOutput ? try reader.load("output.weight", [c.vocabularySize, d]) : embedding
        return ModelWeights(tokenEmbedding: embedding, layers: layers, finalNorm: finalNorm, unembedding: unembedding,
                            positionEmbedding: position, finalNormBias: finalNormBias)
    }

    /// Undoes llama.cpp's Q/K row permutation. Its converter interleaves each head's two halves so that
    /// RoPE can rotate adjacent pairs: GGUF row 2j+s of a head is HF row s·d_head/2 + j.
    /// Returns, for each HF row, the file row it comes from.
    static func rotaryRowOrder(heads: Int, headDim: Int) -> [Int] {
        let half = headDim / 2
        var order = [Int](repeating: 0, count: heads * headDim)
        for head in 0..<heads {
            for j in 0..<half {
                for s in 0..<2 {
                    order[head * headDim + s * half + j] = head * headDim + 2 * j + s
                }
            }
        }
        return order
    }
}

/// Reads the weights of one GGUF file, dequantized to float32 (and Q4_1, Q5_0, Q8_0, Q4_K and Q6_K matrices
/// also kept as they are, for decoding), reporting progress over `names`.
final class GGUFWeightReader {
    private let file: GGUFFile
    private let progress: ((Double, String) -> Void)?
    private let totalElements: Double
    private var loadedElements = 0.0

    /// `names`: the tensors that will be read, for the progress fraction.
    init(file: GGUFFile, names: [String], progress: ((Double, String) -> Void)?) {
        self.file = file
        self.progress = progress
        totalElements = Double(names.compactMap { file.tensorInfo(named: $0)?.elementCount }.reduce(0, +))
    }

    /// Dequantizes `name` ([rows, columns] or [count]) into a new parameter; row i of a matrix is the file's
    /// row `rowOrder[i]` when a row order is given.
    func load(_ name: String, _ shape: [Int], rowOrder: [Int]? = nil) throws -> Parameter {
        guard let info = file.tensorInfo(named: name) else { throw ModelFileError.missingTensor(name) }
        guard info.shape == shape else {
            throw TransformerError.weightShape(tensor: name, expected: shape, found: info.shape)
        }
        let rows = shape.count == 2 ? shape[0] : 1, columns = shape.last ?? 1
        let quantized = quantizedCopy(info, rows: rowOrder ?? Array(0..<rows))
        let parameter = try Parameter(shape: shape, quantized: quantized) { storage in
            if let rowOrder {
                let fileOrder = UnsafeMutableBufferPointer<Float>.allocate(capacity: storage.count)
                defer { fileOrder.deallocate() }
                try file.dequantize(info, into: fileOrder)
                for (row, fileRow) in rowOrder.enumerated() {
                    (storage.baseAddress! + row * columns).update(from: fileOrder.baseAddress! + fileRow * columns, count: columns)
                }
            } else {
                try file.dequantize(info, into: storage)
            }
        }
        loadedElements += Double(info.elementCount)
        progress?(loadedElements / totalElements, name)
        return parameter
    }

    /// The blocks of a Q4_1, Q5_0, Q8_0, Q4_K or Q6_K matrix, its rows in `rows` order; nil for other types and for vectors.
    private func quantizedCopy(_ info: GGUFTensorInfo, rows: [Int]) -> QuantizedMatrix? {
        guard let format = QuantizedMatrix.Format(info.type), info.dimensions.count == 2 else { return nil }
        let bytes = file.rawBytes(of: info)
        return QuantizedMatrix(format: format, rows: rows.count, columns: info.dimensions[0]) { destination in
            let rowBytes = destination.count / max(1, rows.count)
            for (row, fileRow) in rows.enumerated() {
                (destination.baseAddress! + row * rowBytes)
                    .copyMemory(from: bytes.baseAddress! + fileRow * rowBytes, byteCount: rowBytes)
            }
        }
    }
}
