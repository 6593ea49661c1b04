import Tensors
import Transformer

/// How the next token is chosen after each pass. A temperature of 0 is greedy decoding.
public struct SamplingOptions: Sendable, Equatable {
    public var temperature: Float
    public var topK: Int?
    public var topP: Float?
    public var seed: UInt64

    public init(temperature: Float = 0, topK: Int? = nil, topP: Float? = nil, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
    }
}

/// The engine as the debugger sees it: one seam, so that the state machine can also be driven by a
/// small hand-written engine in the tests. `LanguageModel` conforms in `LanguageModel+DebugModel.swift`.
public protocol DebugModel: AnyObject {
    /// Every hook point of one pass, in the order the forward pass reaches them.
    var hookPoints: [HookPoint] { get }
    /// The shape of a hook's activation for a pass over `positions` new tokens with `keyPositions` keys in all.
    func hookShape(_ hook: HookPoint, positions: Int, keyPositions: Int) -> [Int]
    var vocabularySize: Int { get }
    func tokenize(_ text: String) -> [Int32]
    func detokenize(_ tokens: [Int32]) -> String
    /// The text of one token, as the tokenizer's vocabulary spells it.
    func piece(_ token: Int32) -> String
    func isEndOfGeneration(_ token: Int32) -> Bool
    /// The logit lens: the final norm and the unembedding applied to one residual-stream vector.
    func logitLens(_ residual: [Float]) -> [Float]
    /// A fresh generation: an empty KV cache and a sampler seeded from `sampling`.
    func startGeneration(sampling: SamplingOptions) -> ModelGeneration
}

/// One generation in progress: the KV cache and the sampler.
public protocol ModelGeneration: AnyObject {
    /// Runs `tokens` at the next positions, appends their keys and values, and returns the last position's logits.
    func forward(_ tokens: [Int32], observer: HookObserver?) throws -> [Float]
    func sample(_ logits: [Float]) -> Int32
}
