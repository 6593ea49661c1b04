import Tensors
import Transformer

/// Which token positions a patch touches. Positions are absolute: the prompt is `0..<promptCount`,
/// and the n-th generated token (1-based) sits at `promptCount + n - 1`.
public enum PatchPositions: Equatable, Sendable, CustomStringConvertible {
    /// Every position of every pass: the whole prompt, then each generated token.
    case all
    /// The prompt's positions, in the prompt pass only.
    case prompt
    /// Each generated token's position, in its own pass.
    case generated
    /// These positions, in whichever pass computes them.
    case explicit([Int])

    func contains(_ position: Int, promptCount: Int) -> Bool {
        switch self {
        case .all: true
        case .prompt: position < promptCount
        case .generated: position >= promptCount
        case .explicit(let positions): positions.contains(position)
        }
    }

    public var description: String {
        switch self {
        case .all: "all positions"
        case .prompt: "prompt positions"
        case .generated: "generated positions"
        case .explicit(let positions): "positions \(positions)"
        }
    }
}

/// What a patch does to each selected vector (a position's row, or one head's part of it).
public enum PatchOperation: Equatable, Sendable {
    /// Replaces the vector with `value`.
    case set(Tensor)
    /// Adds `vector`.
    case add(Tensor)
    /// Zero ablation.
    case zero
    /// Mean ablation: the mean of this hook's selected vectors over every position of the run so far.
    case mean
    /// Multiplies by a factor.
    case scale(Float)
    /// Removes the component along `direction` (which need not be normalised).
    case projectOut(Tensor)
    /// Resample ablation: the activation of the same hook and position in a run of `source` (run once, cached).
    case resample(source: String)
    /// Ablates or steers along SAE features, at the hook the SAE reads.
    case features(FeaturePatch)

    public var name: String {
        switch self {
        case .set: "set"
        case .add: "add"
        case .zero: "zero"
        case .mean: "mean"
        case .scale: "scale"
        case .projectOut: "projectOut"
        case .resample: "resample"
        case .features(let patch): patch.mode == .ablate ? "ablateFeatures" : "steerFeatures"
        }
    }

    /// The parameter that holds the operand, for messages.
    var operandField: String {
        switch self {
        case .set: "value"
        case .add, .projectOut: "vector"
        case .zero, .mean, .scale, .resample: "op"
        case .features: "features"
        }
    }

    /// The operand whose length must match the patched vectors, if any.
    var operand: Tensor? {
        switch self {
        case .set(let tensor), .add(let tensor), .projectOut(let tensor): tensor
        case .zero, .mean, .scale, .resample, .features: nil
        }
    }
}

/// An intervention as a value: where, on which positions and heads, and what it does.
public struct Patch: Equatable, Sendable {
    /// A hook name or a glob.
    public var hook: String
    public var positions: PatchPositions
    /// Heads to touch, for hooks with a head axis (`attn.hook_q/k/v/rot_q/rot_k/z`, `attn_scores`, `pattern`); nil is all.
    public var heads: [Int]?
    public var operation: PatchOperation

    public init(hook: String, positions: PatchPositions = .all, heads: [Int]? = nil, operation: PatchOperation) {
        self.hook = hook
        self.positions = positions
        self.heads = heads
        self.operation = operation
    }
}

/// A patch in force, with its id and the hooks it resolved to.
public struct ActivePatch: Equatable, Sendable {
    public let id: Int
    public let patch: Patch
    /// The hook points it applies at.
    public let hooks: [HookPoint]
}

/// Where the positions and heads sit in a hook's activation.
struct HookLayout {
    /// The axis of positions (the query axis for scores and patterns).
    let positionAxis: Int
    let headAxis: Int?

    init(_ hook: HookPoint) {
        switch hook {
        case .block(_, .attnScores), .block(_, .pattern): positionAxis = 1; headAxis = 0
        case .block(_, .q), .block(_, .k), .block(_, .v), .block(_, .rotQ), .block(_, .rotK), .block(_, .z):
            positionAxis = 0; headAxis = 1
        default: positionAxis = 0; headAxis = nil
        }
    }

    /// The flat indices of one position's vector, restricted to `heads`, in a tensor of `shape`.
    func vectorIndices(position row: Int, heads: [Int]?, shape: [Int]) -> [Int] {
        var components = [TensorSlice.Component](repeating: .range(start: nil, end: nil, step: 1), count: shape.count)
        components[positionAxis] = .index(row)
        guard let headAxis, let heads else {
            return (try? TensorSlice(components).select(in: shape).indices) ?? []
        }
        return heads.flatMap { head -> [Int] in
            components[headAxis] = .index(head)
            return (try? TensorSlice(components).select(in: shape).indices) ?? []
        }
    }

    /// The length of one position's vector restricted to `heads`.
    func vectorLength(heads: [Int]?, shape: [Int]) -> Int {
        let perPosition = shape.reduce(1, *) / shape[positionAxis]
        guard let headAxis, let heads else { return perPosition }
        return perPosition / shape[headAxis] * heads.count
    }
}

/// Applies a patch to a live activation, keeping what mean ablation and resampling need between passes.
final class PatchApplier {
    let active: ActivePatch
    let hooks: Set<HookPoint>
    /// For `.mean`: per hook, the sum of the vectors seen so far in this run and how many.
    private var sums: [HookPoint: (sum: [Double], count: Int)] = [:]
    /// For `.resample`: the source prompt's activation at each hook, filled before the run starts.
    private let resampleSource: [HookPoint: (tensor: Tensor, positions: Int)]

    init(_ active: ActivePatch, source: [HookPoint: (tensor: Tensor, positions: Int)]) {
        self.active = active
        hooks = Set(active.hooks)
        resampleSource = source
    }

    /// Patches `view` in place; returns the positions it touched.
    @discardableResult
    func apply(to view: ActivationView, promptCount: Int) -> [Int] {
        let patch = active.patch
        let layout = HookLayout(view.hook)
        let rows = view.positions.enumerated().filter { patch.positions.contains($0.element, promptCount: promptCount) }
        guard !rows.isEmpty else { return [] }
        let heads = layout.headAxis == nil ? nil : patch.heads
        let length = layout.vectorLength(heads: heads, shape: view.shape)
        let selected = rows.map { layout.vectorIndices(position: $0.offset, heads: heads, shape: view.shape) }
        let data = view.data
        func read(_ indices: [Int]) -> [Float] { indices.map { data[$0] } }
        func write(_ vector: [Float], _ indices: [Int]) { for (value, index) in zip(vector, indices) { data[index] = value } }

        switch patch.operation {
        case .set(let value):
            guard value.count == length else { return [] }
            for indices in selected { write(value.data, indices) }
        case .add(let vector):
            guard vector.count == length else { return [] }
            for indices in selected { for (offset, index) in indices.enumerated() { data[index] += vector.data[offset] } }
        case .zero:
            for indices in selected { for index in indices { data[index] = 0 } }
        case .scale(let factor):
            for indices in selected { for index in indices { data[index] *= factor } }
        case .projectOut(let direction):
            guard direction.count == length else { return [] }
            let squaredNorm = direction.data.reduce(0) { $0 + $1 * $1 }
            guard squaredNorm > 0 else { return [] }
            for indices in selected {
                let vector = read(indices)
                let along = zip(vector, direction.data).reduce(0) { $0 + $1.0 * $1.1 } / squaredNorm
                write(zip(vector, direction.data).map { $0 - along * $1 }, indices)
            }
        case .mean:
            var running = sums[view.hook] ?? ([Double](repeating: 0, count: length), 0)
            guard running.sum.count == length else { return [] }
            for indices in selected {
                for (offset, index) in indices.enumerated() { running.sum[offset] += Double(data[index]) }
                running.count += 1
            }
            sums[view.hook] = running
            let mean = running.sum.map { Float($0 / Double(running.count)) }
            for indices in selected { write(mean, indices) }
        case .features(let patch):
            guard patch.sae.inputWidth == length else { return [] }
            for indices in selected {
                var vector = read(indices)
                patch.apply(to: &vector)
                write(vector, indices)
            }
        case .resample:
            guard let source = resampleSource[view.hook] else { return [] }
            var touched: [Int] = []
            for (row, indices) in zip(rows, selected) where row.element < source.positions {
                let sourceShape = source.tensor.shape
                guard sourceShape.count == view.shape.count,
                      layout.vectorLength(heads: heads, shape: sourceShape) == length else { continue }
                let sourceIndices = layout.vectorIndices(position: row.element, heads: heads, shape: sourceShape)
                write(sourceIndices.map { source.tensor.data[$0] }, indices)
                touched.append(row.element)
            }
            return touched
        }
        return rows.map(\.element)
    }
}
