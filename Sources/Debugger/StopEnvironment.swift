import Tensors
import Transformer

/// What a condition, a log message or an evaluation sees at one hook of a run: the activation there (`x`),
/// the activations recorded before it (by full hook name, or by short name within the current layer), and
/// `layer`, `tokenStep`, `positions`, `tokens`. Built and used under the session's lock.
struct StopEnvironment: ExpressionEnvironment {
    let session: DebugSession
    let run: Run
    /// The live activation, while the engine is suspended (or observing) at it.
    let view: ActivationView?
    /// A recorded activation, for a stop in the past.
    let recorded: Tensor?
    let hook: HookPoint
    let point: RunPoint
    let positions: Range<Int>
    /// Recorded activations up to this serial number are visible (those at or before this point).
    let visibleSerial: Int

    init(session: DebugSession, run: Run, view: ActivationView, point: RunPoint) {
        self.session = session
        self.run = run
        self.view = view
        recorded = nil
        hook = view.hook
        self.point = point
        positions = view.positions
        visibleSerial = .max
    }

    init(session: DebugSession, run: Run, recorded entry: RecordedActivation) {
        self.session = session
        self.run = run
        view = nil
        recorded = entry.tensor
        hook = entry.hook
        point = RunPoint(tokenStep: entry.tokenStep, hookIndex: entry.hookIndex)
        positions = entry.positions
        visibleSerial = entry.serial
    }

    /// The activation at the hook.
    var activation: Tensor { recorded ?? view!.copy() }

    func lookup(_ name: String) throws -> ExpressionValue? {
        switch name {
        case "x": return .tensor(activation)
        case "layer":
            guard let layer = hook.layer else { throw DebugError.notRecorded("\(hook.name) is outside the layers") }
            return .number(Double(layer))
        case "tokenStep": return .number(Double(point.tokenStep))
        case "positions": return .tensor(Tensor(shape: [positions.count], data: positions.map(Float.init)))
        case "tokens":
            let tokens = run.allTokens
            return .tensor(Tensor(shape: [tokens.count], data: tokens.map(Float.init)))
        default: break
        }
        guard let target = hookPoint(named: name) else { return nil }
        if target == hook { return .tensor(activation) }
        guard let entry = run.record.latest(target, atOrBefore: visibleSerial) else {
            if run.record.lost(session.hookIndices[target]!, atOrBefore: visibleSerial) {
                throw DebugError.budgetExceeded("\(target.name) is no longer in the record: \(run.record.lossDescription)")
            }
            throw DebugError.notRecorded("\(target.name) is not recorded before this stop")
        }
        return .tensor(entry.tensor)
    }

    /// A full hook name, or a short one (`resid_pre`, `attn_out`, `pattern`, `ln1.scale` …) in the current layer.
    private func hookPoint(named name: String) -> HookPoint? {
        if let full = HookPoint(name: name), session.hookIndices[full] != nil { return full }
        guard let layer = hook.layer, let blockHook = Self.shortNames[name] else { return nil }
        return .block(layer, blockHook)
    }

    func lens(_ vector: Tensor, k: Int) throws -> [TokenScore] {
        guard vector.count == session.residualWidth else {
            throw DebugError.invalidArgument(field: "expression",
                message: "lens needs a residual-stream vector of \(session.residualWidth) elements, not \(vector.shape)")
        }
        return session.lensTop(vector.data, k: k).map { TokenScore(token: $0.token, piece: $0.piece, score: $0.probability) }
    }

    func piece(_ token: Int) -> String? {
        (0..<session.model.vocabularySize).contains(token) ? session.model.piece(Int32(token)) : nil
    }

    var variableNames: [String] {
        ["x", "layer", "tokenStep", "positions", "tokens"] + Array(Self.shortNames.keys)
            + session.hookPoints.map(\.name)
    }

    var vocabularySize: Int? { session.model.vocabularySize }

    /// `attn.hook_pattern` → `attn.pattern` and `pattern`; `ln1.hook_scale` → `ln1.scale` (the bare `scale` is
    /// ambiguous and left out).
    static let shortNames: [String: HookPoint.BlockHook] = {
        var names: [String: HookPoint.BlockHook] = [:]
        var lastSegments: [String: [HookPoint.BlockHook]] = [:]
        for blockHook in HookPoint.BlockHook.allCases {
            let short = blockHook.rawValue.replacingOccurrences(of: "hook_", with: "")
            names[short] = blockHook
            lastSegments[String(short.split(separator: ".").last!), default: []].append(blockHook)
        }
        for (segment, hooks) in lastSegments where hooks.count == 1 { names[segment] = hooks[0] }
        return names
    }()
}
