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
    /// Runs an activation-patching sweep, reusing work: the clean and the corrupted prompt each run once
    /// (recording every layer's resid_pre of the patched run, its KV cache, and the patching source's
    /// activations); a cell at layer L and first patched position p then resumes the patched run at L for
    /// positions p… only, over its cached keys and values of the positions before p.
    ///
    /// `progress` gets the fraction of cells done after each cell; `isCancelled` is asked before each cell,
    /// and when it says yes the sweep returns the cells computed so far.
    public func patchingSweep(
        _ spec: PatchingSweepSpec, progress: (Double) -> Void = { _ in }, isCancelled: () -> Bool = { false }
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

        // The two runs: the patched one keeps its cache, every resid_pre and its site activations, the source
        // its site activations.
        let layers = 0..<config.layerCount
        let baseTokens = spec.direction == .denoise ? spec.corrupted : spec.clean
        let sourceTokens = spec.direction == .denoise ? spec.clean : spec.corrupted
        let base = HookCapture(layers.flatMap { [HookPoint.block($0, .residPre), spec.site.hook($0)] })
        let source = HookCapture(layers.map(spec.site.hook))
        let baseCache = makeCache(capacity: count)
        let baseLogits = try forward(baseTokens, cache: baseCache, observer: base, logits: .last)
        let sourceLogits = try forward(sourceTokens, cache: makeCache(capacity: count), observer: source, logits: .last)
        let metric = SweepMetric(spec.metric, clean: spec.direction == .denoise ? sourceLogits : baseLogits)

        let columns = spec.site == .headZ ? Array(0..<config.headCount) : positions
        // Positions descending: a cell overwrites the cache rows from its first patched position on, at its
        // layer and after, and every later cell reads only rows before its own (earlier) first position.
        let cells = spec.site == .headZ
            ? layers.flatMap { layer in columns.indices.map { (layer: layer, column: $0) } }
            : columns.indices.reversed().flatMap { column in layers.map { (layer: $0, column: column) } }
        var values = [[Float?]](repeating: [Float?](repeating: nil, count: columns.count), count: layers.count)
        let cache = baseCache.copy()
        let baseMetric = metric(baseLogits)
        var completed = 0
        for cell in cells {
            if isCancelled() { break }
            let first = spec.site == .headZ ? positions[0] : columns[cell.column]
            let hook = spec.site.hook(cell.layer)
            let writer = switch spec.site {
            case .residPre, .attnOut, .mlpOut:
                RowWriter(hook: hook, width: config.modelDim, source: source[hook], positions: [first], columns: nil)
            case .headZ:
                RowWriter(hook: hook, width: config.qDim, source: source[hook], positions: positions,
                          columns: columns[cell.column] * config.headDim ..< (columns[cell.column] + 1) * config.headDim)
            }
            if writer.changesNothing(in: base[hook]) {
                // The source holds what the patched run has there already (e.g. before the prompts' first
                // difference): the cell is the patched run itself.
                values[cell.layer][cell.column] = baseMetric
            } else {
                var residual = Self.rows(base[.block(cell.layer, .residPre)], Array(first..<count))
                if spec.site == .residPre { writer.write(into: &residual.data, firstPosition: first) }
                cache.truncate(to: first)
                let logits = forward(resumingAt: cell.layer, residual: residual, cache: cache,
                                     observer: spec.site == .residPre ? nil : writer, logits: .last)
                values[cell.layer][cell.column] = metric(logits)
            }
            completed += 1
            progress(Double(completed) / Double(cells.count))
        }
        return PatchingSweepResult(site: spec.site, direction: spec.direction, columns: columns, values: values,
                                   clean: metric(spec.direction == .denoise ? sourceLogits : baseLogits),
                                   corrupted: metric(spec.direction == .denoise ? baseLogits : sourceLogits),
                                   completed: completed, total: cells.count)
    }
}

/// Writes a source run's rows (or a column range of them) over one hook's activation at some positions.
private final class RowWriter: HookObserver {
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
        for position in positions where activation.positions.contains(position) {
            let row = (position - activation.positions.lowerBound) * width
            for column in columns { activation.data[row + column] = source.data[position * width + column] }
        }
    }

    /// Writes into rows of `data` that start at `firstPosition`.
    func write(into data: inout [Float], firstPosition: Int) {
        for position in positions {
            let row = (position - firstPosition) * width
            for column in columns { data[row + column] = source.data[position * width + column] }
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
