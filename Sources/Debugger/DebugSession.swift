import Foundation
import Tensors
import Transformer

/// A debugger for one loaded model: breakpoints, exception filters and patches that outlive runs, and the
/// current run, whose forward passes execute on a dedicated engine thread.
///
/// A stop is a suspension: the engine thread blocks inside `HookObserver.observe` while requests (inspection,
/// patches, stepping) are served from other threads. Every method is thread-safe; events are delivered on the
/// thread that caused them (the engine thread, or the requesting thread for stops in the past), never under the lock.
public final class DebugSession: @unchecked Sendable {
    public let model: DebugModel
    /// The model's hook points in execution order; a hook's index here is its place in a pass.
    public let hookPoints: [HookPoint]
    let hookIndices: [HookPoint: Int]
    /// The width of the residual stream, for the logit lens.
    let residualWidth: Int

    let lock = NSCondition()
    let notify: @Sendable (DebugEvent) -> Void

    /// Bytes of activations a run may record for step back and inspection; the oldest are evicted beyond it.
    public let memoryBudget: Int

    /// Hooks whose activations every run records (besides those seen at stops and while stepping), so that
    /// inspection and step back can reach them.
    public var recordPatterns: [HookPattern] {
        get { lock.withLock { recordPatternList } }
        set {
            lock.withLock {
                recordPatternList = newValue
                recordHooks = Set(hookPoints.indices.filter { index in newValue.contains { $0.matches(hookPoints[index]) } })
            }
        }
    }
    private var recordPatternList: [HookPattern] = []
    private var recordHooks: Set<Int> = []

    var breakpoints: [ArmedBreakpoint] = []
    /// For each hook index, the breakpoints (indices into `breakpoints`) armed there.
    var breakpointsAtHook: [[Int]]
    private var exceptionFilters = ExceptionFilters()
    private(set) var patches: [ActivePatch] = []
    private var resampleCache: [Int: [HookPoint: (tensor: Tensor, positions: Int)]] = [:]
    /// Attached SAEs (see `Analyses/SessionSAEs.swift`).
    var analyses = AnalysisState()
    private var nextBreakpointID = 1
    private var nextPatchID = 1
    private var nextRunID = 1
    private var lastLaunch: LaunchConfiguration?
    var run: Run?

    public init(model: DebugModel, memoryBudget: Int = 256 << 20, onEvent: @escaping @Sendable (DebugEvent) -> Void) {
        self.model = model
        hookPoints = model.hookPoints
        hookIndices = Dictionary(uniqueKeysWithValues: hookPoints.enumerated().map { ($1, $0) })
        residualWidth = model.hookShape(.embed, positions: 1, keyPositions: 1).last ?? 0
        breakpointsAtHook = Array(repeating: [], count: hookPoints.count)
        self.memoryBudget = memoryBudget
        notify = onEvent
    }

    // MARK: Runs

    /// Starts a run; a run already under way is ended first (it reports `terminated`).
    @discardableResult
    public func launch(_ configuration: LaunchConfiguration) throws -> LaunchInfo {
        guard configuration.maxNewTokens >= 0 else {
            throw DebugError.invalidArgument(field: "maxNewTokens", message: "must not be negative")
        }
        let promptTokens = model.tokenize(configuration.prompt)
        guard !promptTokens.isEmpty else {
            throw DebugError.invalidArgument(field: "prompt", message: "has no tokens")
        }
        terminate()
        let run = lock.withLock { () -> Run in
            let run = Run(id: nextRunID, configuration: configuration, promptTokens: promptTokens, budget: memoryBudget)
            nextRunID += 1
            lastLaunch = configuration
            self.run = run
            return run
        }
        let thread = Thread { [self] in execute(run) }
        thread.name = "lmdbg engine"
        thread.stackSize = 64 << 20
        thread.start()
        return LaunchInfo(runID: run.id, promptTokens: promptTokens)
    }

    /// Launches again with the last launch's configuration.
    @discardableResult
    public func restart() throws -> LaunchInfo {
        guard let configuration = lock.withLock({ lastLaunch }) else { throw DebugError.noSession }
        return try launch(configuration)
    }

    /// Ends the current run, if any, and waits until its engine thread has reported `terminated` and finished.
    public func terminate() {
        lock.lock()
        defer { lock.unlock() }
        guard let run else { return }
        run.terminating = true
        if run.stop != nil { run.command = .terminate }
        lock.broadcast()
        while !run.threadDone { lock.wait() }
    }

    public var state: SessionState {
        lock.withLock {
            guard let run else { return .none }
            if run.finished || run.terminating { return .terminated }
            return run.stop == nil ? .running : .stopped
        }
    }

    /// The stop being shown: the live one or, after step back, one in the past.
    public var currentStop: StopEvent? { lock.withLock { run?.stop?.shown } }

    private func execute(_ run: Run) {
        prepareResampleSources()
        let generation = model.startGeneration(sampling: run.configuration.sampling)
        let observer = EngineObserver(session: self)
        var input = run.promptTokens
        var logits: [Float] = []
        var ending = RunSummary.Ending.maxNewTokens
        var failure: String?
        lock.withLock {
            run.appliers = patches.map { PatchApplier($0, source: resampleCache[$0.id] ?? [:]) }
            run.activePatchIDs = Set(patches.map(\.id))
        }
        while true {
            let proceed = lock.withLock { () -> Bool in
                guard !run.terminating else { ending = .superseded; return false }
                run.exceptionsReported = []
                run.restOfPassFree = isFree(run, after: -1)
                return true
            }
            guard proceed else { break }
            do {
                logits = try generation.forward(input, observer: observer)
            } catch {
                ending = .error
                failure = "the forward pass failed: \(error)"
                break
            }
            reportRecordingLosses(of: run)
            let token = lock.withLock { () -> Int32? in
                if run.terminating { ending = .superseded; return nil }
                guard run.generated.count < run.configuration.maxNewTokens else { return nil }
                return generation.sample(logits)
            }
            guard let token else { break }
            if model.isEndOfGeneration(token) { ending = .endOfSequence }
            let (text, done) = lock.withLock { () -> (String, Bool) in
                run.generated.append(token)
                let text = model.detokenize(run.generated)
                let delta = text.hasPrefix(run.generatedText) ? String(text.dropFirst(run.generatedText.count)) : text
                run.generatedText = text
                run.tokenStep += 1
                return (delta, run.generated.count >= run.configuration.maxNewTokens || model.isEndOfGeneration(token))
            }
            notify(.output(OutputEvent(runID: run.id, category: .generated, text: text, token: token)))
            if done { break }
            input = [token]
        }
        reportRecordingLosses(of: run)
        let summary = lock.withLock { () -> RunSummary in
            run.finished = true
            return RunSummary(runID: run.id, ending: ending, message: failure, promptTokens: run.promptTokens,
                              tokens: run.generated, text: run.generatedText, activePatchIDs: run.activePatchIDs.sorted(),
                              finalLogits: logits)
        }
        notify(.terminated(summary))
        lock.withLock {
            run.threadDone = true
            lock.broadcast()
        }
    }

    /// Runs the source prompts of resample patches that have none cached yet, recording the patched hooks.
    private func prepareResampleSources() {
        let missing = lock.withLock { patches.filter { resampleCache[$0.id] == nil } }
        for patch in missing {
            guard case .resample(let source) = patch.patch.operation else { continue }
            // The source runs unpatched, once; its activations are cached with the patch.
            let recorder = HookRecorder(hooks: Set(patch.hooks))
            let tokens = model.tokenize(source)
            _ = try? model.startGeneration(sampling: SamplingOptions()).forward(tokens, observer: recorder)
            lock.withLock {
                resampleCache[patch.id] = recorder.recorded.mapValues { ($0, tokens.count) }
            }
        }
    }

    /// Whether nothing can stop the run after hook `index` of this pass, so hooks need be observed only for
    /// patches, logpoints and recording.
    func isFree(_ run: Run, after index: Int) -> Bool {
        if run.step != nil || run.pausePending || run.entryPending || exceptionFilters.isArmed { return false }
        return !breakpoints.contains { $0.stops && $0.hooks.contains { $0 > index } }
    }

    func needsHook(_ index: Int, in run: Run) -> Bool {
        !breakpointsAtHook[index].isEmpty || recordHooks.contains(index)
            || run.appliers.contains { $0.hooks.contains(hookPoints[index]) }
    }

    // MARK: The observer (engine thread)

    func wants(_ hook: HookPoint) -> Bool {
        lock.withLock {
            guard let run, !run.terminating, let index = hookIndices[hook] else { return false }
            return run.pausePending || !run.restOfPassFree || needsHook(index, in: run)
        }
    }

    func observe(_ view: ActivationView) {
        lock.lock()
        guard let run, !run.terminating, let index = hookIndices[view.hook] else { lock.unlock(); return }
        guard run.pausePending || !run.restOfPassFree || needsHook(index, in: run) else { lock.unlock(); return }
        let point = RunPoint(tokenStep: run.tokenStep, hookIndex: index)

        for applier in run.appliers where applier.hooks.contains(view.hook) {
            applier.apply(to: view, promptCount: run.promptTokens.count)
        }

        var reason: StopReason?
        var description: String?
        let exception = exceptionFilters.isArmed ? numericalProblem(in: view, run: run) : nil
        if let exception {
            reason = .exception
            description = exception.description
        }
        let environment = StopEnvironment(session: self, run: run, view: view, point: point)
        var logLines: [String] = []
        var stoppingIDs: [Int] = []
        for breakpointIndex in breakpointsAtHook[index] {
            let breakpoint = breakpoints[breakpointIndex]
            switch breakpoint.check(in: environment) {
            case .notHit: continue
            case .failed(let message):
                stoppingIDs.append(breakpoint.status.id)
                description = description ?? "breakpoint \(breakpoint.status.id): \(message)"
                continue
            case .hit: break
            }
            let hits = (run.hits[breakpoint.status.id] ?? 0) + 1
            run.hits[breakpoint.status.id] = hits
            if let hitCondition = breakpoint.hitCondition, !hitCondition.allows(hit: hits) { continue }
            if let message = breakpoint.logMessage {
                logLines.append(message.render(in: environment))
            } else {
                stoppingIDs.append(breakpoint.status.id)
            }
        }
        if reason == nil, !stoppingIDs.isEmpty { reason = .breakpoint }
        if reason == nil, run.entryPending { reason = .entry }
        if reason == nil, let step = run.step, step.isReached(at: point, hook: view.hook) { reason = .step }
        if reason == nil, run.pausePending { reason = .pause }

        var liveSerial: Int?
        if reason != nil || run.step != nil || recordHooks.contains(index) {
            liveSerial = record(view, at: point, in: run)
        }

        guard let reason else {
            lock.unlock()
            emit(logLines: logLines, notice: nil, runID: run.id)
            return
        }
        let event = StopEvent(runID: run.id, reason: reason, hook: view.hook, positions: view.positions,
                              tokenStep: point.tokenStep, breakpointIDs: reason == .breakpoint ? stoppingIDs : [],
                              exception: reason == .exception ? exception?.kind : nil, description: description,
                              isInPast: false)
        run.step = nil
        run.pausePending = false
        run.entryPending = false
        run.stop = Stop(live: event, view: view, point: point, liveSerial: liveSerial)
        let notice = run.takeRecordingNotice()
        lock.unlock()
        emit(logLines: logLines, notice: notice, runID: run.id)
        notify(.stopped(event))

        lock.lock()
        while run.command == nil { lock.wait() }
        let command = run.command
        run.command = nil
        run.stop = nil
        switch command {
        case .resume(let step):
            run.step = step
            run.restOfPassFree = isFree(run, after: index)
        case .terminate, nil:
            run.terminating = true
        }
        lock.unlock()
    }

    private func emit(logLines: [String], notice: RecordingNotice?, runID: Int) {
        for line in logLines { notify(.output(OutputEvent(runID: runID, category: .log, text: line, token: nil))) }
        if let notice { notify(.recording(notice)) }
    }

    /// Copies `view` into the run's record and returns its serial; counts what the budget made the record lose,
    /// for the next notice.
    private func record(_ view: ActivationView, at point: RunPoint, in run: Run) -> Int? {
        switch run.record.append(tokenStep: point.tokenStep, hookIndex: point.hookIndex, view: view) {
        case .recorded(let serial, let evicted):
            run.unreportedEvictions += evicted
            return serial
        case .tooLarge:
            run.unreportedRefusals += 1
            return nil
        }
    }

    /// Tells what the budget evicted or refused since the last notice: one notice per stop and per pass at most.
    private func reportRecordingLosses(of run: Run) {
        if let notice = lock.withLock({ run.takeRecordingNotice() }) { notify(.recording(notice)) }
    }

    /// The first NaN, infinity or massive value in `view` that an armed filter has not reported in this pass
    /// yet (each filter fires at most once per pass: what follows a NaN is NaN too).
    private func numericalProblem(in view: ActivationView, run: Run) -> (kind: ExceptionKind, description: String)? {
        let filters = exceptionFilters
        let threshold = filters.massiveThreshold ?? .infinity
        let armed = Set(ExceptionKind.allCases.filter { kind in
            switch kind {
            case .nan: filters.nan
            case .inf: filters.inf
            case .massive: filters.massiveThreshold != nil
            }
        }).subtracting(run.exceptionsReported)
        guard !armed.isEmpty else { return nil }
        var found: (kind: ExceptionKind, index: Int, value: Float)?
        for (index, value) in view.data.enumerated() {
            let kind: ExceptionKind? = value.isNaN ? .nan : value.isInfinite ? .inf : abs(value) > threshold ? .massive : nil
            if let kind, armed.contains(kind) { found = (kind, index, value); break }
        }
        guard let found else { return nil }
        run.exceptionsReported.insert(found.kind)
        let coordinates = TensorSummary.coordinates(of: found.index, in: view.shape)
        let what = switch found.kind {
        case .nan: "NaN"
        case .inf: "infinity"
        case .massive: "massive activation \(TensorSummary.format(found.value)) (|x| > \(TensorSummary.format(threshold)))"
        }
        return (found.kind, "\(what) at \(view.hook.name)\(coordinates)")
    }

    // MARK: Breakpoints, exceptions, patches

    /// Replaces every breakpoint; the answer says, in order, which ones are armed and why the others are not.
    @discardableResult
    public func setBreakpoints(_ specs: [BreakpointSpec]) -> [BreakpointStatus] {
        lock.withLock {
            breakpoints = specs.map { spec in
                defer { nextBreakpointID += 1 }
                return ArmedBreakpoint(id: nextBreakpointID, spec: spec, hookPoints: hookPoints)
            }
            breakpointsAtHook = Array(repeating: [], count: hookPoints.count)
            for (position, breakpoint) in breakpoints.enumerated() {
                for hook in breakpoint.hooks { breakpointsAtHook[hook].append(position) }
            }
            if let run, !run.finished { run.restOfPassFree = false }
            return breakpoints.map(\.status)
        }
    }

    public func setExceptionFilters(_ filters: ExceptionFilters) {
        lock.withLock {
            exceptionFilters = filters
            if let run, !run.finished { run.restOfPassFree = false }
        }
    }

    /// Adds patches; they apply to every later run until cleared, and to the current run from the next time
    /// their hook is reached (resample patches from the next run, once their source has run). Returns their ids.
    @discardableResult
    public func addPatches(_ newPatches: [Patch]) throws -> [Int] {
        try lock.withLock {
            let resolved = try newPatches.enumerated().map { offset, patch in
                try validate(patch, field: "patches[\(offset)]")
            }
            let added = resolved.map { hooks, patch in
                defer { nextPatchID += 1 }
                return ActivePatch(id: nextPatchID, patch: patch, hooks: hooks)
            }
            patches += added
            if let run, !run.finished {
                run.appliers += added.map { PatchApplier($0, source: [:]) }
                run.activePatchIDs.formUnion(added.map(\.id))
            }
            return added.map(\.id)
        }
    }

    public func listPatches() -> [ActivePatch] { lock.withLock { patches } }

    /// Removes the given patches, or all of them; the current run stops applying them at once.
    public func clearPatches(_ ids: [Int]? = nil) throws {
        try lock.withLock {
            if let ids, let unknown = ids.first(where: { id in !patches.contains { $0.id == id } }) {
                throw DebugError.invalidArgument(field: "ids", message: "no patch with id \(unknown)")
            }
            let removed = Set(ids ?? patches.map(\.id))
            patches.removeAll { removed.contains($0.id) }
            for id in removed { resampleCache[id] = nil }
            run?.appliers.removeAll { removed.contains($0.active.id) }
        }
    }

    private func validate(_ patch: Patch, field: String) throws -> ([HookPoint], Patch) {
        let indices = try resolveHooks(patch.hook, in: hookPoints, field: "\(field).hook").get()
        let hooks = indices.map { hookPoints[$0] }
        if case .explicit(let positions) = patch.positions, let negative = positions.first(where: { $0 < 0 }) {
            throw DebugError.invalidArgument(field: "\(field).positions", message: "position \(negative) is negative")
        }
        if case .scale(let factor) = patch.operation, !factor.isFinite {
            throw DebugError.invalidArgument(field: "\(field).scale", message: "the factor must be finite")
        }
        if case .features(let features) = patch.operation, hooks != [features.hook] {
            throw DebugError.invalidArgument(field: "\(field).hook", message: "SAE \(features.saeID) reads \(features.hook.name) only")
        }
        for hook in hooks {
            let layout = HookLayout(hook)
            let shape = model.hookShape(hook, positions: 1, keyPositions: 1)
            var heads = patch.heads
            if let requested = heads {
                guard let headAxis = layout.headAxis else {
                    throw DebugError.invalidArgument(field: "\(field).heads", message: "\(hook.name) has no head axis")
                }
                if let bad = requested.first(where: { !(0..<shape[headAxis]).contains($0) }) {
                    throw DebugError.invalidArgument(field: "\(field).heads",
                        message: "head \(bad) is out of range for \(hook.name) with \(shape[headAxis]) heads")
                }
            } else { heads = nil }
            guard let operand = patch.operation.operand else { continue }
            if layout.positionAxis == 1 {
                throw DebugError.invalidArgument(field: "\(field).op",
                    message: "\(patch.operation.name) needs a fixed vector length; \(hook.name) grows with the keys")
            }
            let length = layout.vectorLength(heads: heads, shape: shape)
            guard operand.count == length else {
                throw DebugError.invalidArgument(field: "\(field).\(patch.operation.operandField)",
                    message: "has \(operand.count) elements; \(hook.name) needs \(length) per position")
            }
        }
        return (hooks, patch)
    }
}

/// A run's mutable state, guarded by the session's lock.
final class Run {
    enum Command { case resume(StepTarget?), terminate }

    let id: Int
    let configuration: LaunchConfiguration
    let promptTokens: [Int32]
    var generated: [Int32] = []
    var generatedText = ""
    var tokenStep = 0
    var entryPending: Bool
    var pausePending = false
    var step: StepTarget?
    /// Nothing can stop the run for the rest of this pass: hooks are observed only for patches and recording.
    var restOfPassFree = false
    var terminating = false
    /// The run has ended: no more stops; `terminated` is being or has been reported.
    var finished = false
    /// The engine thread has reported `terminated` and returns.
    var threadDone = false
    var hits: [Int: Int] = [:]
    var exceptionsReported: Set<ExceptionKind> = []
    var record: ActivationRecord
    /// Activations the budget evicted or refused since the last `RecordingNotice`.
    var unreportedEvictions = 0
    var unreportedRefusals = 0
    var appliers: [PatchApplier] = []
    var activePatchIDs: Set<Int> = []
    var stop: Stop?
    var command: Command?

    init(id: Int, configuration: LaunchConfiguration, promptTokens: [Int32], budget: Int) {
        self.id = id
        self.configuration = configuration
        self.promptTokens = promptTokens
        entryPending = configuration.stopOnEntry
        record = ActivationRecord(budget: budget)
    }

    var allTokens: [Int32] { promptTokens + generated }

    /// The notice for the losses not reported yet, if any; resets the counts.
    func takeRecordingNotice() -> RecordingNotice? {
        guard unreportedEvictions > 0 || unreportedRefusals > 0 else { return nil }
        defer { unreportedEvictions = 0; unreportedRefusals = 0 }
        return RecordingNotice(runID: id, evicted: unreportedEvictions, refused: unreportedRefusals, budget: record.budget)
    }
}

/// The engine's suspended state at a stop, and what the user looks at (`shown`, which step back moves into the past).
struct Stop {
    let live: StopEvent
    /// The live activation; valid while the engine thread is blocked in `observe`.
    let view: ActivationView
    let point: RunPoint
    let liveSerial: Int?
    /// The recorded activation shown after step back; nil at the live stop.
    var cursor: Int?
    var shown: StopEvent
    var shownPoint: RunPoint
    var references = VariableReferences()

    init(live: StopEvent, view: ActivationView, point: RunPoint, liveSerial: Int?) {
        self.live = live
        self.view = view
        self.point = point
        self.liveSerial = liveSerial
        shown = live
        shownPoint = point
    }
}

/// Hands the engine's observer calls to the session.
private final class EngineObserver: HookObserver {
    unowned let session: DebugSession
    init(session: DebugSession) { self.session = session }
    func wants(_ hook: HookPoint) -> Bool { session.wants(hook) }
    func observe(_ activation: ActivationView) { session.observe(activation) }
}

/// Copies the activations of a fixed set of hooks out of one pass.
final class HookRecorder: HookObserver {
    let hooks: Set<HookPoint>
    private(set) var recorded: [HookPoint: Tensor] = [:]
    init(hooks: Set<HookPoint>) { self.hooks = hooks }
    func wants(_ hook: HookPoint) -> Bool { hooks.contains(hook) }
    func observe(_ activation: ActivationView) { recorded[activation.hook] = activation.copy() }
}
