import Foundation
import ModelFiles
import Tensors

/// How a sparse autoencoder turns pre-activations into feature activations.
public enum SAEArchitecture: Equatable, Sendable, CustomStringConvertible {
    /// `relu(pre)` (SAELens's "standard").
    case relu
    /// `relu(pre) · (pre > threshold)`, with a threshold per feature.
    case jumpReLU
    /// The `k` largest pre-activations of each row, through a ReLU; the rest are 0.
    case topK(Int)

    public var description: String {
        switch self {
        case .relu: "relu"
        case .jumpReLU: "jumprelu"
        case .topK(let k): "topk (k = \(k))"
        }
    }
}

/// A sparse autoencoder in SAELens's format, float32 in memory:
/// `f = act((x − b_dec) · W_enc + b_enc)` (without `− b_dec` when `apply_b_dec_to_input` is false) and
/// `x̂ = f · W_dec + b_dec`, on the rows of the activation at `hookName`.
public final class SparseAutoencoder: @unchecked Sendable {
    public let architecture: SAEArchitecture
    /// The TransformerLens name of the hook it reads, e.g. `blocks.6.hook_resid_post`.
    public let hookName: String
    /// d_in: the width of one position's activation.
    public let inputWidth: Int
    /// d_sae: the number of features.
    public let featureCount: Int
    public let appliesDecoderBiasToInput: Bool
    /// [d_in, d_sae]
    let encoder: [Float]
    /// [d_sae]
    let encoderBias: [Float]
    /// [d_sae, d_in]
    let decoder: [Float]
    /// [d_in]
    let decoderBias: [Float]
    /// [d_sae], for jumprelu.
    let threshold: [Float]

    /// Reads `cfg.json` and `sae_weights.safetensors` from `directory` (F32, F16 or BF16 weights).
    public init(directory: URL) throws {
        func failure(_ message: String) -> AnalysisError { AnalysisError(field: "path", message) }
        let configURL = directory.appendingPathComponent("cfg.json")
        let weightsURL = directory.appendingPathComponent("sae_weights.safetensors")
        guard let data = FileManager.default.contents(atPath: configURL.path) else {
            throw failure("no cfg.json in \(directory.path)")
        }
        guard let config = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw failure("\(configURL.path) is not a JSON object")
        }
        func integer(_ key: String, in object: [String: Any]? = nil) -> Int? { ((object ?? config)[key] as? NSNumber)?.intValue }
        guard let inputWidth = integer("d_in"), let featureCount = integer("d_sae"), inputWidth > 0, featureCount > 0 else {
            throw failure("cfg.json needs positive integers d_in and d_sae")
        }
        let metadata = (config["metadata"] ?? config["meta"]) as? [String: Any]
        guard let hookName = (config["hook_name"] ?? metadata?["hook_name"]) as? String else {
            throw failure("cfg.json names no hook_name (at the top or in metadata)")
        }
        let normalisation = config["normalize_activations"] as? String ?? "none"
        guard normalisation == "none" else {
            throw failure("normalize_activations '\(normalisation)' is not supported (only 'none')")
        }
        let kwargs = config["activation_fn_kwargs"] as? [String: Any]
        switch (config["architecture"] as? String ?? "standard", config["activation_fn_str"] as? String) {
        case ("topk", _), ("standard", "topk"):
            guard let k = integer("k") ?? kwargs.flatMap({ integer("k", in: $0) }), (1...featureCount).contains(k) else {
                throw failure("a topk SAE needs k between 1 and d_sae")
            }
            architecture = .topK(k)
        case ("standard", _), ("relu", _): architecture = .relu
        case ("jumprelu", _): architecture = .jumpReLU
        case (let other, _): throw failure("architecture '\(other)' is not supported (relu/standard, jumprelu, topk)")
        }

        let weights: SafetensorsFile
        do { weights = try SafetensorsFile(contentsOf: weightsURL) } catch {
            throw failure("\(weightsURL.path): \(error)")
        }
        func load(_ name: String, _ shape: [Int]) throws -> [Float] {
            let tensor: Tensor
            do { tensor = try weights.tensor(named: name) } catch { throw failure("sae_weights.safetensors: \(error)") }
            guard tensor.shape == shape else {
                throw failure("\(name) has shape \(tensor.shape); cfg.json implies \(shape)")
            }
            return tensor.data
        }
        encoder = try load("W_enc", [inputWidth, featureCount])
        encoderBias = try load("b_enc", [featureCount])
        decoder = try load("W_dec", [featureCount, inputWidth])
        decoderBias = try load("b_dec", [inputWidth])
        threshold = architecture == .jumpReLU ? try load("threshold", [featureCount]) : []
        self.hookName = hookName
        self.inputWidth = inputWidth
        self.featureCount = featureCount
        appliesDecoderBiasToInput = config["apply_b_dec_to_input"] as? Bool ?? true
    }

    /// Feature activations of each row of `x` ([rows, d_in], or any shape whose last axes hold d_in per row):
    /// [rows, d_sae].
    public func encode(_ x: Tensor) -> Tensor {
        precondition(x.count % inputWidth == 0, "the SAE reads rows of \(inputWidth)")
        let rows = x.count / inputWidth
        var input = x.data
        if appliesDecoderBiasToInput {
            for row in 0..<rows { for i in 0..<inputWidth { input[row * inputWidth + i] -= decoderBias[i] } }
        }
        var features = [Float](repeating: 0, count: rows * featureCount)
        for row in 0..<rows { features.replaceSubrange(row * featureCount ..< (row + 1) * featureCount, with: encoderBias) }
        BLAS.gemm(m: rows, n: featureCount, k: inputWidth, a: input, lda: inputWidth, b: encoder, ldb: featureCount,
                  beta: 1, c: &features, ldc: featureCount)
        for row in 0..<rows { activate(&features[row * featureCount ..< (row + 1) * featureCount]) }
        return Tensor(shape: [rows, featureCount], data: features)
    }

    /// The reconstruction `f · W_dec + b_dec` of feature activations [rows, d_sae]: [rows, d_in].
    public func decode(_ features: Tensor) -> Tensor {
        precondition(features.count % featureCount == 0, "the SAE decodes rows of \(featureCount)")
        let rows = features.count / featureCount
        var output = [Float](repeating: 0, count: rows * inputWidth)
        for row in 0..<rows { output.replaceSubrange(row * inputWidth ..< (row + 1) * inputWidth, with: decoderBias) }
        BLAS.gemm(m: rows, n: inputWidth, k: featureCount, a: features.data, lda: featureCount, b: decoder,
                  ldb: inputWidth, beta: 1, c: &output, ldc: inputWidth)
        return Tensor(shape: [rows, inputWidth], data: output)
    }

    /// Feature `feature`'s decoder direction, W_dec[feature]: [d_in].
    public func decoderDirection(_ feature: Int) -> [Float] {
        Array(decoder[feature * inputWidth ..< (feature + 1) * inputWidth])
    }

    private func activate(_ pre: inout ArraySlice<Float>) {
        let base = pre.startIndex
        switch architecture {
        case .relu:
            for i in pre.indices { pre[i] = max(pre[i], 0) }
        case .jumpReLU:
            for i in pre.indices { pre[i] = pre[i] > threshold[i - base] ? max(pre[i], 0) : 0 }
        case .topK(let k):
            let kept = pre.indices.sorted { pre[$0] > pre[$1] }.prefix(k)
            var result = [Float](repeating: 0, count: pre.count)
            for i in kept { result[i - base] = max(pre[i], 0) }
            pre.replaceSubrange(pre.indices, with: result)
        }
    }
}
