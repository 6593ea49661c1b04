import ModelFiles

/// Model families the forward pass knows. Each is a variant of one decoder-only forward pass;
/// what differs between them is carried by `ModelConfig`'s fields.
public enum Architecture: String, Sendable, CaseIterable {
    /// LLaMA: RMSNorm, rotary embeddings (rotate-half), grouped-query attention, SiLU-gated MLP.
    case llama
    /// Gemma 3: LLaMA's pass plus √d_model-scaled embeddings, QK-norm, norms after each sublayer as well as
    /// before, a tanh-GELU-gated MLP, and sliding-window attention with its own RoPE base on most layers.
    case gemma3
    /// GPT-2: LayerNorm with biases, learned position embeddings instead of RoPE, biased linear maps, and a
    /// plain (ungated) tanh-GELU MLP.
    case gpt2
}

/// How the blocks normalise the residual stream.
public enum Normalization: String, Sendable {
    /// x / sqrt(mean(x²) + eps) × w
    case rms
    /// (x − mean) / sqrt(var + eps) × w + b
    case layer
}

/// The MLP's activation: post = act(pre) · pre_linear when the MLP is gated, act(pre) otherwise.
public enum GateActivation: String, Sendable {
    /// x·σ(x)
    case silu
    /// GELU, tanh approximation
    case geluTanh
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
    /// Multiplies q·k: 1/√d_head unless the model says otherwise (Gemma's query_pre_attn_scalar^-0.5).
    public var attentionScale: Float
    /// Multiplies W_E[token] on the way into the residual stream (Gemma: √d_model, rounded to float32).
    public var embeddingScale: Float
    /// Local attention: a query at position p sees keys p − window + 1 … p, on the layers `isSliding` names.
    public var slidingWindow: Int?
    /// Every `slidingWindowPattern`-th layer (1-based) is global; the others are local. Unused without a window.
    public var slidingWindowPattern: Int
    /// The RoPE base of the local (sliding-window) layers; `ropeBase` is the global layers'.
    public var localRopeBase: Float
    /// RMSNorm over d_head of each query and key head (weights `attn_q_norm`, `attn_k_norm`), before RoPE.
    public var queryKeyNorm: Bool
    /// RMSNorm on attn_out and mlp_out before they join the residual (`post_attention_norm`, `post_ffw_norm`).
    public var postSublayerNorm: Bool
    public var gateActivation: GateActivation
    /// Gated MLPs have an up projection (`pre_linear`); GPT-2's has not.
    public var gatedMLP: Bool
    public var normalization: Normalization
    /// RoPE on q and k (`hook_rot_q`, `hook_rot_k`); GPT-2 has learned position embeddings instead.
    public var rotary: Bool
    /// A learned position embedding, [contextLength, d_model], added to the token embedding (`hook_pos_embed`).
    public var positionEmbedding: Bool

    public init(
        architecture: Architecture, layerCount: Int, modelDim: Int, headCount: Int, kvHeadCount: Int,
        headDim: Int, mlpDim: Int, vocabularySize: Int, contextLength: Int,
        ropeBase: Float, normEpsilon: Float, attentionScale: Float? = nil, embeddingScale: Float = 1,
        slidingWindow: Int? = nil, slidingWindowPattern: Int = 1, localRopeBase: Float? = nil,
        queryKeyNorm: Bool = false, postSublayerNorm: Bool = false, gateActivation: GateActivation = .silu,
        gatedMLP: Bool = true, normalization: Normalization = .rms, rotary: Bool = true, positionEmbedding: Bool = false
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
        self.attentionScale = attentionScale ?? 1 / Float(headDim).squareRoot()
        self.embeddingScale = embeddingScale
        self.slidingWindow = slidingWindow
        self.slidingWindowPattern = slidingWindowPattern
        self.localRopeBase = localRopeBase ?? ropeBase
        self.queryKeyNorm = queryKeyNorm
        self.postSublayerNorm = postSublayerNorm
        self.gateActivation = gateActivation
        self.gatedMLP = gatedMLP
        self.normalization = normalization
        self.rotary = rotary
        self.positionEmbedding = positionEmbedding
    }

    /// Whether `layer` attends through the sliding window (HF's `layer_types[layer] == "sliding_attention"`).
    public func isSliding(_ layer: Int) -> Bool {
        slidingWindow != nil && (layer + 1) % slidingWindowPattern != 0
    }

    /// The RoPE base of `layer`.
    public func ropeBase(layer: Int) -> Float { isSliding(layer) ? localRopeBase : ropeBase }

    /// The first position a query at `position` sees in `layer`.
    public func firstVisible(layer: Int, position: Int) -> Int {
        guard isSliding(layer), let window = slidingWindow else { return 0 }
        return max(0, position - window + 1)
    }
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
        let ropeBase = try optional("rope.freq_base", gguf.float) ?? 10000
        // GPT-2's LayerNorm has its own epsilon key; LLaMA's and Gemma's RMSNorm theirs.
        let epsilonKey = architecture == .gpt2 ? "layer_norm_epsilon" : "layer_norm_rms_epsilon"
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
            ropeBase: ropeBase,
            normEpsilon: try gguf.float(forKey: "\(name).attention.\(epsilonKey)"))

        if architecture == .gpt2 {
            // As llama.cpp's converter writes GPT-2: LayerNorm with biases, learned positions (position_embd),
            // a fused QKV with biases (attn_qkv), and an ungated tanh-GELU MLP (ffn_up, ffn_down).
            normalization = .layer
            rotary = false
            positionEmbedding = true
            gatedMLP = false
            gateActivation = .geluTanh
        }

        if architecture == .gemma3 {
            // As HF's Gemma3TextConfig (and llama.cpp) for the sizes GGUF leaves out: query_pre_attn_scalar
            // = d_head (the 27B model's d_model / n_heads is not supported), every 6th layer global,
            // local RoPE base 1e4. Embeddings × √d_model as torch rounds it to float32.
            guard gguf.metadata["\(name).final_logit_softcapping"] == nil,
                  gguf.metadata["\(name).attn_logit_softcapping"] == nil else {
                throw TransformerError.unsupportedConfiguration("gemma3 with logit soft-capping")
            }
            embeddingScale = Float(Double(modelDim).squareRoot())
            slidingWindow = try optional("attention.sliding_window", gguf.int)
            slidingWindowPattern = try optional("attention.sliding_window_pattern", gguf.int) ?? 6
            localRopeBase = try optional("rope.freq_base_swa", gguf.float) ?? 10000
            queryKeyNorm = true
            postSublayerNorm = true
            gateActivation = .geluTanh
        }

        let ropeDim = try optional("rope.dimension_count", gguf.int) ?? headDim
        guard ropeDim == headDim else {
            throw TransformerError.unsupportedConfiguration("RoPE on \(ropeDim) of \(headDim) head dimensions")
        }
        guard slidingWindowPattern > 0, (slidingWindow ?? 1) > 0, layerCount > 0, modelDim > 0, headDim > 0, headDim % 2 == 0, mlpDim > 0, vocabularySize > 0,
              kvHeadCount > 0, headCount % kvHeadCount == 0, rotary || qDim == modelDim else {
            throw TransformerError.unsupportedConfiguration(
                "\(layerCount) layers, d_model \(modelDim), \(headCount) heads over \(kvHeadCount) KV heads of \(headDim), d_mlp \(mlpDim), vocabulary \(vocabularySize)")
        }
    }
}
