import Foundation
import Tensors
import Transformer

/// One frame of a stop's stack, innermost first: the hook, its layer, the token step.
public struct StackFrame: Equatable, Sendable {
    public enum Kind: String, Sendable { case hook, layer, token }
    public let id: Int
    public let name: String
    public let kind: Kind
    public let hook: HookPoint?
    public let layer: Int?
    public let tokenStep: Int
}

/// A named group of variables in a frame.
public struct Scope: Equatable, Sendable {
    public let name: String
    /// Valid until the run leaves this stop.
    public let variablesReference: Int
}

/// One variable: a one-line value, and for tensors a summary and children (rows or slices, paged).
public struct Variable: Equatable, Sendable {
    public let name: String
    public let value: String
    /// `tensor`, `number`, `string` or `tokens`.
    public let type: String
    public let shape: [Int]?
    public let summary: TensorSummary?
    /// 0 when it has no children; valid until the run leaves this stop.
    public let variablesReference: Int
}

/// Where a tensor shown at a stop comes from; read again whenever it is needed.
enum TensorSource {
    /// The live activation at the stop (which a write may change).
    case live
    case recorded(serial: Int)
    case value(Tensor)
}

/// A stop's variable references: what each integer handed out stands for. Emptied when the stop changes.
struct VariableReferences {
    enum Container {
        case values([NamedValue])
        /// The rows of `source[prefix]`.
        case tensor(TensorSource, prefix: [Int])
    }

    private var containers: [Int: Container] = [:]
    private var next = 1

    mutating func add(_ container: Container) -> Int {
        defer { next += 1 }
        containers[next] = container
        return next
    }

    subscript(reference: Int) -> Container? { containers[reference] }
}

/// A value listed in a scope.
struct NamedValue {
    enum Value {
        case tensor(TensorSource)
        case number(Double)
        case text(String)
        case tokens(String)
    }
    let name: String
    let value: Value
}

/// The frames' ids: fixed per stop, since references never outlive one.
private enum FrameID {
    static let hook = 1, layer = 2, token = 3
}

/// Which scope a hook's activation is listed in.
private enum ScopeKind: String, CaseIterable {
    case residual = "Residual stream", attention = "Attention", mlp = "MLP", logits = "Logits"

    init(_ hook: HookPoint) {
        switch hook {
        case .embed, .posEmbed: self = .residual
        case .lnFinalScale, .lnFinalNormalized, .logits: self = .logits
        case .block(_, let blockHook):
            switch blockHook {
            case .residPre, .residMid, .residPost: self = .residual
            case .ln1Scale, .ln1Normalized, .q, .k, .v, .rotQ, .rotK, .attnScores, .pattern, .z, .attnOut: self = .attention
            case .ln2Scale, .ln2Normalized, .mlpPre, .mlpPreLinear, .mlpPost, .mlpOut: self = .mlp
            }
        }
    }
}

extension DebugSession {
    public func stackTrace() throws -> [StackFrame] {
        try lock.withLock {
            let (_, stop) = try stoppedRun()
            let shown = stop.shown
            var frames = [StackFrame(id: FrameID.hook, name: shown.hook.name, kind: .hook, hook: shown.hook,
                                     layer: shown.layer, tokenStep: shown.tokenStep)]
            if let layer = shown.layer {
                frames.append(StackFrame(id: FrameID.layer, name: "blocks.\(layer)", kind: .layer, hook: nil,
                                         layer: layer, tokenStep: shown.tokenStep))
            }
            frames.append(StackFrame(id: FrameID.token, name: shown.tokenStep == 0 ? "prompt" : "token \(shown.tokenStep)",
                                     kind: .token, hook: nil, layer: nil, tokenStep: shown.tokenStep))
            return frames
        }
    }

    /// The hook frame has Current, Residual stream, Attention, MLP and Logits; the layer frame the middle three
    /// for its layer; the token frame the residual stream of every layer and the logits. Each lists what was
    /// recorded in this token step up to the stop; a scope with nothing to list is left out.
    public func scopes(frameID: Int) throws -> [Scope] {
        try lock.withLock {
            let (run, stop) = try stoppedRun()
            let layer = stop.shown.layer
            let kinds: [ScopeKind]
            let layerFilter: Int?
            switch frameID {
            case FrameID.hook: kinds = ScopeKind.allCases; layerFilter = layer
            case FrameID.layer where layer != nil: kinds = [.residual, .attention, .mlp]; layerFilter = layer
            case FrameID.token: kinds = [.residual, .logits]; layerFilter = nil
            default: throw DebugError.invalidArgument(field: "frameId", message: "no frame \(frameID) at this stop")
            }
            var scopes: [Scope] = []
            if frameID == FrameID.hook {
                scopes.append(Scope(name: "Current", variablesReference: run.stop!.references.add(.values(currentValues(run)))))
            }
            for kind in kinds {
                var values = visibleActivations(run).filter { ScopeKind($0.name) == kind }
                    .filter { hook, _ in layerFilter == nil || hook.layer == nil || hook.layer == layerFilter }
                    .map { NamedValue(name: $0.name, value: .tensor($1)) }
                if kind == .logits, let lens = lensValue(run) { values.append(lens) }
                guard !values.isEmpty else { continue }
                scopes.append(Scope(name: kind.rawValue, variablesReference: run.stop!.references.add(.values(values))))
            }
            if frameID == FrameID.hook { scopes += saeScopes(run: run, stop: run.stop!) }
            return scopes
        }
    }

    /// A page of a reference's variables (`start`, then at most `count`), and how many there are in all.
    public func variables(reference: Int, start: Int = 0, count: Int? = nil) throws -> (variables: [Variable], total: Int) {
        try lock.withLock {
            let (run, stop) = try stoppedRun()
            guard let container = stop.references[reference] else {
                throw DebugError.invalidArgument(field: "variablesReference",
                    message: "\(reference) is not a reference at this stop (references last only until the run moves)")
            }
            guard start >= 0, (count ?? 0) >= 0 else {
                throw DebugError.invalidArgument(field: start < 0 ? "start" : "count", message: "must not be negative")
            }
            switch container {
            case .values(let values):
                let page = values.dropFirst(start).prefix(count ?? values.count)
                return (page.map { variable($0, in: run) }, values.count)
            case .tensor(let source, let prefix):
                let tensor = try TensorSlice(prefix.map { .index($0) }).apply(to: try self.tensor(source, in: run))
                let rows = tensor.shape.first ?? 0
                let page = min(start, rows)..<min(rows, start + (count ?? rows))
                let variables = page.map { row -> Variable in
                    let path = prefix + [row]
                    let name = "[" + path.map(String.init).joined(separator: ", ") + "]"
                    if tensor.shape.count == 1 {
                        return Variable(name: name, value: TensorSummary.format(tensor.data[row]), type: "number",
                                        shape: nil, summary: nil, variablesReference: 0)
                    }
                    let child = (try? TensorSlice([.index(row)]).apply(to: tensor)) ?? tensor
                    let summary = TensorSummary(child)
                    return Variable(name: name, value: summary.line, type: "tensor", shape: child.shape, summary: summary,
                                    variablesReference: run.stop!.references.add(.tensor(source, prefix: path)))
                }
                return (variables, rows)
            }
        }
    }

    /// A hook's activation as this stop sees it: the stop's own, or the latest recorded at or before it;
    /// optionally sliced. Without a hook, the stop's own activation.
    public func readTensor(hook name: String? = nil, slice: TensorSlice? = nil) throws -> Tensor {
        try lock.withLock {
            let (run, stop) = try stoppedRun()
            var source = TensorSource.live
            if let name {
                guard let hook = HookPoint(name: name), hookIndices[hook] != nil else {
                    throw DebugError.unknownHook(name, field: "hook")
                }
                source = try self.source(of: hook, in: run, stop: stop)
            } else if let cursor = stop.cursor {
                source = .recorded(serial: cursor)
            }
            let tensor = try self.tensor(source, in: run)
            return try slice?.apply(to: tensor) ?? tensor
        }
    }

    /// Writes into the live activation at the stop, in place: the rest of the pass computes with it.
    /// `value` holds one element per selected element, or one element for all of them.
    public func write(_ value: Tensor, slice: TensorSlice? = nil) throws {
        try lock.withLock {
            let (run, stop) = try stoppedRun()
            guard stop.cursor == nil else {
                throw DebugError.invalidArgument(field: "hook", message: "this stop is in the past (recorded); "
                    + "step forward to the live stop at \(stop.live.hook.name) to write")
            }
            let indices = try (slice ?? TensorSlice([])).select(in: stop.view.shape).indices
            guard value.count == indices.count || value.count == 1 else {
                throw DebugError.invalidArgument(field: "value",
                    message: "has \(value.count) elements; the selection has \(indices.count)")
            }
            for (offset, index) in indices.enumerated() { stop.view.data[index] = value.data[value.count == 1 ? 0 : offset] }
            if let serial = stop.liveSerial { run.record.update(serial: serial, from: stop.view) }
            run.stop!.references = VariableReferences()
        }
    }

    // MARK: Helpers (call with the lock held)

    func source(of hook: HookPoint, in run: Run, stop: Stop) throws -> TensorSource {
        if hook == stop.shown.hook { return stop.cursor.map { .recorded(serial: $0) } ?? .live }
        let limit = stop.cursor ?? .max
        guard let entry = run.record.latest(hook, atOrBefore: limit) else {
            if run.record.lost(hookIndices[hook]!, atOrBefore: limit) {
                throw DebugError.budgetExceeded("\(hook.name) is no longer in the record: \(run.record.lossDescription)")
            }
            throw DebugError.notRecorded("\(hook.name) has not been recorded in this run before this stop; "
                + "set a breakpoint there, step through it, or add it to the record patterns")
        }
        return .recorded(serial: entry.serial)
    }

    func tensor(_ source: TensorSource, in run: Run) throws -> Tensor {
        switch source {
        case .live:
            guard let stop = run.stop else { throw DebugError.notStopped }
            return stop.view.copy()
        case .recorded(let serial):
            guard let entry = run.record.entry(serial: serial) else {
                throw DebugError.budgetExceeded("that activation was evicted: \(run.record.lossDescription)")
            }
            return entry.tensor
        case .value(let tensor):
            return tensor
        }
    }

    /// The activations visible at the shown stop in its token step, the latest per hook, in execution order.
    private func visibleActivations(_ run: Run) -> [(name: HookPoint, source: TensorSource)] {
        let stop = run.stop!
        let limit = stop.cursor ?? .max
        var latest: [Int: RecordedActivation] = [:]
        for entry in run.record.entries where entry.serial <= limit && entry.tokenStep == stop.shown.tokenStep {
            latest[entry.hookIndex] = entry
        }
        return latest.keys.sorted().map { index in
            let hook = hookPoints[index]
            if hook == stop.shown.hook { return (hook, stop.cursor.map { .recorded(serial: $0) } ?? .live) }
            return (hook, .recorded(serial: latest[index]!.serial))
        }
    }

    private func currentValues(_ run: Run) -> [NamedValue] {
        let shown = run.stop!.shown
        let source: TensorSource = run.stop!.cursor.map { .recorded(serial: $0) } ?? .live
        let tokens = run.allTokens
        let pieces = shown.positions.filter { $0 < tokens.count }.map { model.piece(tokens[$0]) }
        var values = [NamedValue(name: "x", value: .tensor(source)),
                      NamedValue(name: "hook", value: .text(shown.hook.name))]
        if let layer = shown.layer { values.append(NamedValue(name: "layer", value: .number(Double(layer)))) }
        values += [NamedValue(name: "tokenStep", value: .number(Double(shown.tokenStep))),
                   NamedValue(name: "positions", value: .text("\(shown.positions.lowerBound)..<\(shown.positions.upperBound)")),
                   NamedValue(name: "tokens", value: .text(pieces.map(quotedPiece).joined(separator: " ")))]
        return values
    }

    /// The logit lens of the shown activation's last position, when it is a residual-stream vector.
    private func lensValue(_ run: Run) -> NamedValue? {
        let source: TensorSource = run.stop!.cursor.map { .recorded(serial: $0) } ?? .live
        guard let tensor = try? self.tensor(source, in: run), tensor.shape.count == 2,
              tensor.shape[1] == residualWidth, let rows = tensor.shape.first, rows > 0 else { return nil }
        let last = Array(tensor.data[(rows - 1) * residualWidth ..< rows * residualWidth])
        let top = lensTop(last, k: 10)
        let text = top.map { "\(quotedPiece($0.piece)) \(String(format: "%.3f", $0.probability))" }.joined(separator: ", ")
        return NamedValue(name: "lens(x[-1])", value: .tokens(text))
    }

    /// The `k` most likely tokens of the logit lens of one residual vector, with their probabilities.
    func lensTop(_ residual: [Float], k: Int) -> [(token: Int, piece: String, probability: Double)] {
        model.logitLens(residual).withUnsafeBufferPointer { LanguageModel.topTokens($0, k: k) }
            .map { (Int($0.token), model.piece($0.token), Double($0.probability)) }
    }

    private func variable(_ named: NamedValue, in run: Run) -> Variable {
        switch named.value {
        case .number(let number):
            return Variable(name: named.name, value: TensorSummary.format(Float(number)), type: "number",
                            shape: nil, summary: nil, variablesReference: 0)
        case .text(let text):
            return Variable(name: named.name, value: text, type: "string", shape: nil, summary: nil, variablesReference: 0)
        case .tokens(let text):
            return Variable(name: named.name, value: text, type: "tokens", shape: nil, summary: nil, variablesReference: 0)
        case .tensor(let source):
            guard let tensor = try? tensor(source, in: run) else {
                return Variable(name: named.name, value: "(evicted from the record)", type: "tensor",
                                shape: nil, summary: nil, variablesReference: 0)
            }
            let summary = TensorSummary(tensor)
            let reference = tensor.shape.isEmpty ? 0 : run.stop!.references.add(.tensor(source, prefix: []))
            return Variable(name: named.name, value: summary.line, type: "tensor", shape: tensor.shape,
                            summary: summary, variablesReference: reference)
        }
    }
}

/// A token's text in quotes, with control characters escaped.
func quotedPiece(_ piece: String) -> String {
    "'" + piece.unicodeScalars.map { scalar in
        switch scalar {
        case "\n": "\\n"
        case "\t": "\\t"
        case "'": "\\'"
        default: scalar.value < 0x20 ? "\\x" + String(scalar.value, radix: 16) : String(scalar)
        }
    }.joined() + "'"
}
