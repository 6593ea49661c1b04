import Analyses
import Foundation
import Tensors
import Transformer

/// A sparse autoencoder attached to a session: it reads `hook`, and its features are visible at stops.
public struct AttachedSAE: Sendable {
    public let id: Int
    public let name: String
    public let hook: HookPoint
    public let sae: SparseAutoencoder
}

/// The analyses' state in a session, guarded by the session's lock.
struct AnalysisState {
    var saes: [AttachedSAE] = []
    var nextSAEID = 1
}

/// An SAE's reading of its hook's activation at a stop.
public struct SAEReading: Sendable {
    public let sae: AttachedSAE
    /// The absolute positions of the rows.
    public let positions: Range<Int>
    /// [T, d_sae]
    public let features: Tensor
    /// `x − decode(encode(x))`, [T, d_in].
    public let error: Tensor
    /// `‖x − x̂‖` per position.
    public let errorNorms: [Float]
    /// `‖x − x̂‖ / ‖x‖` per position.
    public let relativeErrors: [Float]

    /// Per position, the `k` most active features (activation > 0), strongest first.
    public func top(_ k: Int) -> [[(feature: Int, activation: Float)]] {
        let width = sae.sae.featureCount
        return (0..<positions.count).map { row in
            let values = features.data[row * width ..< (row + 1) * width]
            return values.indices.filter { values[$0] > 0 }.sorted { values[$0] > values[$1] }.prefix(k)
                .map { (feature: $0 - row * width, activation: values[$0]) }
        }
    }
}

/// A patch that edits an SAE's features in the activation it reads: ablation subtracts what the features
/// contribute to the reconstruction (`f_i(x) · W_dec[i]`, the rest of x, error included, stays); steering adds
/// `scale · W_dec[i]` for each feature.
public struct FeaturePatch: Equatable, Sendable {
    public enum Mode: Equatable, Sendable {
        case ablate
        case steer(scale: Float)
    }

    public let saeID: Int
    public let sae: SparseAutoencoder
    /// The hook the SAE reads: the only one the patch may apply at.
    public let hook: HookPoint
    public let features: [Int]
    public let mode: Mode

    public static func == (a: FeaturePatch, b: FeaturePatch) -> Bool {
        a.saeID == b.saeID && a.sae === b.sae && a.features == b.features && a.mode == b.mode
    }

    /// Edits one position's activation [d_in] in place.
    func apply(to vector: inout [Float]) {
        let coefficients: [Float]
        switch mode {
        case .ablate:
            let activations = sae.encode(Tensor(shape: [1, vector.count], data: vector)).data
            coefficients = features.map { -activations[$0] }
        case .steer(let scale):
            coefficients = features.map { _ in scale }
        }
        for (feature, coefficient) in zip(features, coefficients) where coefficient != 0 {
            for (i, value) in sae.decoderDirection(feature).enumerated() { vector[i] += coefficient * value }
        }
    }
}

extension DebugSession {
    /// Loads a SAELens-format SAE (`cfg.json` + `sae_weights.safetensors`) and attaches it at its hook; from now
    /// on every run records that hook, so its features can be read at later stops of the same token step.
    @discardableResult
    public func attachSAE(directory: URL, name: String? = nil) throws -> AttachedSAE {
        let sae: SparseAutoencoder
        do { sae = try SparseAutoencoder(directory: directory) } catch let error as AnalysisError {
            throw DebugError.invalidArgument(field: error.field, message: error.message)
        }
        guard let hook = HookPoint(name: sae.hookName), hookIndices[hook] != nil else {
            throw DebugError.invalidArgument(field: "path", message: "the SAE reads '\(sae.hookName)', which this model does not have")
        }
        let shape = model.hookShape(hook, positions: 1, keyPositions: 1)
        let width = shape.dropFirst().reduce(1, *)
        guard HookLayout(hook).positionAxis == 0, width == sae.inputWidth else {
            throw DebugError.invalidArgument(field: "path",
                message: "the SAE reads \(sae.inputWidth) values per position; \(hook.name) has \(width)")
        }
        let attached = lock.withLock { () -> AttachedSAE in
            defer { analyses.nextSAEID += 1 }
            let attached = AttachedSAE(id: analyses.nextSAEID, name: name ?? directory.lastPathComponent, hook: hook, sae: sae)
            analyses.saes.append(attached)
            return attached
        }
        if !recordPatterns.contains(HookPattern(hook.name)) { recordPatterns += [HookPattern(hook.name)] }
        return attached
    }

    public var attachedSAEs: [AttachedSAE] { lock.withLock { analyses.saes } }

    /// The SAE with `id`, or without one the only (or first) SAE. Call with the lock held.
    func attachedSAE(_ id: Int?) throws -> AttachedSAE {
        if let id {
            guard let sae = analyses.saes.first(where: { $0.id == id }) else {
                throw DebugError.invalidArgument(field: "sae", message: "no SAE with id \(id)")
            }
            return sae
        }
        guard let first = analyses.saes.first else {
            throw DebugError.invalidArgument(field: "sae", message: "no SAE is attached: load one with sae/load")
        }
        return first
    }

    /// The SAE's reading of its hook at the shown stop: the stop's own activation, or the one recorded earlier
    /// in the same token step.
    public func saeReading(id: Int? = nil) throws -> SAEReading {
        try lock.withLock {
            let (run, stop) = try stoppedRun()
            let attached = try attachedSAE(id)
            let (input, positions) = try saeInput(attached, run: run, stop: stop)
            return Self.reading(attached, input: input, positions: positions)
        }
    }

    /// The activation an SAE reads, as the shown stop sees it. Call with the lock held.
    func saeInput(_ attached: AttachedSAE, run: Run, stop: Stop) throws -> (Tensor, Range<Int>) {
        if attached.hook == stop.shown.hook {
            return (try tensor(stop.cursor.map { .recorded(serial: $0) } ?? .live, in: run), stop.shown.positions)
        }
        guard let entry = run.record.latest(attached.hook, atOrBefore: stop.cursor ?? .max),
              entry.tokenStep == stop.shown.tokenStep else {
            throw DebugError.notRecorded("\(attached.hook.name), which SAE \(attached.id) reads, has not run yet in this token step")
        }
        return (entry.tensor, entry.positions)
    }

    static func reading(_ attached: AttachedSAE, input: Tensor, positions: Range<Int>) -> SAEReading {
        let features = attached.sae.encode(input)
        let reconstruction = attached.sae.decode(features)
        let width = attached.sae.inputWidth
        let error = Tensor(shape: [positions.count, width], data: zip(input.data, reconstruction.data).map { $0 - $1 })
        func norms(_ tensor: Tensor) -> [Float] {
            (0..<positions.count).map { row in
                tensor.data[row * width ..< (row + 1) * width].reduce(0) { $0 + $1 * $1 }.squareRoot()
            }
        }
        let errorNorms = norms(error)
        let relative = zip(errorNorms, norms(input)).map { $1 > 0 ? $0 / $1 : 0 }
        return SAEReading(sae: attached, positions: positions, features: features, error: error,
                          errorNorms: errorNorms, relativeErrors: relative)
    }

    /// Ablates (or steers along) SAE features in the activation the SAE reads, as a patch on `positions`;
    /// returns its id.
    public func patchFeatures(sae id: Int?, features: [Int], mode: FeaturePatch.Mode,
                              positions: PatchPositions = .all) throws -> Int {
        let patch = try featurePatch(sae: id, features: features, mode: mode)
        return try addPatches([Patch(hook: patch.hook.name, positions: positions, operation: .features(patch))])[0]
    }

    /// A feature patch for `patch/set`, checked against the SAE.
    public func featurePatch(sae id: Int?, features: [Int], mode: FeaturePatch.Mode) throws -> FeaturePatch {
        let attached = try lock.withLock { try attachedSAE(id) }
        guard !features.isEmpty else { throw DebugError.invalidArgument(field: "features", message: "is empty") }
        if let bad = features.first(where: { !(0..<attached.sae.featureCount).contains($0) }) {
            throw DebugError.invalidArgument(field: "features",
                message: "feature \(bad) is out of range for an SAE of \(attached.sae.featureCount)")
        }
        if case .steer(let scale) = mode, !scale.isFinite {
            throw DebugError.invalidArgument(field: "scale", message: "must be finite")
        }
        return FeaturePatch(saeID: attached.id, sae: attached.sae, hook: attached.hook, features: features, mode: mode)
    }

    /// The "SAE features" scopes of the hook frame: one per SAE whose input is visible at the stop.
    /// Call with the lock held.
    func saeScopes(run: Run, stop: Stop) -> [Scope] {
        analyses.saes.compactMap { attached in
            guard let (input, positions) = try? saeInput(attached, run: run, stop: stop) else { return nil }
            let reading = Self.reading(attached, input: input, positions: positions)
            var values = [
                NamedValue(name: "hook", value: .text(attached.hook.name)),
                NamedValue(name: "features", value: .tensor(.value(reading.features))),
                NamedValue(name: "error", value: .tensor(.value(reading.error))),
                NamedValue(name: "relative error", value: .tensor(.value(Tensor(shape: [positions.count], data: reading.relativeErrors)))),
            ]
            for (row, top) in reading.top(8).enumerated() {
                let text = top.map { "#\($0.feature) \(TensorSummary.format($0.activation))" }.joined(separator: ", ")
                values.append(NamedValue(name: "top[\(positions.lowerBound + row)]", value: .text(text.isEmpty ? "(none active)" : text)))
            }
            let name = "SAE \(attached.id) features (\(attached.name))"
            return Scope(name: name, variablesReference: run.stop!.references.add(.values(values)))
        }
    }
}

extension StopEnvironment {
    /// Feature `index` of an SAE's encoding of its hook's activation at this stop, one value per position.
    func feature(_ index: Int, sae id: Int?) throws -> Tensor {
        let attached = try session.attachedSAE(id)
        guard (0..<attached.sae.featureCount).contains(index) else {
            throw DebugError.invalidArgument(field: "feature", message: "feature \(index) is out of range for an SAE of \(attached.sae.featureCount)")
        }
        guard case .tensor(let input)? = try lookup(attached.hook.name) else {
            throw DebugError.notRecorded("\(attached.hook.name) is not visible at this stop")
        }
        let features = attached.sae.encode(input)
        let rows = features.shape[0], width = attached.sae.featureCount
        return Tensor(shape: [rows], data: (0..<rows).map { features.data[$0 * width + index] })
    }
}
