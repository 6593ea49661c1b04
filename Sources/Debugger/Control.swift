import Foundation
import Tensors
import Transformer

/// How a stopped run goes on.
public enum ResumeAction: Equatable, Sendable {
    case `continue`
    case next(StepGranularity)
    /// The next hook point.
    case stepIn
    /// To the end of the current layer (its `hook_resid_post`); from there or outside the layers, to the
    /// end of the token step.
    case stepOut
}

extension DebugSession {
    /// Resumes a stopped run. From a stop in the past it first replays forward through the record: it stops at the
    /// first recorded activation that ends the step (or, for continue, that a breakpoint's hook and condition
    /// match) and otherwise goes on to the live stop, and from there the engine runs on.
    public func resume(_ action: ResumeAction) throws {
        let replayed: StopEvent? = try lock.withLock {
            let (run, stop) = try stoppedRun()
            let origin = stop.shownPoint
            let target: StepTarget? = switch action {
            case .continue: nil
            case .next(let granularity): StepTarget(next: granularity, from: origin, hook: stop.shown.hook)
            case .stepIn: StepTarget(next: .hook, from: origin, hook: stop.shown.hook)
            case .stepOut: StepTarget(outFrom: origin, hook: stop.shown.hook, hookPoints: hookPoints)
            }
            if let cursor = stop.cursor {
                let ahead = run.record.entries.filter { $0.serial > cursor && $0.serial < (stop.liveSerial ?? .max) }
                for entry in ahead {
                    let point = RunPoint(tokenStep: entry.tokenStep, hookIndex: entry.hookIndex)
                    if let target {
                        if target.isReached(at: point, hook: entry.hook) { return show(entry, reason: .step, in: run) }
                    } else {
                        let ids = replayedBreakpoints(at: StopEnvironment(session: self, run: run, recorded: entry))
                        if !ids.isEmpty { return show(entry, reason: .breakpoint, ids: ids, in: run) }
                    }
                }
                let live = stop.live
                let liveEnvironment = StopEnvironment(session: self, run: run, view: stop.view, point: stop.point)
                if let target, target.isReached(at: stop.point, hook: live.hook) {
                    return showLive(reason: .step, ids: [], in: run)
                }
                if target == nil, case let ids = replayedBreakpoints(at: liveEnvironment), !ids.isEmpty {
                    return showLive(reason: .breakpoint, ids: ids, in: run)
                }
            }
            run.command = .resume(target)
            // Running from now on, not once the engine thread wakes: a request right after this one must not
            // see the old stop.
            run.stop = nil
            lock.broadcast()
            return nil
        }
        if let replayed { notify(.stopped(replayed)) }
    }

    /// Moves the stop back to the previous recorded activation. The engine stays suspended at the live stop;
    /// inspection reads the record until a step or continue replays forward to the live stop.
    public func stepBack() throws {
        let event = try lock.withLock {
            let (run, stop) = try stoppedRun()
            let before = stop.cursor ?? stop.liveSerial ?? .max
            guard let previous = run.record.entries.last(where: { $0.serial < before }) else {
                if run.record.evicted > 0 || run.record.refused > 0 {
                    throw DebugError.budgetExceeded("cannot step back further: \(run.record.lossDescription)")
                }
                throw DebugError.startOfRecord
            }
            return show(previous, reason: .step, in: run)
        }
        notify(.stopped(event))
    }

    /// Stops the running run at the next hook point it reaches. Does nothing if it is stopped already.
    public func pause() throws {
        try lock.withLock {
            guard let run, !run.finished else { throw DebugError.noSession }
            if run.stop == nil { run.pausePending = true }
        }
    }

    /// The run and its stop, or the error that says which is missing. Call with the lock held.
    func stoppedRun() throws -> (Run, Stop) {
        guard let run, !run.finished, !run.terminating else { throw DebugError.noSession }
        guard let stop = run.stop else { throw DebugError.notStopped }
        return (run, stop)
    }

    /// Shows a recorded activation as the stop (in the past). Call with the lock held.
    private func show(_ entry: RecordedActivation, reason: StopReason, ids: [Int] = [], in run: Run) -> StopEvent {
        let event = StopEvent(runID: run.id, reason: reason, hook: entry.hook, positions: entry.positions,
                              tokenStep: entry.tokenStep, breakpointIDs: ids, exception: nil, description: "recorded activation (the engine is suspended at "
                                + "\(run.stop!.live.hook.name), token step \(run.stop!.live.tokenStep))",
                              isInPast: true)
        run.stop!.cursor = entry.serial
        run.stop!.shown = event
        run.stop!.shownPoint = RunPoint(tokenStep: entry.tokenStep, hookIndex: entry.hookIndex)
        run.stop!.references = VariableReferences()
        return event
    }

    /// Shows the live stop again, after a replay reached it. Call with the lock held.
    private func showLive(reason: StopReason, ids: [Int], in run: Run) -> StopEvent {
        let live = run.stop!.live
        let event = StopEvent(runID: run.id, reason: reason, hook: live.hook, positions: live.positions,
                              tokenStep: live.tokenStep, breakpointIDs: ids, exception: nil, description: nil,
                              isInPast: false)
        run.stop!.cursor = nil
        run.stop!.shown = event
        run.stop!.shownPoint = run.stop!.point
        run.stop!.references = VariableReferences()
        return event
    }

    /// The stopping breakpoints whose hook and condition match a replayed activation (hit counts are not replayed).
    private func replayedBreakpoints(at environment: StopEnvironment) -> [Int] {
        breakpointsAtHook[environment.point.hookIndex].compactMap { index in
            let breakpoint = breakpoints[index]
            guard breakpoint.stops, case .hit = breakpoint.check(in: environment) else { return nil }
            return breakpoint.status.id
        }
    }
}
