import Tensors
import Transformer

/// Where in a block the logit lens reads the residual stream.
public enum LensSite: String, CaseIterable, Sendable {
    case residPre, residMid, residPost

    var blockHook: HookPoint.BlockHook {
        switch self {
        case .residPre: .residPre
        case .residMid: .residMid
        case .residPost: .residPost
        }
    }
}

/// The lens's best tokens for one residual-stream vector.
public struct LensEntry: Equatable, Sendable {
    /// `blocks.L.hook_resid_pre/mid/post`, or `logits` for the model's own output (the final norm of the
    /// last resid_post).
    public let hook: HookPoint
    public let position: Int
    /// The k most likely tokens, best first, with probabilities under the softmax of the whole vocabulary.
    public let top: [TokenScore]
}

/// The logit lens over every layer: `ln_final(resid) · W_Uᵀ` for each layer's resid_pre, resid_mid and
/// resid_post at some positions, then the model's output there.
public struct LogitLensTable: Equatable, Sendable {
    public let tokens: [Int32]
    public let positions: [Int]
    public let k: Int
    /// Layer by layer, site by site in forward order, position by position; then `logits` per position.
    public let entries: [LensEntry]
}

extension LanguageModel {
    /// Runs `tokens` once and reads the logit lens at `positions` (negative ones count from the end) for
    /// every layer's `sites`, keeping the `k` best tokens of each.
    public func logitLensTable(
        tokens: [Int32], positions: [Int], k: Int, sites: [LensSite] = LensSite.allCases
    ) throws -> LogitLensTable {
        try validate(tokens, field: "tokens")
        let positions = try resolve(positions: positions, count: tokens.count)
        guard !positions.isEmpty else { throw AnalysisError(field: "positions", "is empty") }
        try validate(k: k)
        let hooks = (0..<config.layerCount).flatMap { layer in sites.map { HookPoint.block(layer, $0.blockHook) } }
        let capture = HookCapture(hooks)
        let logits = try forward(tokens, cache: makeCache(capacity: tokens.count), observer: capture)

        var stacked = Tensor(zeros: [0, config.modelDim])
        stacked.data.reserveCapacity((hooks.count * positions.count) * config.modelDim)
        for hook in hooks {
            stacked.data += Self.rows(capture[hook], positions).data
            stacked.shape[0] += positions.count
        }
        let lens = logitLens(stacked)
        let vocabulary = config.vocabularySize
        var entries: [LensEntry] = []
        lens.data.withUnsafeBufferPointer { rows in
            for (h, hook) in hooks.enumerated() {
                for (p, position) in positions.enumerated() {
                    let row = UnsafeBufferPointer(rebasing: rows[(h * positions.count + p) * vocabulary ..< (h * positions.count + p + 1) * vocabulary])
                    entries.append(LensEntry(hook: hook, position: position, top: Self.topTokens(row, k: k)))
                }
            }
        }
        logits.data.withUnsafeBufferPointer { rows in
            for position in positions {
                let row = UnsafeBufferPointer(rebasing: rows[position * vocabulary ..< (position + 1) * vocabulary])
                entries.append(LensEntry(hook: .logits, position: position, top: Self.topTokens(row, k: k)))
            }
        }
        return LogitLensTable(tokens: tokens, positions: positions, k: k, entries: entries)
    }

    /// The logit lens of every d_model-long row of `tensor` ([d_model], [T, d_model] …): the `k` best
    /// tokens of each, best first.
    public func logitLensTop(_ tensor: Tensor, k: Int) throws -> [[TokenScore]] {
        try validate(k: k)
        guard tensor.shape.last == config.modelDim else {
            throw AnalysisError(field: "tensor", "the logit lens takes rows of d_model = \(config.modelDim), not shape \(tensor.shape)")
        }
        let rows = tensor.count / config.modelDim
        let lens = logitLens(Tensor(shape: [rows, config.modelDim], data: tensor.data))
        let vocabulary = config.vocabularySize
        return lens.data.withUnsafeBufferPointer { all in
            (0..<rows).map { Self.topTokens(UnsafeBufferPointer(rebasing: all[$0 * vocabulary ..< ($0 + 1) * vocabulary]), k: k) }
        }
    }
}
