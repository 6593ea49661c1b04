import Foundation
import Tensors
import Transformer
@testable import Debugger

/// A test double of the engine: a tiny hand-written "transformer" over known arithmetic, calling the
/// observer exactly as the contract says (ask `wants`, then `observe` a mutable view, and compute on with
/// whatever the observer left in the buffer). It makes no claim about any real model.
final class ToyModel: DebugModel {
    static let width = 4
    static let heads = 2
    static let vocabulary = 8
    static let letters = Array("abcdefgh")

    let layers: Int
    /// Called at the start of every pass with the pass's index (0 = prompt); may block to let a test act.
    var beforePass: ((Int) -> Void)?
    /// The hook names observed, in order, by any generation of this model.
    private(set) var observed: [String] = []
    private let lock = NSLock()

    init(layers: Int = 3) { self.layers = layers }

    var hookPoints: [HookPoint] {
        [.embed] + (0..<layers).flatMap { layer in
            [HookPoint.block(layer, .residPre), .block(layer, .z), .block(layer, .attnOut), .block(layer, .residMid),
             .block(layer, .mlpOut), .block(layer, .residPost)]
        } + [.lnFinalNormalized, .logits]
    }

    func hookShape(_ hook: HookPoint, positions: Int, keyPositions: Int) -> [Int] {
        switch hook {
        case .logits: [positions, Self.vocabulary]
        case .block(_, .z): [positions, Self.heads, Self.width / Self.heads]
        default: [positions, Self.width]
        }
    }

    var vocabularySize: Int { Self.vocabulary }

    func tokenize(_ text: String) -> [Int32] {
        text.compactMap { Self.letters.firstIndex(of: $0) }.map { Int32($0) }
    }

    func detokenize(_ tokens: [Int32]) -> String { tokens.map(piece).joined() }

    func piece(_ token: Int32) -> String { String(Self.letters[Int(token)]) }

    func isEndOfGeneration(_ token: Int32) -> Bool { false }

    func logitLens(_ residual: [Float]) -> [Float] { Self.unembed(Self.normalise(residual)) }

    func startGeneration(sampling: SamplingOptions) -> ModelGeneration { ToyGeneration(model: self) }

    func noteObserved(_ hook: HookPoint) { lock.withLock { observed.append(hook.name) } }

    func resetObserved() { lock.withLock { observed = [] } }

    static func normalise(_ row: [Float]) -> [Float] {
        let scale = (row.reduce(0) { $0 + $1 * $1 } / Float(row.count) + 1e-6).squareRoot()
        return row.map { $0 / scale }
    }

    static func unembed(_ row: [Float]) -> [Float] {
        (0..<vocabulary).map { token in
            row.enumerated().reduce(0) { $0 + $1.element * Float(sin(Double(token * 3 + $1.offset))) }
        }
    }
}

final class ToyGeneration: ModelGeneration {
    let model: ToyModel
    /// Per layer, the residual entering it at every position so far: the toy's keys and values.
    private var keys: [[[Float]]]
    private var passes = 0

    init(model: ToyModel) {
        self.model = model
        keys = Array(repeating: [], count: model.layers)
    }

    func forward(_ tokens: [Int32], observer: HookObserver?) -> [Float] {
        model.beforePass?(passes)
        passes += 1
        let start = keys[0].count
        let positions = start..<(start + tokens.count)
        let width = ToyModel.width
        /// Lends `rows` to the observer at `hook` and returns what it left there.
        func hook(_ hook: HookPoint, _ rows: [[Float]]) -> [[Float]] {
            guard let observer, observer.wants(hook) else { return rows }
            model.noteObserved(hook)
            var flat = rows.flatMap { $0 }
            let shape = model.hookShape(hook, positions: rows.count, keyPositions: positions.upperBound)
            flat.withUnsafeMutableBufferPointer { buffer in
                observer.observe(ActivationView(hook: hook, shape: shape, positions: positions, data: buffer))
            }
            let rowLength = flat.count / rows.count
            return (0..<rows.count).map { Array(flat[$0 * rowLength..<($0 + 1) * rowLength]) }
        }
        var residual = hook(.embed, zip(tokens, positions).map { token, position in
            (0..<width).map { Float(token) + 0.1 * Float($0) + 0.01 * Float(position) }
        })
        for layer in 0..<model.layers {
            residual = hook(.block(layer, .residPre), residual)
            keys[layer] += residual
            let z = hook(.block(layer, .z), residual.enumerated().map { offset, row in
                // Each position attends uniformly to the keys up to itself.
                let visible = keys[layer][0...(start + offset)]
                return (0..<width).map { i in visible.reduce(0) { $0 + $1[i] } / Float(visible.count) }
            })
            let attention = hook(.block(layer, .attnOut), z.map { $0.map { 0.5 * $0 } })
            residual = hook(.block(layer, .residMid), zip(residual, attention).map { zip($0, $1).map(+) })
            let mlp = hook(.block(layer, .mlpOut), residual.map { $0.map { 0.25 * $0 + Float(layer) } })
            residual = hook(.block(layer, .residPost), zip(residual, mlp).map { zip($0, $1).map(+) })
        }
        let normalised = hook(.lnFinalNormalized, residual.map(ToyModel.normalise))
        let logits = hook(.logits, normalised.map(ToyModel.unembed))
        return logits[logits.count - 1]
    }

    func sample(_ logits: [Float]) -> Int32 {
        Int32(logits.indices.max { logits[$0] < logits[$1] }!)
    }
}

/// Copies every activation of one pass, for comparing a stop with an independent run.
final class RecordingObserver: HookObserver {
    private(set) var tensors: [HookPoint: [Tensor]] = [:]
    let edit: ((ActivationView) -> Void)?
    init(edit: ((ActivationView) -> Void)? = nil) { self.edit = edit }
    func wants(_ hook: HookPoint) -> Bool { true }
    func observe(_ activation: ActivationView) {
        edit?(activation)
        tensors[activation.hook, default: []].append(activation.copy())
    }
}

/// Collects a session's events so a test can wait for the next stop or the end of the run.
final class EventLog: @unchecked Sendable {
    private let condition = NSCondition()
    private var events: [DebugEvent] = []
    private var consumed = 0

    func append(_ event: DebugEvent) {
        condition.withLock {
            events.append(event)
            condition.broadcast()
        }
    }

    /// The next event not seen yet, waiting at most `timeout` seconds.
    func next(timeout: TimeInterval = 10) -> DebugEvent? {
        condition.withLock {
            let deadline = Date(timeIntervalSinceNow: timeout)
            while consumed == events.count {
                if !condition.wait(until: deadline) { return nil }
            }
            consumed += 1
            return events[consumed - 1]
        }
    }

    /// Skips output until the next stop; nil if the run terminates (or nothing comes) first.
    func nextStop() -> StopEvent? {
        while let event = next() {
            switch event {
            case .stopped(let stop): return stop
            case .terminated: return nil
            case .output, .recording: continue
            }
        }
        return nil
    }

    /// Skips everything until the run's end.
    func termination() -> RunSummary? {
        while let event = next() {
            if case .terminated(let summary) = event { return summary }
        }
        return nil
    }

    var all: [DebugEvent] { condition.withLock { events } }
}

func makeSession(_ model: ToyModel = ToyModel(), budget: Int = 1 << 20) -> (DebugSession, EventLog) {
    let log = EventLog()
    return (DebugSession(model: model, memoryBudget: budget) { log.append($0) }, log)
}
