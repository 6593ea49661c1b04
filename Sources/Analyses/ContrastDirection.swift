import Tensors
import Transformer

/// How a contrast direction reduces a prompt's activations [T, width] to one vector.
public enum ContrastReduction: String, CaseIterable, Sendable {
    /// The last position's activation: what the model holds just before it predicts the next token.
    case lastPosition
    /// The mean over all positions.
    case meanOverPositions
}

/// One contrast: a prompt with the property and one without.
public struct ContrastPair: Equatable, Sendable {
    public var positive: [Int32]
    public var negative: [Int32]

    public init(positive: [Int32], negative: [Int32]) {
        self.positive = positive
        self.negative = negative
    }
}

extension LanguageModel {
    /// A steering direction: the mean over `pairs` of `reduce(positive) − reduce(negative)`, the prompts'
    /// activations at `hook` ([T, width] hooks such as `blocks.L.hook_resid_pre`). The prompts may differ in
    /// length. Returns a [width] vector, unnormalised (its norm is the typical size of the difference).
    public func contrastDirection(pairs: [ContrastPair], hook: HookPoint, reduction: ContrastReduction) throws -> Tensor {
        guard !pairs.isEmpty else { throw AnalysisError(field: "pairs", "needs at least one pair") }
        guard let shape = hookShape(hook, tokens: 1), shape.count == 2, hook != .logits else {
            throw AnalysisError(field: "hook", "\(hook.name) is not a [positions, width] activation of this model")
        }
        let width = shape[1]
        var sum = [Double](repeating: 0, count: width)
        for (index, pair) in pairs.enumerated() {
            for (tokens, sign) in [(pair.positive, 1.0), (pair.negative, -1.0)] {
                try validate(tokens, field: "pairs[\(index)]")
                let capture = HookCapture([hook])
                _ = try forward(tokens, cache: makeCache(capacity: tokens.count), observer: capture, logits: .last)
                let activation = capture[hook]
                let rows = reduction == .lastPosition ? tokens.count - 1 ..< tokens.count : 0..<tokens.count
                let weight = sign / Double(rows.count * pairs.count)
                for row in rows {
                    for i in 0..<width { sum[i] += weight * Double(activation.data[row * width + i]) }
                }
            }
        }
        return Tensor(shape: [width], data: sum.map(Float.init))
    }
}
