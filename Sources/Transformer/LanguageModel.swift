import Foundation
import ModelFiles
import Tensors
import Tokenizers

/// A loaded model: configuration, weights and the hook points its forward pass offers.
/// `forward` may run on several threads at once, each with its own `KVCache`.
public final class LanguageModel: @unchecked Sendable {
    public let config: ModelConfig
    public let weights: ModelWeights
    public let tokenizer: Tokenizer
    /// Every hook point of this model, in the order the forward pass reaches them.
    public let hookPoints: [HookPoint]

    private let activationPoolLock = NSLock()
    private var activationPool: [Activations] = []

    public init(config: ModelConfig, weights: ModelWeights, tokenizer: Tokenizer) {
        self.config = config
        self.weights = weights
        self.tokenizer = tokenizer
        let blockHooks = HookPoint.BlockHook.allCases.filter {
            switch $0 {
            case .rotQ, .rotK: config.rotary
            case .mlpPreLinear: config.gatedMLP
            default: true
            }
        }
        hookPoints = [.embed] + (config.positionEmbedding ? [.posEmbed] : [])
            + (0..<config.layerCount).flatMap { layer in blockHooks.map { .block(layer, $0) } }
            + [.lnFinalScale, .lnFinalNormalized, .logits]
    }

    /// Loads a model: a GGUF file, or an HF directory (config.json, safetensors weights, vocab.json and
    /// merges.txt) or a safetensors file in one. Weights end as float32.
    /// `progress` is called as the weights load, with the fraction done and the tensor just read.
    /// A file of another architecture throws `TransformerError.unsupportedArchitecture` naming it.
    public static func load(_ url: URL, progress: ((Double, String) -> Void)? = nil) throws -> LanguageModel {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            return try loadHuggingFace(directory: url, progress: progress)
        }
        if url.pathExtension == "safetensors" || url.lastPathComponent == "config.json" {
            return try loadHuggingFace(directory: url.deletingLastPathComponent(), progress: progress)
        }
        let file = try GGUFFile(contentsOf: url)
        let config = try ModelConfig(gguf: file)
        let tokenizer = try Tokenizer(gguf: file)
        let weights = try ModelWeights.loadGGUF(from: file, config: config, progress: progress)
        return LanguageModel(config: config, weights: weights, tokenizer: tokenizer)
    }

    /// An empty cache for this model.
    public func makeCache(capacity: Int = 64) -> KVCache { KVCache(config: config, capacity: capacity) }

    /// The shape of `hook`'s activation when `tokens` new tokens run after `cached` cached ones;
    /// nil when this model has no such hook point.
    public func hookShape(_ hook: HookPoint, tokens: Int, cached: Int = 0) -> [Int]? {
        let c = config
        switch hook {
        case .embed: return [tokens, c.modelDim]
        case .posEmbed: return c.positionEmbedding ? [tokens, c.modelDim] : nil
        case .lnFinalScale: return [tokens, 1]
        case .lnFinalNormalized: return [tokens, c.modelDim]
        case .logits: return [tokens, c.vocabularySize]
        case .block(let layer, let blockHook):
            guard layer >= 0 && layer < c.layerCount else { return nil }
            switch blockHook {
            case .rotQ, .rotK: guard c.rotary else { return nil }
            case .mlpPreLinear: guard c.gatedMLP else { return nil }
            default: break
            }
            switch blockHook {
            case .residPre, .ln1Normalized, .attnOut, .residMid, .ln2Normalized, .mlpOut, .residPost:
                return [tokens, c.modelDim]
            case .ln1Scale, .ln2Scale: return [tokens, 1]
            case .q, .rotQ, .z: return [tokens, c.headCount, c.headDim]
            case .k, .v, .rotK: return [tokens, c.kvHeadCount, c.headDim]
            case .attnScores, .pattern: return [c.headCount, tokens, cached + tokens]
            case .mlpPre, .mlpPreLinear, .mlpPost: return [tokens, c.mlpDim]
            }
        }
    }

    /// Lends a set of activation buffers for one pass.
    func withActivations<R>(_ body: (Activations) throws -> R) rethrows -> R {
        activationPoolLock.lock()
        let activations = activationPool.popLast() ?? Activations()
        activationPoolLock.unlock()
        defer {
            activationPoolLock.lock()
            activationPool.append(activations)
            activationPoolLock.unlock()
        }
        return try body(activations)
    }
}
