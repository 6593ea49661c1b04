import Tensors

/// An observer that copies the activations of every hook point its patterns match, as they pass.
/// When a hook is seen again (a later pass), its new rows are appended along the position axis
/// for [pos, …] activations; attention scores and patterns keep the latest pass.
public final class ActivationRecorder: HookObserver {
    public let patterns: [HookPattern]
    /// The recorded activations, and the order they were first seen in.
    public private(set) var activations: [HookPoint: Tensor] = [:]
    public private(set) var order: [HookPoint] = []

    public init(patterns: [HookPattern]) { self.patterns = patterns }

    public func wants(_ hook: HookPoint) -> Bool { patterns.contains { $0.matches(hook) } }

    public func observe(_ activation: ActivationView) {
        let hook = activation.hook
        guard var recorded = activations[hook] else {
            activations[hook] = activation.copy()
            order.append(hook)
            return
        }
        switch hook {
        case .block(_, .attnScores), .block(_, .pattern):
            activations[hook] = activation.copy()
        default:
            recorded.shape[0] += activation.shape[0]
            recorded.data.append(contentsOf: activation.data)
            activations[hook] = recorded
        }
    }
}
