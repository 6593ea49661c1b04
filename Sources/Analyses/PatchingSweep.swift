import Foundation
import Tensors
import Transformer

/// The activation an activation-patching sweep replaces, one cell at a time.
public enum PatchSite: String, CaseIterable, Sendable {
    /// `blocks.L.hook_resid_pre` at one position: a [layer × position] grid.
    case residPre
    /// `blocks.L.hook_attn_out` at one position: a [layer × position] grid.
    case attnOut
    /// `blocks.L.hook_mlp_out` at one position: a [layer × position] grid.
    case mlpOut
    /// One head's slice of `blocks.L.attn.hook_z`, at every patched position at once: a [layer × head] grid.
    case headZ

    func hook(_ layer: Int) -> HookPoint {
        switch self {
        case .residPre: .block(layer, .residPre)
        case .attnOut: .block(layer, .attnOut)
        case .mlpOut: .block(layer, .mlpOut)
        case .headZ: .block(layer, .z)
        }
    }
}

/// What a sweep measures, on the last position's logits.
public enum PatchMetric: Equatable, Sendable {
    /// `logit[a] − logit[b]`.
    case logitDifference(Int32, Int32)
    /// The softmax probability of a token.
    case probability(Int32)
    /// `KL(clean ‖ run)`, in nats, over the whole vocabulary.
    case klDivergence
}

/// Which run is patched with which run's activations.
public enum PatchDirection: String, CaseIterable, Sendable {
    /// The corrupted run, with one clean activation patched in (TransformerLens's `patching` module): a cell
    /// shows how much that activation restores.
    case denoise
    /// The clean run, with one corrupted activation patched in: a cell shows how much that activation breaks.
    case noise
}

/// An activation-patching sweep: two prompts of the same token count, a site, a metric.
public struct PatchingSweepSpec: Sendable {
    public var clean: [Int32]
    public var corrupted: [Int32]
    public var site: PatchSite
    public var metric: PatchMetric
    public var direction: PatchDirection
    /// For `residPre`, `attnOut` and `mlpOut`: the grid's positions (nil: all). For `headZ`: the positions each
    /// head is patched at, all at once (nil: all). Negative positions count from the end.
    public var positions: [Int]?

    public init(clean: [Int32], corrupted: [Int32], site: PatchSite, metric: PatchMetric,
                direction: PatchDirection = .denoise, positions: [Int]? = nil) {
        self.clean = clean
        self.corrupted = corrupted
        self.site = site
        self.metric = metric
        self.direction = direction
        self.positions = positions
    }
}

/// A sweep's grid, [layer × column], with the unpatched runs' metrics to read it against.
public struct PatchingSweepResult: Equatable, Sendable {
    public let site: PatchSite
    public let direction: PatchDirection
    /// The columns: token positions, or heads for `headZ`.
    public let columns: [Int]
    /// [layer][column]: the metric with that one activation patched; nil where the sweep was cancelled first.
    public let values: [[Float?]]
    /// The metric of the clean and of the corrupted run, unpatched.
    public let clean: Float
    public let corrupted: Float
    /// Cells computed, of `total`.
    public let completed: Int
    public let total: Int

    /// `(value − corrupted) / (clean − corrupted)`: 0 is the corrupted run's metric, 1 the clean run's (for
    /// KL, 1 − KL/KL(clean ‖ corrupted)). Denoising cells near 1 restore the clean behaviour; noising cells
    /// near 0 break it. nil where not computed, or when the two runs' metrics are equal.
    public var normalised: [[Float?]] {
        let span = clean - corrupted
        return values.map { row in row.map { value in value.flatMap { span == 0 ? nil : ($0 - corrupted) / span } } }
    }

    public var cancelled: Bool { completed < total }
}

extension LanguageModel {
    /// Runs an activation-patching sweep, reusing work. The clean and the corrupted prompt each run once,
    /// recording the patched run's KV cache, its resid_pre of every layer and the site's activations of both.
    /// A cell at layer L whose first patched position is p then recomputes only layers L… of positions p…,
    /// over the recorded keys and values of the positions before p; a cell whose patch would write what is
    /// there already (any position before the prompts' first difference) is the patched run, without a pass.
    /// The cells of one layer run together, their rows stacked (`resumeLanes`), at most `lanesPerPass` at a time.
    ///
    /// `progress` gets the fraction of cells done after each pass; `isCancelled` is asked before each pass,
    /// and when it says yes the sweep returns the cells computed so far.
    public func patchingSweep(
        _ spec: PatchingSweepSpec, progress: (Double) -> Void = { _ in }, isCancelled: () -> Bool = { false }
    ) throws -> PatchingSweepResult {
        try patchingSweep(spec, stacked: resumesLanes, progress: progress, isCancelled: isCancelled)
    }

    /// The sweep, with the cells of a layer stacked into one pass (`stacked`) or each resumed on its own
    /// through the engine's `forward(resumingAt:)` (any architecture).
    func patchingSweep(
        _ spec: PatchingSweepSpec, stacked: Bool, progress: (Double) -> Void, isCancelled: () -> Bool
    ) throws -> PatchingSweepResult {
        try validate(spec.clean, field: "clean")
        try validate(spec.corrupted, field: "corrupted")
        let count = spec.clean.count
        guard spec.corrupted.count == count else {
            throw AnalysisError(field: "corrupted", "has \(spec.corrupted.count) tokens; the clean prompt has \(count)")
        }
        switch spec.metric {
        case .logitDifference(let a, let b):
            try validate(token: a, field: "metric.tokens")
            try validate(token: b, field: "metric.tokens")
        case .probability(let token): try validate(token: token, field: "metric.token")
        case .klDivergence: break
        }
        let positions = try spec.positions.map { try Array(Set(resolve(positions: $0, count: count))).sorted() }
            ?? Array(0..<count)
        guard !positions.isEmpty else { throw AnalysisError(field: "positions", "is empty") }

        let layers = 0..<config.layerCount
        let baseTokens = spec.direction == .denoise ? spec.corrupted : spec.clean
        let sourceTokens = spec.direction == .denoise ? spec.clean : spec.corrupted
        let base = HookCapture(layers.flatMap { [HookPoint.block($0, .residPre), spec.site.hook($0)] })
        let source = HookCapture(layers.map(spec.site.hook))
        let baseCache = makeCache(capacity: count)
        let baseLogits = try forward(baseTokens, cache: baseCache, observer: base, logits: .last)
        let sourceLogits = try forward(sourceTokens, cache: makeCache(capacity: count), observer: source, logits: .last)
        let metric = SweepMetric(spec.metric, clean: spec.direction == .denoise ? sourceLogits : baseLogits)
        let baseMetric = metric(baseLogits)
        let keys = layers.map { baseCache.keys(layer: $0) }, values = layers.map { baseCache.values(layer: $0) }

        let columns = spec.site == .headZ ? Array(0..<config.headCount) : positions
        /// The patch of one cell: the source's rows (or one head's columns of them) at the site.
        func writer(layer: Int, column: Int) -> RowWriter {
            let hook = spec.site.hook(layer)
            guard spec.site == .headZ else {
                return RowWriter(hook: hook, width: config.modelDim, source: source[hook], positions: [columns[column]], columns: nil)
            }
            let head = columns[column]
            return RowWriter(hook: hook, width: config.qDim, source: source[hook], positions: positions,
                             columns: head * config.headDim ..< (head + 1) * config.headDim)
        }
        /// The resumed layer's residual, from the first patched position on, with a resid_pre patch written in.
        func lane(layer: Int, column: Int) -> Lane {
            let edit = writer(layer: layer, column: column), first = edit.positions[0]
            var residual = Self.rows(base[.block(layer, .residPre)], Array(first..<count)).data
            if spec.site == .residPre {
                residual.withUnsafeMutableBufferPointer { edit.write(into: $0.baseAddress!, firstPosition: first) }
            }
            return Lane(first: first, residual: residual, edit: spec.site == .residPre ? nil : edit)
        }

        var grid = [[Float?]](repeating: [Float?](repeating: nil, count: columns.count), count: layers.count)
        let total = layers.count * columns.count
        var completed = 0
        func result() -> PatchingSweepResult {
            PatchingSweepResult(site: spec.site, direction: spec.direction, columns: columns, values: grid,
                                clean: metric(spec.direction == .denoise ? sourceLogits : baseLogits),
                                corrupted: metric(spec.direction == .denoise ? baseLogits : sourceLogits),
                                completed: completed, total: total)
        }
        for layer in layers {
            let changing = columns.indices.filter { column in
                let edit = writer(layer: layer, column: column)
                return !edit.changesNothing(in: base[edit.hook])
            }
            if changing.count < columns.count {
                for column in columns.indices where !changing.contains(column) { grid[layer][column] = baseMetric }
                completed += columns.count - changing.count
                progress(Double(completed) / Double(total))
            }
            for batch in stride(from: 0, to: changing.count, by: stacked ? Self.lanesPerPass : 1) {
                if isCancelled() { return result() }
                let cells = Array(changing[batch ..< min(changing.count, batch + (stacked ? Self.lanesPerPass : 1))])
                let lanes = cells.map { lane(layer: layer, column: $0) }
                if stacked {
                    let logits = resumeLanes(lanes, at: layer, count: count, keys: keys, values: values)
                    let vocabulary = config.vocabularySize
                    for (row, column) in cells.enumerated() {
                        grid[layer][column] = metric(Tensor(shape: [1, vocabulary],
                                                            data: Array(logits.data[row * vocabulary ..< (row + 1) * vocabulary])))
                    }
                } else {
                    let cache = baseCache.copy()
                    cache.truncate(to: lanes[0].first)
                    let logits = forward(resumingAt: layer, residual: Tensor(shape: [count - lanes[0].first, config.modelDim],
                                                                           data: lanes[0].residual),
                                         cache: cache, observer: lanes[0].edit, logits: .last)
                    grid[layer][cells[0]] = metric(logits)
                }
                completed += cells.count
                progress(Double(completed) / Double(total))
            }
        }
        return result()
    }

    /// How many cells one stacked pass resumes at most.
    static let lanesPerPass = 32
}

/// Writes a source run's rows (or a column range of them) over one hook's activation at some positions.
final class RowWriter: HookObserver {
    let hook: HookPoint
    let width: Int
    let source: Tensor
    let positions: [Int]
    let columns: Range<Int>

    init(hook: HookPoint, width: Int, source: Tensor, positions: [Int], columns: Range<Int>?) {
        self.hook = hook
        self.width = width
        self.source = source
        self.positions = positions
        self.columns = columns ?? 0..<width
    }

    func wants(_ hook: HookPoint) -> Bool { hook == self.hook }

    func observe(_ activation: ActivationView) {
        write(into: activation.data.baseAddress!, firstPosition: activation.positions.lowerBound)
    }

    /// Writes into rows of width `width` holding the positions from `firstPosition` on.
    func write(into rows: UnsafeMutablePointer<Float>, firstPosition: Int) {
        for position in positions where position >= firstPosition {
            let row = (position - firstPosition) * width
            for column in columns { rows[row + column] = source.data[position * width + column] }
        }
    }

    /// Whether the patch would write exactly what `target` (a whole run's activation) holds already.
    func changesNothing(in target: Tensor) -> Bool {
        positions.allSatisfy { position in
            columns.allSatisfy { target.data[position * width + $0] == source.data[position * width + $0] }
        }
    }
}

/// A metric on one row of logits, with the clean run's log-probabilities for KL.
private struct SweepMetric {
    let metric: PatchMetric
    let cleanLogProbabilities: [Double]

    init(_ metric: PatchMetric, clean: Tensor) {
        self.metric = metric
        cleanLogProbabilities = metric == .klDivergence ? Self.logSoftmax(clean.data) : []
    }

    func callAsFunction(_ logits: Tensor) -> Float {
        switch metric {
        case .logitDifference(let a, let b):
            return logits.data[Int(a)] - logits.data[Int(b)]
        case .probability(let token):
            return Float(exp(Self.logSoftmax(logits.data)[Int(token)]))
        case .klDivergence:
            let logProbabilities = Self.logSoftmax(logits.data)
            var kl = 0.0
            for (clean, run) in zip(cleanLogProbabilities, logProbabilities) { kl += exp(clean) * (clean - run) }
            return Float(kl)
        }
    }

    static func logSoftmax(_ logits: [Float]) -> [Double] {
        let maximum = Double(logits.max() ?? 0)
        var total = 0.0
        for logit in logits { total += exp(Double(logit) - maximum) }
        let logTotal = log(total) + maximum
        return logits.map { Double($0) - logTotal }
    }
}
