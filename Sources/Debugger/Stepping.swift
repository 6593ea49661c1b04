import Transformer

/// A point in a run's time: the pass and the hook within it.
struct RunPoint: Equatable, Comparable {
    let tokenStep: Int
    let hookIndex: Int

    static func < (a: RunPoint, b: RunPoint) -> Bool {
        (a.tokenStep, a.hookIndex) < (b.tokenStep, b.hookIndex)
    }
}

/// Where a step ends: the first hook reached after `origin` that satisfies the rule.
struct StepTarget: Equatable {
    enum Rule: Equatable {
        /// Any hook: `next` by hook and `stepIn`.
        case anyHook
        /// The same block hook in a later layer, or any hook outside the layers; from outside the layers,
        /// the first hook of a layer or any hook outside them.
        case nextLayer(layer: Int?, hook: HookPoint.BlockHook?)
        /// The same hook (by index) in a later token step.
        case nextToken
        /// A given hook index in the same token step (`stepOut`); a later step ends the step at its first hook.
        case hookIndex(Int)
    }

    let origin: RunPoint
    let rule: Rule

    init(origin: RunPoint, rule: Rule) {
        self.origin = origin
        self.rule = rule
    }

    /// The step that `next` with `granularity` starts at `hook`.
    init(next granularity: StepGranularity, from origin: RunPoint, hook: HookPoint) {
        self.origin = origin
        switch granularity {
        case .hook: rule = .anyHook
        case .token: rule = .nextToken
        case .layer:
            if case .block(let layer, let blockHook) = hook { rule = .nextLayer(layer: layer, hook: blockHook) }
            else { rule = .nextLayer(layer: nil, hook: nil) }
        }
    }

    /// `stepOut`: to the end of the current layer (its `hook_resid_post`); from there or from outside the layers,
    /// to the end of the token step (its last hook).
    init(outFrom origin: RunPoint, hook: HookPoint, hookPoints: [HookPoint]) {
        self.origin = origin
        if case .block(let layer, let blockHook) = hook, blockHook != .residPost,
           let end = hookPoints.firstIndex(of: .block(layer, .residPost)) {
            rule = .hookIndex(end)
        } else {
            rule = .hookIndex(origin.hookIndex == hookPoints.count - 1 ? hookPoints.count : hookPoints.count - 1)
        }
    }

    func isReached(at point: RunPoint, hook: HookPoint) -> Bool {
        guard origin < point else { return false }
        switch rule {
        case .anyHook:
            return true
        case .nextToken:
            return point.tokenStep > origin.tokenStep + 1
                || (point.tokenStep > origin.tokenStep && point.hookIndex >= origin.hookIndex)
        case .hookIndex(let index):
            return point.tokenStep > origin.tokenStep || point.hookIndex >= index
        case .nextLayer(let layer, let blockHook):
            if point.tokenStep > origin.tokenStep { return true }
            guard case .block(let pointLayer, let pointHook) = hook else { return true }
            guard let layer, let blockHook else { return pointHook == .residPre || pointLayer > 0 }
            return pointLayer > layer + 1 || (pointLayer == layer + 1 && pointHook.ordinal >= blockHook.ordinal)
        }
    }
}

extension HookPoint.BlockHook {
    /// Its place in the block's execution order.
    var ordinal: Int { Self.allCases.firstIndex(of: self)! }
}
