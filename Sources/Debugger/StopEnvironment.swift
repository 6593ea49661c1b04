import Tensors
import Transformer

/// What a condition, a log message or an evaluation sees at one hook of a run: the activation there and the
/// activations recorded before it. Built under the session's lock, used only while it is held.
struct StopEnvironment {
    let session: DebugSession
    let run: Run
    /// The activation at the hook: the live one, or a recorded one for a stop in the past.
    let current: Tensor?
    let view: ActivationView?
    let hook: HookPoint
    let point: RunPoint
    let positions: Range<Int>
    /// The serial number up to which recorded activations are visible (those at or before this point).
    let visibleSerial: Int

    init(session: DebugSession, run: Run, view: ActivationView, point: RunPoint) {
        self.session = session
        self.run = run
        self.view = view
        current = nil
        hook = view.hook
        self.point = point
        positions = view.positions
        visibleSerial = Int.max
    }

    init(session: DebugSession, run: Run, recorded: RecordedActivation) {
        self.session = session
        self.run = run
        view = nil
        current = recorded.tensor
        hook = recorded.hook
        point = RunPoint(tokenStep: recorded.tokenStep, hookIndex: recorded.hookIndex)
        positions = recorded.positions
        visibleSerial = recorded.serial
    }

    /// The activation at the hook.
    var activation: Tensor { current ?? view!.copy() }
}
