import Debugger
import Dispatch
import Foundation
import JSONRPC
import ModelFiles
import Transformer

/// Where models come from and how much a run may record.
public struct DAPOptions: Sendable {
    /// Resolves `launch`'s `model`: a shipped model's short name, a file in the model directory, or a path.
    public var catalog: ModelCatalog
    /// Bytes of activations a run may record for step back and inspection; also the most `readMemory`
    /// and `lmdbg.data` evaluations send at once.
    public var memoryBudget: Int

    public init(catalog: ModelCatalog = ModelCatalog(), memoryBudget: Int = 256 << 20) {
        self.catalog = catalog
        self.memoryBudget = memoryBudget
    }
}

/// The Debug Adapter Protocol in front of a `DebugSession`.
///
/// Requests are served one at a time, in order, on a worker queue. Events the debugger produces while a request
/// is served are sent after its response, so a client hears `continue`'s response before the stop it caused.
///
/// The sequence: `initialize`; `launch` loads the model and answers, then the adapter sends `initialized`;
/// the client sets breakpoints and sends `configurationDone`, which starts the run. Breakpoints set before the
/// model is loaded are answered `pending` and resolved (with `breakpoint` events) when it is.
final class DAPAdapter: @unchecked Sendable {
    /// The one thread: the forward pass.
    static let threadID = 1
    /// What a run records unless `launch` says otherwise: enough for the attention and logit lens views.
    static let defaultRecord = ["blocks.*.attn.hook_pattern", "blocks.*.hook_resid_post"]

    let options: DAPOptions
    private let send: @Sendable (DAPOutgoing) -> Void
    private let worker = DispatchQueue(label: "lmdbg dap requests")
    private let lock = NSLock()
    /// Events held back while a request is served; nil between requests.
    private var held: [DAPOutgoing]?
    /// What the variable references of the current stop stand for; emptied whenever the debugger renews them.
    private var containers: [Int: Container] = [:]
    /// Debugger breakpoint id → the DAP id the client knows it by.
    private var breakpointIDs: [Int: Int] = [:]
    private let exit = ExitLatch()

    // Worker state: touched only by request handlers.
    private var client: InitializeArguments?
    private(set) var launchArguments: LaunchArguments?
    private var modelURL: URL?
    private(set) var session: DebugSession?
    private var configurationDone = false
    private var runStarted = false
    private var functionBreakpoints: [(id: Int, spec: FunctionBreakpoint)] = []
    private var nextBreakpointID = 1
    private var exceptionFilters = ExceptionFilters()

    init(options: DAPOptions, send: @escaping @Sendable (DAPOutgoing) -> Void) {
        self.options = options
        self.send = send
    }

    // MARK: Transport side

    /// Takes one message body from the client.
    func receive(_ body: JSONValue) {
        do {
            let request = try DAPRequest(body)
            worker.async { [self] in serve(request) }
        } catch {
            post(.event("output", body: encoded(OutputBody(category: "console",
                                                           output: "lmdbg: ignored a message: \(error)\n"))), holding: false)
        }
    }

    /// The input ended (or broke): end the run and exit, with 1 unless the client disconnected first.
    func inputEnded() { finish(code: 1) }

    /// Blocks until `disconnect` or the end of the input; returns the exit code.
    func waitForExit() -> Int32 { exit.wait() }

    private func finish(code: Int32) {
        exit.finish(code: code, on: worker) { [self] in session?.terminate() }
    }

    // MARK: Requests

    private func serve(_ request: DAPRequest) {
        lock.withLock { held = [] }
        let outcome: DAPOutgoing
        do {
            outcome = .response(requestSeq: request.seq, command: request.command, body: try handle(request))
        } catch let error as DAPError {
            outcome = .errorResponse(requestSeq: request.seq, command: request.command, error: error)
        } catch let error as DebugError {
            outcome = .errorResponse(requestSeq: request.seq, command: request.command, error: DAPError(error))
        } catch {
            outcome = .errorResponse(requestSeq: request.seq, command: request.command,
                                     error: DAPError(.internalError, "\(request.command) failed: \(error)"))
        }
        lock.withLock {
            send(outcome)
            for event in held ?? [] { send(event) }
            held = nil
        }
        if request.command == "disconnect", case .response = outcome { finish(code: 0) }
    }

    /// Serves one request and returns its response body.
    private func handle(_ request: DAPRequest) throws -> JSONValue? {
        if request.command == "initialize" {
            guard client == nil else { throw DAPError(.invalidRequest, "initialize was already received") }
            client = try arguments(InitializeArguments.self, of: request)
            return encoded(Capabilities())
        }
        guard client != nil else { throw DAPError(.invalidRequest, "send initialize first") }
        switch request.command {
        case "launch": return try launch(arguments(LaunchArguments.self, of: request))
        case "configurationDone": return try configure()
        case "setFunctionBreakpoints": return try setFunctionBreakpoints(arguments(SetFunctionBreakpointsArguments.self, of: request))
        case "setBreakpoints": return try setSourceBreakpoints(arguments(SetBreakpointsArguments.self, of: request))
        case "setExceptionBreakpoints": return try setExceptionBreakpoints(arguments(SetExceptionBreakpointsArguments.self, of: request))
        case "threads": return ["threads": [["id": .integer(Int64(Self.threadID)), "name": "forward pass"]]]
        case "continue":
            try liveSession().resume(.continue)
            return ["allThreadsContinued": true]
        case "next": try liveSession().resume(.next(granularity(arguments(StepArguments.self, of: request)))); return nil
        case "stepIn": try liveSession().resume(.stepIn); return nil
        case "stepOut": try liveSession().resume(.stepOut); return nil
        case "stepBack": try liveSession().stepBack(); return nil
        case "reverseContinue": try reverseContinue(); return nil
        case "pause": try liveSession().pause(); return nil
        case "restart": return try restart(arguments(RestartArguments.self, of: request))
        case "terminate": return try terminate()
        case "disconnect": session?.terminate(); return nil
        case "stackTrace": return try stackTrace(arguments(StackTraceArguments.self, of: request))
        case "scopes": return try scopes(arguments(ScopesArguments.self, of: request))
        case "variables": return try variables(arguments(VariablesArguments.self, of: request))
        case "evaluate": return try evaluate(arguments(EvaluateArguments.self, of: request))
        case "setVariable": return try setVariable(arguments(SetVariableArguments.self, of: request))
        case "setExpression": return try setExpression(arguments(SetExpressionArguments.self, of: request))
        case "readMemory": return try readMemory(arguments(ReadMemoryArguments.self, of: request))
        case "exceptionInfo": return try exceptionInfo()
        default: throw DAPError(.invalidRequest, "lmdbg does not support the request '\(request.command)'")
        }
    }

    private func arguments<T: Decodable>(_ type: T.Type, of request: DAPRequest) throws -> T {
        do {
            return try JSONValueDecoder().decode(T.self, from: request.arguments ?? .object([:]))
        } catch {
            throw DAPError(.invalidParams, "\(request.command): \(error)")
        }
    }

    // MARK: Launching

    private func launch(_ arguments: LaunchArguments) throws -> JSONValue? {
        guard launchArguments == nil else { throw DAPError(.invalidRequest, "already launched: use restart") }
        try load(arguments)
        post(.event("initialized", body: nil))
        if configurationDone { try startRun() }
        return nil
    }

    private func configure() throws -> JSONValue? {
        configurationDone = true
        if launchArguments != nil, !runStarted { try startRun() }
        return nil
    }

    /// Loads the model `arguments` names (unless it is loaded already), makes its session and arms the
    /// breakpoints, exception filters and record patterns in it.
    private func load(_ arguments: LaunchArguments) throws {
        let url: URL
        do {
            url = try options.catalog.resolve(arguments.model ?? "smollm2")
        } catch {
            throw DAPError(.modelLoadFailed, "\(error)")
        }
        if url != modelURL || session == nil {
            let model = try loadModel(url)
            session?.terminate()
            let session = DebugSession(model: model, memoryBudget: options.memoryBudget) { [weak self] event in
                self?.handle(event)
            }
            session.setExceptionFilters(arguments.noDebug == true ? ExceptionFilters() : exceptionFilters)
            post(.event("output", body: encoded(OutputBody(category: "console", output:
                "lmdbg: loaded \(url.lastPathComponent) (\(model.config.architecture.rawValue), "
                + "\(model.config.layerCount) layers, \(model.hookPoints.count) hook points)\n"))))
            self.session = session
            modelURL = url
            if !functionBreakpoints.isEmpty {
                for breakpoint in armBreakpoints(noDebug: arguments.noDebug == true) {
                    post(.event("breakpoint", body: ["reason": "changed", "breakpoint": encoded(breakpoint)]))
                }
            }
        }
        guard !session!.model.tokenize(arguments.prompt).isEmpty else {
            throw DAPError(.invalidParams, "prompt: has no tokens")
        }
        session!.recordPatterns = (arguments.record ?? Self.defaultRecord).map(HookPattern.init)
        launchArguments = arguments
    }

    private func loadModel(_ url: URL) throws -> LanguageModel {
        let reportsProgress = client?.supportsProgressReporting == true
        let progressID = "lmdbg-load-\(url.lastPathComponent)"
        if reportsProgress {
            post(.event("progressStart", body: ["progressId": .string(progressID), "title": .string("Loading \(url.lastPathComponent)"),
                                                "percentage": 0]), holding: false)
        }
        defer { if reportsProgress { post(.event("progressEnd", body: ["progressId": .string(progressID)]), holding: false) } }
        var reported = 0
        do {
            return try LanguageModel.load(url) { [self] fraction, tensor in
                let percentage = Int(fraction * 100)
                guard reportsProgress, percentage >= reported + 10 else { return }
                reported = percentage
                post(.event("progressUpdate", body: ["progressId": .string(progressID), "percentage": .integer(Int64(percentage)),
                                                     "message": .string(tensor)]), holding: false)
            }
        } catch {
            throw DAPError(.modelLoadFailed, "\(url.lastPathComponent): \(error)")
        }
    }

    private func startRun() throws {
        guard let session, let arguments = launchArguments else { throw DAPError(.invalidSessionState, "nothing launched yet") }
        let sampling = arguments.sampling
        try session.launch(LaunchConfiguration(
            prompt: arguments.prompt, maxNewTokens: arguments.maxNewTokens ?? 0,
            stopOnEntry: arguments.noDebug != true && arguments.stopOnEntry == true,
            sampling: SamplingOptions(temperature: Float(sampling?.temperature ?? 0), topK: sampling?.topK,
                                      topP: sampling?.topP.map(Float.init), seed: sampling?.seed ?? 0)))
        runStarted = true
    }

    private func restart(_ arguments: RestartArguments) throws -> JSONValue? {
        guard let previous = launchArguments else { throw DAPError(.invalidSessionState, "nothing launched yet: send launch") }
        launchArguments = nil
        do {
            try load(arguments.arguments ?? previous)
        } catch {
            launchArguments = previous
            throw error
        }
        if configurationDone { try startRun() }
        return nil
    }

    private func terminate() throws -> JSONValue? {
        guard let session else { throw DAPError(.invalidSessionState, "nothing launched yet") }
        session.terminate()
        post(.event("terminated", body: nil))
        return nil
    }

    // MARK: Breakpoints

    private func setFunctionBreakpoints(_ arguments: SetFunctionBreakpointsArguments) throws -> JSONValue? {
        functionBreakpoints = arguments.breakpoints.map { spec in
            defer { nextBreakpointID += 1 }
            return (nextBreakpointID, spec)
        }
        guard session != nil else {
            return ["breakpoints": encoded(functionBreakpoints.map {
                Breakpoint(id: $0.id, verified: false, message: "pending: resolved when launch has loaded the model",
                           reason: "pending")
            })]
        }
        return ["breakpoints": encoded(armBreakpoints(noDebug: launchArguments?.noDebug == true))]
    }

    /// Hands the function breakpoints to the session (none for a run without debugging) and answers their DAP form.
    private func armBreakpoints(noDebug: Bool) -> [Breakpoint] {
        guard !noDebug else {
            session!.setBreakpoints([])
            return functionBreakpoints.map {
                Breakpoint(id: $0.id, verified: false, message: "not armed: the run is without debugging", reason: "failed")
            }
        }
        let statuses = session!.setBreakpoints(functionBreakpoints.map {
            BreakpointSpec(hook: $0.spec.name, condition: $0.spec.condition, hitCondition: $0.spec.hitCondition,
                           logMessage: $0.spec.logMessage)
        })
        lock.withLock {
            breakpointIDs = Dictionary(uniqueKeysWithValues: zip(statuses.map(\.id), functionBreakpoints.map(\.id)))
        }
        return zip(functionBreakpoints, statuses).map { breakpoint, status in
            Breakpoint(id: breakpoint.id, verified: status.verified,
                       message: status.message ?? "\(status.hookCount) hook point\(status.hookCount == 1 ? "" : "s")",
                       reason: status.verified ? nil : "failed")
        }
    }

    private func setSourceBreakpoints(_ arguments: SetBreakpointsArguments) throws -> JSONValue? {
        let lines = arguments.breakpoints?.map(\.line) ?? arguments.lines ?? []
        return ["breakpoints": encoded(lines.map { _ in
            defer { nextBreakpointID += 1 }
            return Breakpoint(id: nextBreakpointID, verified: false,
                              message: "lmdbg has no source lines: set a function breakpoint on a hook name "
                                + "(e.g. blocks.*.hook_resid_post)", reason: "failed")
        })]
    }

    private func setExceptionBreakpoints(_ arguments: SetExceptionBreakpointsArguments) throws -> JSONValue? {
        let known = Set(ExceptionKind.allCases.map(\.rawValue))
        let filters = Set(arguments.filters + (arguments.filterOptions ?? []).map(\.filterId))
        if let unknown = filters.subtracting(known).sorted().first {
            throw DAPError(.invalidParams, "filters: unknown filter '\(unknown)' (lmdbg has nan, inf and massive)")
        }
        var threshold = ExceptionFilters.defaultMassiveThreshold
        if let condition = arguments.filterOptions?.first(where: { $0.filterId == "massive" })?.condition,
           !condition.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let value = Float(condition.trimmingCharacters(in: .whitespaces)), value > 0, value.isFinite else {
                throw DAPError(.invalidParams, "massive: the condition must be a positive threshold, not '\(condition)'")
            }
            threshold = value
        }
        exceptionFilters = ExceptionFilters(nan: filters.contains("nan"), inf: filters.contains("inf"),
                                            massiveThreshold: filters.contains("massive") ? threshold : nil)
        session?.setExceptionFilters(launchArguments?.noDebug == true ? ExceptionFilters() : exceptionFilters)
        return nil
    }

    // MARK: Stepping

    private func granularity(_ arguments: StepArguments) throws -> StepGranularity {
        switch arguments.granularity ?? "statement" {
        case "statement", "line", "instruction", "hook": .hook
        case "layer": .layer
        case "token": .token
        case let other: throw DAPError(.invalidParams, "granularity: '\(other)' is not statement, line, instruction, hook, layer or token")
        }
    }

    /// Steps back through the record until a stopping function breakpoint's hook (and condition) matches, or the
    /// record's start; only that last stop is reported.
    private func reverseContinue() throws {
        let session = try liveSession()
        try session.stepBack()
        var matched = matchingBreakpoints(session)
        while matched.isEmpty, (try? session.stepBack()) != nil { matched = matchingBreakpoints(session) }
        guard let stop = session.currentStop else { return }
        let body = encoded(StoppedBody(stop, reason: matched.isEmpty ? "step" : "function breakpoint", breakpointIDs: matched))
        lock.withLock {
            held = held?.filter { if case .event("stopped", _) = $0 { false } else { true } }
            held?.append(.event("stopped", body: body))
        }
    }

    /// The stopping function breakpoints whose hook is the shown stop's and whose condition holds there (hit
    /// conditions count live hits only, as in the debugger's own replay).
    private func matchingBreakpoints(_ session: DebugSession) -> [Int] {
        guard let stop = session.currentStop else { return [] }
        return functionBreakpoints.filter { breakpoint in
            guard breakpoint.spec.logMessage == nil, HookPattern(breakpoint.spec.name).matches(stop.hook) else { return false }
            guard let condition = breakpoint.spec.condition else { return true }
            guard case .bool(true)? = try? session.evaluate(condition).value else { return false }
            return true
        }.map(\.id)
    }

    // MARK: Events

    /// Turns a debugger event into DAP events.
    private func handle(_ event: DebugEvent) {
        switch event {
        case .stopped(let stop):
            let ids = lock.withLock { () -> [Int] in
                containers = [:]
                return stop.breakpointIDs.compactMap { breakpointIDs[$0] }
            }
            post(.event("stopped", body: encoded(StoppedBody(stop, reason: StoppedBody.reason(stop.reason), breakpointIDs: ids))))
        case .output(let output):
            let category = output.category == .generated ? "stdout" : "console"
            post(.event("output", body: encoded(OutputBody(category: category,
                                                           output: output.category == .generated ? output.text : output.text + "\n"))))
        case .recording(let notice):
            post(.event("output", body: encoded(OutputBody(category: "console", output: "lmdbg: \(notice.message)\n"))))
        case .terminated(let summary):
            // A run superseded by restart, terminate or disconnect ends as those requests say.
            guard summary.ending != .superseded else { return }
            var line = "lmdbg: the run ended (\(summary.ending.rawValue)) after \(summary.tokens.count) generated token"
                + (summary.tokens.count == 1 ? "" : "s")
            if let message = summary.message { line += ": \(message)" }
            post(.event("output", body: encoded(OutputBody(category: "console", output: line + "\n"))))
            post(.event("exited", body: ["exitCode": summary.ending == .error ? 1 : 0]))
            post(.event("terminated", body: nil))
        }
    }

    /// Sends an event now, or after the current response when `holding` and a request is being served.
    func post(_ event: DAPOutgoing, holding: Bool = true) {
        lock.withLock {
            if holding, held != nil { held!.append(event) } else { send(event) }
        }
    }

    // MARK: Helpers

    /// The session of a launched run.
    func liveSession() throws -> DebugSession {
        guard let session, runStarted else {
            throw DAPError(.invalidSessionState, "no run: launch one (and send configurationDone) first")
        }
        return session
    }

    /// Remembers what a variable reference stands for, until the debugger renews its references.
    func register(_ reference: Int, as container: Container) {
        guard reference > 0 else { return }
        lock.withLock { containers[reference] = container }
    }

    func container(_ reference: Int) -> Container? { lock.withLock { containers[reference] } }

    /// Forgets every reference: the debugger renewed them (after a write).
    func forgetReferences() { lock.withLock { containers = [:] } }

    var clientSupportsInvalidated: Bool { client?.supportsInvalidatedEvent == true }
}

/// What a variable reference handed to the client stands for.
enum Container: Equatable {
    /// A scope: its variables are named (hook names, `x`, `layer` …).
    case scope
    /// A tensor's slices along its first axis; `expression` evaluates to the tensor (`root`), and the children's
    /// names (`[2, 5]`) index it. `live` when the tensor is the activation at the stop, which writes change.
    case tensor(root: String, live: Bool)
}

func encoded<T: Encodable>(_ value: T) -> JSONValue {
    (try? JSONValueEncoder().encode(value)) ?? .null
}

extension DAPError {
    /// The answer for a debugger error.
    init(_ error: DebugError) {
        switch error {
        case .noSession: self.init(.invalidSessionState, "no run: launch one first (the last one may have ended)")
        case .notStopped: self.init(.invalidSessionState, "the run is running, not stopped: pause it first")
        case .invalidArgument(let field, let message): self.init(.invalidParams, "\(field): \(message)")
        case .notRecorded(let message): self.init(.invalidParams, message)
        case .budgetExceeded(let message): self.init(.memoryBudgetExceeded, message)
        case .startOfRecord: self.init(.invalidSessionState, error.description)
        case .expression: self.init(.expressionError, error.description)
        }
    }
}

extension StoppedBody {
    init(_ stop: StopEvent, reason: String, breakpointIDs: [Int]) {
        var place = "\(stop.hook.name), " + (stop.tokenStep == 0 ? "prompt" : "token step \(stop.tokenStep)")
            + ", positions \(stop.positions.lowerBound)..<\(stop.positions.upperBound)"
        if stop.isInPast { place += " (recorded)" }
        self.init(reason: reason, description: stop.description.map { "\(place): \($0)" } ?? place,
                  hitBreakpointIds: breakpointIDs.isEmpty ? nil : breakpointIDs,
                  text: stop.reason == .exception ? stop.description : nil)
    }

    /// DAP's name for a stop reason; lmdbg's breakpoints are function breakpoints.
    static func reason(_ reason: StopReason) -> String {
        switch reason {
        case .entry: "entry"
        case .breakpoint: "function breakpoint"
        case .step: "step"
        case .exception: "exception"
        case .pause: "pause"
        }
    }
}
