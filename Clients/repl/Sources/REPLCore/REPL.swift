import Foundation
import JSONRPC
import LMDebugProtocol

/// A command that could not be carried out; `message` is one line for the user.
public struct REPLError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) { self.description = description }
}

/// What the command loop does after a command.
public enum Outcome: Equatable, Sendable {
    case proceed
    case quit
}

/// The REPL's state and its commands: turns each command into protocol requests, waits for runs to stop,
/// and prints notifications as they arrive.
public final class REPL: @unchecked Sendable {
    public let console: Console
    var connection: ServerConnection!

    /// Guards everything below, which the notification thread also touches.
    private let state = NSCondition()
    private var model: ModelInfo?
    private var breakpoints: [Display.BreakpointEntry] = []
    private var nextBreakpointNumber = 1
    /// The server's breakpoint ids (new on every `debug/setBreakpoints`) → the REPL's numbers.
    private var breakpointNumbers: [Int: Int] = [:]
    private var lastLaunch: LaunchRequest?
    private var exceptionFilters: [ExceptionFilter] = []
    private var massiveThreshold: Double?
    /// The current run: stops and ends of other (superseded) runs are shown but do not end a wait.
    private var sessionID: Int?
    /// True between a resume and the stop or end it leads to: Ctrl-C then pauses.
    private var running = false
    /// The serial of the current run's latest `debug/stopped` or `debug/terminated`.
    private var runEventSerial = 0
    /// Why the run of the latest event ended, if it ended with an error.
    private var runFailure: String?
    private var closedReason: String?
    /// The title of the progress being shown, by token.
    private var progressTitles: [String: String] = [:]
    private var progressCount = 0

    public init(console: Console) {
        self.console = console
    }

    /// Talks to the server through `connection` from now on: pass `handleNotification` and `handleClose`
    /// as its callbacks.
    public func attach(_ connection: ServerConnection) {
        self.connection = connection
    }

    /// `initialize`, then `initialized`.
    public func initialize() throws {
        let (result, _) = try connection.request(InitializeRequest(
            clientInfo: ClientInfo(name: "lmdbg-repl", version: lmdbgProtocolVersion), protocolVersion: lmdbgProtocolVersion))
        try connection.notify(InitializedNotification())
        if result.protocolVersion != lmdbgProtocolVersion {
            console.line("warning: the server speaks protocol \(result.protocolVersion), this REPL \(lmdbgProtocolVersion)")
        }
    }

    /// `shutdown`, then `exit`.
    public func shutdown() throws {
        _ = try connection.request(ShutdownRequest())
        try connection.notify(ExitNotification())
    }

    /// The completer for the loaded model's hooks.
    public var completer: Completer {
        state.withLock { Completer(hookNames: model?.hookPoints.map(\.name) ?? []) }
    }

    /// Sets the prompt `run` uses when given none.
    public func setDefaultPrompt(_ prompt: String) {
        state.withLock { lastLaunch = LaunchRequest(prompt: prompt) }
    }

    // MARK: Commands

    /// Reads and runs commands until the input ends, `quit`, or the server is gone; true if any failed.
    /// With `echo` each line is written after the prompt first, so a transcript shows it; without, an empty
    /// line repeats the last `next`, `step`, `continue`, `finish` or `back`.
    public func runCommands(prompt: String, echo: Bool, next: () -> String?) -> Bool {
        var failed = false
        var repeatable: Command?
        while let line = next() {
            if echo { console.line(prompt + line) }
            var lineFailed = false
            do {
                var command = try CommandParser.parse(line)
                if command == nil, !echo, line.allSatisfy(\.isWhitespace) { command = repeatable }
                guard let command else { continue }
                if case .resume = command { repeatable = command } else { repeatable = nil }
                if try execute(command) == .quit { break }
            } catch {
                console.line("error: \(error)")
                lineFailed = true
            }
            failed = failed || lineFailed
            if let reason = state.withLock({ closedReason }) {
                if !lineFailed { console.line("error: the server is gone: \(reason)") }
                return true
            }
        }
        return failed
    }

    public func execute(_ command: Command) throws -> Outcome {
        switch command {
        case .load(let model): try load(model)
        case .run(let prompt, let maxNewTokens, let stopOnEntry): try run(prompt: prompt, maxNewTokens: maxNewTokens, stopOnEntry: stopOnEntry)
        case .restart:
            try waitForRun(after: try connection.request(RestartRequest(), whenAnswered: startedRun).serial)
        case .setBreakpoint(let spec): try addBreakpoint(spec)
        case .delete(let numbers): try deleteBreakpoints(numbers)
        case .info(let topic): try info(topic)
        case .resume(let resumption): try resume(resumption)
        case .print(let expression): try print(expression)
        case .lens(let expression): try lens(expression ?? "x[-1]")
        case .layers(let prompt, let positions, let k): try layers(prompt: prompt, positions: positions, k: k)
        case .attribute(let target, let baseline, let position, let prompt):
            try attribute(target, baseline: baseline, position: position, prompt: prompt)
        case .sweep(let sweep): try self.sweep(sweep)
        case .steer(let steer): try self.steer(steer)
        case .sae(let command): try sae(command)
        case .patch(let patch): try addPatch(patch)
        case .clearPatches(let ids):
            _ = try connection.request(ClearPatchesRequest(ids: ids.isEmpty ? nil : ids))
            console.line(ids.isEmpty ? "all patches cleared" : "cleared patch\(ids.count == 1 ? "" : "es") " + ids.map(String.init).joined(separator: ", "))
        case .backtrace:
            console.lines(Display.frames(try connection.request(StackTraceRequest()).response.frames))
        case .exceptionFilters(let change): try catchExceptions(change)
        case .tokenize(let text): try tokenize(text)
        case .help(let topic): try help(topic)
        case .quit: return .quit
        }
        return .proceed
    }

    private func load(_ model: String) throws {
        let source: LoadModelRequest.Source
        if model.contains("/") || model.hasSuffix(".gguf") {
            let path = model.hasPrefix("~/") ? NSString(string: model).expandingTildeInPath : model
            source = .path(URL(fileURLWithPath: path).standardizedFileURL.path)
        } else {
            source = .name(model)
        }
        let token = state.withLock {
            progressCount += 1
            return "load-\(progressCount)"
        }
        let info: ModelInfo
        do {
            info = try connection.request(LoadModelRequest(source, workDoneToken: .string(token))).response
        } catch {
            console.endTransient(keep: false)
            throw error
        }
        console.endTransient(keep: false)
        let pending = state.withLock {
            self.model = info
            return breakpoints.map(\.spec)
        }
        console.line("loaded \(info.name) (\(info.architecture), \(info.config.nLayers) layers, d_model \(info.config.dModel), \(info.hookPoints.count) hook points)")
        if !pending.isEmpty {
            try syncBreakpoints()
            console.line("breakpoints set again: " + state.withLock { breakpoints.map { "\($0.number)" } }.joined(separator: ", "))
        }
    }

    /// What an analysis without a prompt of its own reads: the server's run if there is one, else the prompt
    /// `run` would start (from `--prompt`).
    func analysedPrompt(_ prompt: String?) -> String? {
        prompt ?? state.withLock { sessionID == nil ? lastLaunch?.prompt : nil }
    }

    private func run(prompt: String?, maxNewTokens: Int?, stopOnEntry: Bool) throws {
        let request: LaunchRequest = try state.withLock {
            guard let prompt = prompt ?? lastLaunch?.prompt else { throw REPLError("no prompt yet: run PROMPT") }
            let launch = LaunchRequest(prompt: prompt, maxNewTokens: maxNewTokens ?? lastLaunch?.maxNewTokens,
                                       stopOnEntry: stopOnEntry ? true : nil)
            lastLaunch = launch
            return launch
        }
        try waitForRun(after: try connection.request(request, whenAnswered: startedRun).serial)
    }

    /// Called as the launch is answered, before the run's notifications are handled.
    private func startedRun(_ result: LaunchResult) {
        state.withLock {
            sessionID = result.sessionId
            running = true
        }
        let count = result.promptTokens.count
        console.line("run \(result.sessionId): \(count) prompt token\(count == 1 ? "" : "s")")
    }

    private func resume(_ resumption: Resumption) throws {
        let serial: Int
        state.withLock { running = true }
        do {
            switch resumption {
            case .continueRun: serial = try connection.request(ContinueRequest()).serial
            case .next(let granularity): serial = try connection.request(NextRequest(granularity: granularity)).serial
            case .stepIn: serial = try connection.request(StepInRequest()).serial
            case .stepOut: serial = try connection.request(StepOutRequest()).serial
            case .stepBack: serial = try connection.request(StepBackRequest()).serial
            }
        } catch {
            state.withLock { running = false }
            throw error
        }
        try waitForRun(after: serial)
    }

    /// Waits for the run's next stop or end, which come after the message numbered `serial`.
    private func waitForRun(after serial: Int) throws {
        let (failure, closed) = state.withLock {
            while runEventSerial <= serial, closedReason == nil { state.wait() }
            running = false
            return (runFailure, closedReason)
        }
        if let closed { throw ClientError.closed(closed) }
        if let failure { throw REPLError("the run failed: \(failure)") }
    }

    private func addBreakpoint(_ spec: SourceBreakpoint) throws {
        let (number, hasModel) = state.withLock {
            let number = nextBreakpointNumber
            nextBreakpointNumber += 1
            breakpoints.append(Display.BreakpointEntry(number: number, spec: spec, status: nil))
            return (number, model != nil)
        }
        guard hasModel else {
            console.line("breakpoint \(number) at \(spec.hook) (pending until a model is loaded)")
            return
        }
        do {
            try syncBreakpoints()
        } catch {
            state.withLock {
                breakpoints.removeAll { $0.number == number }
                if nextBreakpointNumber == number + 1 { nextBreakpointNumber = number }
            }
            throw error
        }
        let status = state.withLock { breakpoints.first { $0.number == number }?.status }
        guard let status, status.verified else {
            state.withLock {
                breakpoints.removeAll { $0.number == number }
                if nextBreakpointNumber == number + 1 { nextBreakpointNumber = number }
            }
            try syncBreakpoints()
            throw REPLError("breakpoint not set: \(status?.message ?? "the server did not verify it")")
        }
        let kind = spec.logMessage == nil ? "breakpoint" : "logpoint"
        console.line("\(kind) \(number) at \(spec.hook) (\(status.hooks) hook\(status.hooks == 1 ? "" : "s"))")
    }

    private func deleteBreakpoints(_ numbers: [Int]) throws {
        try state.withLock {
            if let unknown = numbers.first(where: { number in !breakpoints.contains { $0.number == number } }) {
                throw REPLError("no breakpoint \(unknown)")
            }
            breakpoints.removeAll { numbers.isEmpty || numbers.contains($0.number) }
        }
        if state.withLock({ model != nil }) { try syncBreakpoints() }
        console.line(numbers.isEmpty ? "all breakpoints deleted" : "deleted " + numbers.map(String.init).joined(separator: ", "))
    }

    /// Sends the whole set (the server replaces it) and records the server's ids and statuses.
    private func syncBreakpoints() throws {
        let specs = state.withLock { breakpoints.map(\.spec) }
        let statuses = try connection.request(SetBreakpointsRequest(breakpoints: specs)).response.breakpoints
        guard statuses.count == specs.count else {
            throw ClientError.badResponse("debug/setBreakpoints answered \(statuses.count) breakpoints for \(specs.count)")
        }
        state.withLock {
            breakpointNumbers = [:]
            for (index, status) in statuses.enumerated() {
                breakpoints[index].status = status
                breakpointNumbers[status.id] = breakpoints[index].number
            }
        }
    }

    private func info(_ topic: InfoTopic) throws {
        switch topic {
        case .breakpoints:
            console.lines(Display.breakpoints(state.withLock { breakpoints }))
        case .patches:
            console.lines(Display.patches(try connection.request(ListPatchesRequest()).response.patches))
        case .model:
            console.lines(Display.model(try loadedModel()))
        case .hooks(let pattern):
            let matches = pattern.map(hookGlob) ?? { _ in true }
            let hooks = try loadedModel().hookPoints.filter { matches($0.name) }
            guard !hooks.isEmpty else { throw REPLError("no hook point matches \(pattern ?? "")") }
            console.lines(Display.hooks(hooks))
        case .catchpoints:
            console.line(catchDescription())
        }
    }

    private func loadedModel() throws -> ModelInfo {
        guard let model = state.withLock({ model }) else { throw REPLError("no model loaded: load MODEL") }
        return model
    }

    private func print(_ expression: String) throws {
        let result = try connection.request(EvaluateRequest(expression: expression)).response
        switch result.type {
        case .tensor:
            let shape = result.shape ?? []
            let count = shape.reduce(1, *)
            var values: [Float]?
            if count <= Self.sparklineLimit {
                values = try connection.request(ReadTensorRequest(.expression(expression))).response.values()
            }
            console.lines(Display.tensor(shape: shape, summary: result.summary, values: values))
            if values == nil {
                console.line("  (\(count) elements: print a slice, such as (\(expression))[-1], for a sparkline)")
            }
        case .number:
            if case .number(let number)? = result.value {
                console.line(Display.number(number.value, significant: 7))
            } else {
                console.line(result.result)
            }
        case .tokens:
            console.lines(tokenTable(result, column: "score"))
        case .bool, .string:
            console.line(result.result)
        }
    }

    /// Tensors up to this many elements are read for their sparkline.
    static let sparklineLimit = 1 << 16

    private func lens(_ expression: String) throws {
        let result = try connection.request(EvaluateRequest(expression: "lens(\(expression))")).response
        guard result.type == .tokens else { throw REPLError("lens gave \(result.type.rawValue), not tokens") }
        console.lines(tokenTable(result, column: "prob"))
    }

    /// Token ids from `value`, pieces and scores from the one-line `result`, which lists the first rows.
    private func tokenTable(_ result: EvaluateResult, column: String) -> [String] {
        let listed = Display.parseTokenList(result.result)
        guard case .tokens(let ids)? = result.value else { return [result.result] }
        let rows = ids.enumerated().map { index, token in
            let entry = listed.indices.contains(index) ? listed[index] : nil
            return Display.TokenRow(token: token, piece: entry?.piece, scores: [entry?.score])
        }
        return Display.tokenTable(rows, columns: [column])
    }

    private func addPatch(_ patch: PatchCommand) throws {
        var spec = PatchSpec(hook: patch.hook, positions: patch.positions, heads: patch.heads, op: .zero)
        switch patch.action {
        case .zero: spec.op = .zero
        case .mean: spec.op = .mean
        case .scale(let factor):
            spec.op = .scale
            spec.scale = factor
        case .add(let operand):
            spec.op = .add
            spec.vector = try tensor(operand)
        case .set(let operand):
            spec.op = .set
            spec.value = try tensor(operand)
        case .projectOut(let operand):
            spec.op = .projectOut
            spec.vector = try tensor(operand)
        case .resample(let prompt):
            spec.op = .resample
            spec.source = prompt
        case .ablateFeatures(let features, let sae):
            spec.op = .ablateFeatures
            spec.features = features
            spec.sae = sae
        case .steerFeatures(let features, let scale, let sae):
            spec.op = .steerFeatures
            spec.features = features
            spec.scale = scale
            spec.sae = sae
        }
        let ids = try connection.request(SetPatchesRequest(patches: [spec])).response.ids
        console.line("patch \(ids.map(String.init).joined(separator: ", ")): \(patch.hook) \(Display.operation(spec))"
                     + (patch.positions.map { " at \(Display.positions($0))" } ?? "")
                     + (patch.heads.map { " heads " + $0.map(String.init).joined(separator: ",") } ?? ""))
    }

    private func tensor(_ operand: TensorOperand) throws -> WireTensor {
        switch operand {
        case .literal(let shape, let values): return WireTensor(shape: shape, values: values)
        case .expression(let expression): return try connection.request(ReadTensorRequest(.expression(expression))).response
        }
    }

    private func catchExceptions(_ change: CatchCommand) throws {
        let (filters, threshold): ([ExceptionFilter], Double?) = state.withLock {
            var filters = exceptionFilters, threshold = massiveThreshold
            switch change {
            case .show: break
            case .clear:
                filters = []
                threshold = nil
            case .add(let filter, let newThreshold):
                if !filters.contains(filter) { filters.append(filter) }
                if let newThreshold { threshold = newThreshold }
            }
            return (filters, threshold)
        }
        if change != .show {
            _ = try connection.request(SetExceptionBreakpointsRequest(filters: filters, massiveThreshold: threshold))
            state.withLock {
                exceptionFilters = filters
                massiveThreshold = threshold
            }
        }
        console.line(catchDescription())
    }

    private func catchDescription() -> String {
        state.withLock {
            guard !exceptionFilters.isEmpty else { return "not catching NaN, infinities or massive activations" }
            return "catching " + exceptionFilters.map { filter in
                filter == .massive ? "massive (|x| > \(Display.number(massiveThreshold ?? 1e4)))" : filter.rawValue
            }.joined(separator: ", ")
        }
    }

    private func tokenize(_ text: String) throws {
        let result = try connection.request(TokenizeRequest(text: text)).response
        let rows = zip(result.tokens, result.pieces).enumerated().map { position, pair in
            ["\(position)", "\(pair.0)", Display.quoted(pair.1)]
        }
        console.line("\(result.tokens.count) tokens")
        console.lines(Display.table(header: ["pos", "token", "piece"], rows: rows, rightAligned: [0, 1]))
    }

    private func help(_ topic: String?) throws {
        guard let topic else {
            let width = CommandParser.commands.map(\.name.count).max() ?? 0
            console.lines(CommandParser.commands.map { command in
                let aliases = command.aliases.isEmpty ? "" : " (" + command.aliases.joined(separator: ", ") + ")"
                return command.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + command.summary + aliases
            } + ["Ctrl-C pauses a run; Ctrl-D or quit leaves. help COMMAND for more."])
            return
        }
        let command: CommandInfo
        do {
            command = try CommandParser.command(named: topic)
        } catch {
            throw REPLError(error.message)
        }
        console.lines(["usage: " + command.usage, command.summary.prefix(1).uppercased() + command.summary.dropFirst() + "."]
                      + command.details
                      + (command.aliases.isEmpty ? [] : ["Also: " + command.aliases.joined(separator: ", ")]))
    }

    // MARK: Notifications and interrupts

    /// Prints a notification from the server and notes what it means for the run.
    public func handleNotification(method: String, params: JSONValue?, serial: Int) {
        let decoder = JSONValueDecoder()
        let params = params ?? .object([:])
        do {
            switch method {
            case StoppedNotification.method:
                let event = try decoder.decode(StoppedNotification.self, from: params)
                let numbers = state.withLock { (event.breakpointIds ?? []).compactMap { breakpointNumbers[$0] } }
                console.line(Display.stop(event, breakpoints: numbers))
                runEvent(sessionID: event.sessionId, serial: serial, failure: nil)
            case TerminatedNotification.method:
                let event = try decoder.decode(TerminatedNotification.self, from: params)
                console.line(Display.termination(event))
                runEvent(sessionID: event.sessionId, serial: serial, failure: event.reason == .error ? event.message ?? "error" : nil)
            case OutputNotification.method:
                let event = try decoder.decode(OutputNotification.self, from: params)
                switch event.category {
                case .generated: console.stream(event.text)
                case .log: console.line("log: " + event.text.trimmingCharacters(in: .newlines))
                }
            case ProgressNotification.method:
                let event = try decoder.decode(ProgressNotification.self, from: params)
                showProgress(event)
            default:
                break
            }
        } catch {
            console.line("warning: cannot read \(method) from the server: \(error)")
        }
    }

    /// The server's output ended: wakes anything waiting for a run.
    public func handleClose(reason: String) {
        state.withLock {
            closedReason = reason
            state.broadcast()
        }
    }

    private func runEvent(sessionID event: Int, serial: Int, failure: String?) {
        state.withLock {
            guard event == sessionID else { return }
            runEventSerial = serial
            runFailure = failure
            state.broadcast()
        }
    }

    private func showProgress(_ event: ProgressNotification) {
        let key = "\(event.token)"
        let title: String = state.withLock {
            if case .begin(let begin) = event.value { progressTitles[key] = begin.title }
            return progressTitles[key] ?? "working"
        }
        let line = Display.progress(title: title, event.value)
        if console.isTerminal {
            console.setTransient("\r" + line + "\u{1B}[K")
        } else if case .report = event.value {
            return
        } else {
            console.line(line)
        }
    }

    /// Ctrl-C: pauses a running run, or cancels the requests in flight (a model load). False when there
    /// was nothing to interrupt.
    public func interrupt() -> Bool {
        if state.withLock({ running }) {
            console.line("pausing…")
            do {
                _ = try connection.request(PauseRequest())
            } catch {
                console.line("error: \(error)")
            }
            return true
        }
        return connection.cancelPendingRequests()
    }
}

/// Matches names against a glob where `*` stands for any run of characters (dots included).
func hookGlob(_ pattern: String) -> (String) -> Bool {
    let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
    return { name in
        guard parts.count > 1 else { return name == pattern }
        guard name.hasPrefix(parts[0]), name.dropFirst(parts[0].count).hasSuffix(parts[parts.count - 1]) else { return false }
        var rest = Substring(name.dropFirst(parts[0].count).dropLast(parts[parts.count - 1].count))
        for part in parts.dropFirst().dropLast() {
            guard let range = rest.range(of: part) else { return false }
            rest = rest[range.upperBound...]
        }
        return true
    }
}
