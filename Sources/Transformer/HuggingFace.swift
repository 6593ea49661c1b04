import Foundation
import ModelFiles
import Tensors
import Tokenizers

/// Models in HF's format: a directory with config.json, the weights in model.safetensors or in shards
/// listed by model.safetensors.index.json, and the tokenizer as vocab.json + merges.txt or tokenizer.json.
extension LanguageModel {
    static func loadHuggingFace(directory: URL, progress: ((Double, String) -> Void)?) throws -> LanguageModel {
        let json = try readJSON(directory.appendingPathComponent("config.json"))
        let config = try ModelConfig(huggingFace: json)
        let tokenizer = try Tokenizer.huggingFace(directory)
        let weights = try ModelWeights.loadHuggingFace(
            SafetensorsShards(directory: directory), config: config,
            tied: json["tie_word_embeddings"] as? Bool ?? true, progress: progress)
        return LanguageModel(config: config, weights: weights, tokenizer: tokenizer)
    }
}

private func readJSON(_ url: URL) throws -> [String: Any] {
    let data: Data
    do { data = try Data(contentsOf: url) } catch { throw TransformerError.unsupportedConfiguration("cannot read \(url.path)") }
    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw TransformerError.unsupportedConfiguration("\(url.lastPathComponent) is not a JSON object")
    }
    return object
}

extension ModelConfig {
    /// Reads an HF config.json of `model_type` gpt2 or llama.
    init(huggingFace json: [String: Any]) throws {
        let type = json["model_type"] as? String ?? "unnamed"
        func int(_ key: String) throws -> Int {
            guard let value = json[key] as? Int else { throw TransformerError.unsupportedConfiguration("config.json has no integer '\(key)'") }
            return value
        }
        func float(_ key: String) throws -> Float {
            guard let value = json[key] as? Double else { throw TransformerError.unsupportedConfiguration("config.json has no number '\(key)'") }
            return Float(value)
        }
        func require(_ condition: Bool, _ what: String) throws {
            if !condition { throw TransformerError.unsupportedConfiguration("\(type) with \(what)") }
        }
        switch type {
        case "gpt2":
            let modelDim = try int("n_embd"), heads = try int("n_head")
            let activation = json["activation_function"] as? String ?? "gelu_new"
            try require(["gelu_new", "gelu_pytorch_tanh"].contains(activation), "activation \(activation)")
            try require(json["scale_attn_weights"] as? Bool ?? true, "unscaled attention")
            try require(!(json["scale_attn_by_inverse_layer_idx"] as? Bool ?? false), "scale_attn_by_inverse_layer_idx")
            self.init(
                architecture: .gpt2, layerCount: try int("n_layer"), modelDim: modelDim, headCount: heads,
                kvHeadCount: heads, headDim: modelDim / max(1, heads), mlpDim: json["n_inner"] as? Int ?? 4 * modelDim,
                vocabularySize: try int("vocab_size"), contextLength: try int("n_positions"), ropeBase: 10000,
                normEpsilon: try float("layer_norm_epsilon"), gateActivation: .geluTanh, gatedMLP: false,
                normalization: .layer, rotary: false, positionEmbedding: true)
        case "llama":
            let modelDim = try int("hidden_size"), heads = try int("num_attention_heads")
            let rope = json["rope_parameters"] as? [String: Any] ?? json["rope_scaling"] as? [String: Any] ?? [:]
            try require((rope["rope_type"] ?? rope["type"]) as? String ?? "default" == "default", "RoPE scaling")
            try require((json["hidden_act"] as? String ?? "silu") == "silu", "activation \(json["hidden_act"] ?? "")")
            try require(!(json["attention_bias"] as? Bool ?? false) && !(json["mlp_bias"] as? Bool ?? false), "biases")
            self.init(
                architecture: .llama, layerCount: try int("num_hidden_layers"), modelDim: modelDim, headCount: heads,
                kvHeadCount: json["num_key_value_heads"] as? Int ?? heads,
                headDim: json["head_dim"] as? Int ?? modelDim / max(1, heads), mlpDim: try int("intermediate_size"),
                vocabularySize: try int("vocab_size"), contextLength: try int("max_position_embeddings"),
                ropeBase: Float((rope["rope_theta"] ?? json["rope_theta"]) as? Double ?? 10000),
                normEpsilon: try float("rms_norm_eps"))
        default:
            throw TransformerError.unsupportedArchitecture(type)
        }
        guard layerCount > 0, modelDim > 0, headDim > 0, headDim % 2 == 0, mlpDim > 0, vocabularySize > 0,
              kvHeadCount > 0, headCount % kvHeadCount == 0, headCount * headDim == qDim else {
            throw TransformerError.unsupportedConfiguration(
                "\(layerCount) layers, d_model \(modelDim), \(headCount) heads over \(kvHeadCount) KV heads of \(headDim), d_mlp \(mlpDim), vocabulary \(vocabularySize)")
        }
    }
}

/// The safetensors files of one model: model.safetensors, or the shards model.safetensors.index.json maps
/// each tensor name to.
struct SafetensorsShards {
    private var files: [String: SafetensorsFile] = [:]
    /// tensor name → file name
    private var location: [String: String] = [:]

    init(directory: URL) throws {
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        if FileManager.default.fileExists(atPath: index.path) {
            guard let map = try readJSON(index)["weight_map"] as? [String: String] else {
                throw TransformerError.unsupportedConfiguration("model.safetensors.index.json has no weight_map")
            }
            location = map
        } else {
            let file = try SafetensorsFile(contentsOf: directory.appendingPathComponent("model.safetensors"))
            files["model.safetensors"] = file
            for info in file.tensors { location[info.name] = "model.safetensors" }
        }
        for name in Set(location.values) where files[name] == nil {
            files[name] = try SafetensorsFile(contentsOf: directory.appendingPathComponent(name))
        }
    }

    func contains(_ name: String) -> Bool { location[name] != nil }

    /// The element count of `name`, if present.
    func elementCount(_ name: String) -> Int? {
        location[name].flatMap { files[$0]?.tensorInfo(named: name)?.elementCount }
    }

    /// The tensor as float32 (F32, F16 or BF16 in the file).
    func tensor(_ name: String) throws -> Tensor {
        guard let file = location[name].flatMap({ files[$0] }) else { throw ModelFileError.missingTensor(name) }
        return try file.tensor(named: name)
    }
}

extension ModelWeights {
    /// Loads GPT-2 or LLaMA weights in HF's names and layouts. GPT-2's Conv1D weights are [in, out] and are
    /// transposed; its fused c_attn is split into q, k and v. HF's Q/K rows are already in HF order.
    static func loadHuggingFace(
        _ shards: SafetensorsShards, config c: ModelConfig, tied: Bool, progress: ((Double, String) -> Void)?
    ) throws -> ModelWeights {
        let gpt2 = c.architecture == .gpt2
        // Original GPT-2 checkpoints name tensors without the `transformer.` prefix.
        let prefix = gpt2 ? (shards.contains("transformer.wte.weight") ? "transformer." : "") : "model."
        let perLayer = gpt2
            ? ["ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias",
               "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"]
            : ["input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
               "self_attn.o_proj.weight", "post_attention_layernorm.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight",
               "mlp.down_proj.weight"]
        let global = gpt2 ? ["wte.weight", "wpe.weight", "ln_f.weight", "ln_f.bias"] : ["embed_tokens.weight", "norm.weight"]
        let unembeddingName = tied ? nil : "lm_head.weight"
        let names = global.map { prefix + $0 } + (unembeddingName.map { [$0] } ?? [])
            + (0..<c.layerCount).flatMap { l in perLayer.map { "\(prefix)\(gpt2 ? "h" : "layers").\(l).\($0)" } }
        let total = Double(names.compactMap(shards.elementCount).reduce(0, +))
        var loaded = 0.0

        /// The tensor `name` of `shape` (as stored), transposed for Conv1D weights.
        func tensor(_ name: String, _ shape: [Int]) throws -> Tensor {
            let t = try shards.tensor(name)
            guard t.shape == shape else { throw TransformerError.weightShape(tensor: name, expected: shape, found: t.shape) }
            loaded += Double(t.count)
            progress?(loaded / total, name)
            return t
        }
        func load(_ name: String, _ shape: [Int]) throws -> Parameter { Parameter(try tensor(name, shape)) }
        /// A Conv1D weight stored [in, out], as [out, in].
        func conv1D(_ name: String, in inFeatures: Int, out outFeatures: Int) throws -> Tensor {
            let t = try tensor(name, [inFeatures, outFeatures])
            var out = Tensor(zeros: [outFeatures, inFeatures])
            for i in 0..<inFeatures {
                for o in 0..<outFeatures { out.data[o * inFeatures + i] = t.data[i * outFeatures + o] }
            }
            return out
        }
        let d = c.modelDim
        if gpt2 {
            let embedding = try load(prefix + "wte.weight", [c.vocabularySize, d])
            let position = try load(prefix + "wpe.weight", [c.contextLength, d])
            let layers = try (0..<c.layerCount).map { l -> LayerWeights in
                let p = "\(prefix)h.\(l)."
                let qkv = Parameter(try conv1D(p + "attn.c_attn.weight", in: d, out: 3 * d))
                let qkvBias = try load(p + "attn.c_attn.bias", [3 * d])
                return LayerWeights(
                    attentionNorm: try load(p + "ln_1.weight", [d]),
                    query: qkv.rows(0..<d), key: qkv.rows(d..<2 * d), value: qkv.rows(2 * d..<3 * d),
                    output: Parameter(try conv1D(p + "attn.c_proj.weight", in: d, out: d)),
                    mlpNorm: try load(p + "ln_2.weight", [d]),
                    gate: Parameter(try conv1D(p + "mlp.c_fc.weight", in: d, out: c.mlpDim)),
                    up: nil,
                    down: Parameter(try conv1D(p + "mlp.c_proj.weight", in: c.mlpDim, out: d)),
                    attentionNormBias: try load(p + "ln_1.bias", [d]),
                    queryBias: qkvBias.rows(0..<d), keyBias: qkvBias.rows(d..<2 * d), valueBias: qkvBias.rows(2 * d..<3 * d),
                    outputBias: try load(p + "attn.c_proj.bias", [d]),
                    mlpNormBias: try load(p + "ln_2.bias", [d]),
                    gateBias: try load(p + "mlp.c_fc.bias", [c.mlpDim]),
                    downBias: try load(p + "mlp.c_proj.bias", [d]))
            }
            let finalNorm = try load(prefix + "ln_f.weight", [d]), finalNormBias = try load(prefix + "ln_f.bias", [d])
            return ModelWeights(tokenEmbedding: embedding, layers: layers, finalNorm: finalNorm, unembedding: embedding,
                                positionEmbedding: position, finalNormBias: finalNormBias)
        }
        let embedding = try load(prefix + "embed_tokens.weight", [c.vocabularySize, d])
        let layers = try (0..<c.layerCount).map { l -> LayerWeights in
            let p = "\(prefix)layers.\(l)."
            return LayerWeights(
                attentionNorm: try load(p + "input_layernorm.weight", [d]),
                query: try load(p + "self_attn.q_proj.weight", [c.qDim, d]),
                key: try load(p + "self_attn.k_proj.weight", [c.kvDim, d]),
                value: try load(p + "self_attn.v_proj.weight", [c.kvDim, d]),
                output: try load(p + "self_attn.o_proj.weight", [d, c.qDim]),
                mlpNorm: try load(p + "post_attention_layernorm.weight", [d]),
                gate: try load(p + "mlp.gate_proj.weight", [c.mlpDim, d]),
                up: try load(p + "mlp.up_proj.weight", [c.mlpDim, d]),
                down: try load(p + "mlp.down_proj.weight", [d, c.mlpDim]))
        }
        let finalNorm = try load(prefix + "norm.weight", [d])
        let unembedding = try unembeddingName.map { try load($0, [c.vocabularySize, d]) } ?? embedding
        return ModelWeights(tokenEmbedding: embedding, layers: layers, finalNorm: finalNorm, unembedding: unembedding)
    }
}

extension Tokenizer {
    /// A byte-level BPE from vocab.json and merges.txt, or from tokenizer.json's `model`. Tokens spelled
    /// `<|…|>` are special. No BOS is added (GPT-2's tokenizer adds none).
    static func huggingFace(_ directory: URL) throws -> Tokenizer {
        var vocabulary: [String: Int] = [:]
        var merges: [String] = []
        let vocabURL = directory.appendingPathComponent("vocab.json")
        if FileManager.default.fileExists(atPath: vocabURL.path) {
            vocabulary = try readJSON(vocabURL).compactMapValues { $0 as? Int }
            let text = (try? String(contentsOf: directory.appendingPathComponent("merges.txt"), encoding: .utf8)) ?? ""
            merges = text.split(separator: "\n", omittingEmptySubsequences: true)
                .filter { !$0.hasPrefix("#version") }.map(String.init)
        } else {
            let json = try readJSON(directory.appendingPathComponent("tokenizer.json"))
            guard let model = json["model"] as? [String: Any], model["type"] as? String == "BPE",
                  let vocab = model["vocab"] as? [String: Int] else {
                throw TokenizerError.unsupportedModel("tokenizer.json without a BPE model")
            }
            vocabulary = vocab
            merges = (model["merges"] as? [Any] ?? []).compactMap {
                ($0 as? String) ?? ($0 as? [String]).map { $0.joined(separator: " ") }
            }
            for case let added as [String: Any] in json["added_tokens"] as? [Any] ?? [] {
                if let content = added["content"] as? String, let id = added["id"] as? Int { vocabulary[content] = id }
            }
        }
        var tokens = [String](repeating: "", count: (vocabulary.values.max() ?? -1) + 1)
        for (token, id) in vocabulary where id >= 0 { tokens[id] = token }
        let types = tokens.map { $0.hasPrefix("<|") && $0.hasSuffix("|>") ? TokenType.control : .normal }
        let endOfText = vocabulary["<|endoftext|>"].map(Int32.init)
        return try Tokenizer(vocabulary: TokenizerVocabulary(
            model: "gpt2", preTokenizer: "gpt2", tokens: tokens, tokenTypes: types, merges: merges,
            bosID: endOfText, eosID: endOfText))
    }
}
