import Debugger
import Foundation
import LMDebugProtocol
import ModelFiles
import Tensors
import Transformer

/// Where models come from and how much a run may record.
public struct ServerOptions: Sendable {
    /// What `model/load {name}` resolves against: a shipped model's name or a file in the models folder.
    public var models: ModelCatalog
    /// Bytes of activations a run may record for step back.
    public var memoryBudget: Int

    public init(models: ModelCatalog = ModelCatalog(), memoryBudget: Int = 256 << 20) {
        self.models = models
        self.memoryBudget = memoryBudget
    }
}

/// What a handler may do besides answering: notice cancellation and report progress.
struct RequestContext {
    let isCancelled: () -> Bool
    let progress: (ProgressToken, WorkDoneProgress) -> Void
}

/// The server's state and one handler per request, each mapping protocol types to Debugger calls.
/// Handlers run one at a time; debugger events arrive from the engine thread through `notify`.
final class DebugServer: @unchecked Sendable {
    let options: ServerOptions
    /// Sends a notification to the client (the transport orders it after the current response).
    let notify: @Sendable (any NotificationType) -> Void

    private(set) var model: LanguageModel?
    private var modelInfo: ModelInfo?
    private(set) var session: DebugSession?
    private var exceptionFilters = ExceptionFilters()
    /// The specs of the patches in force, by id, as the client gave them.
    var patchSpecs: [(id: Int, hooks: Int, spec: PatchSpec)] = []

    init(options: ServerOptions, notify: @escaping @Sendable (any NotificationType) -> Void) {
        self.options = options
        self.notify = notify
    }

    func shutdown() {
        session?.terminate()
    }

    // MARK: Lifecycle and model

    func initialize(_ request: InitializeRequest, _ context: RequestContext) throws -> InitializeResult {
        InitializeResult(serverInfo: ServerInfo(name: "lmdbg", version: "0.1.0"), capabilities: ServerCapabilities(
            stepBack: true, conditionalBreakpoints: true, hitConditionalBreakpoints: true, logPoints: true,
            exceptionBreakpointFilters: [
                ExceptionBreakpointsFilter(filter: .nan, label: "NaN", description: "Stop where an activation holds a NaN"),
                ExceptionBreakpointsFilter(filter: .inf, label: "Infinity", description: "Stop where an activation holds ±inf"),
                ExceptionBreakpointsFilter(filter: .massive, label: "Massive activation",
                                           description: "Stop where |x| exceeds massiveThreshold (default 1e4)"),
            ],
            patchOperations: LMDebugProtocol.PatchOperation.allCases, tensorDtypes: [.float32], workDoneProgress: true))
    }

    func shutdown(_ request: ShutdownRequest, _ context: RequestContext) throws -> ShutdownResult {
        shutdown()
        return ShutdownResult()
    }

    func loadModel(_ request: LoadModelRequest, _ context: RequestContext) throws -> ModelInfo {
        let url: URL
        switch request.source {
        case .name(let name):
            do {
                url = try options.models.resolve(name)
            } catch {
                throw ServerError(.modelLoadFailed, "\(error)")
            }
        case .path(let path):
            url = URL(fileURLWithPath: path).standardizedFileURL
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw ServerError(.modelLoadFailed, "no model file at \(url.path)")
            }
        }
        let report = { (value: WorkDoneProgress) in
            if let token = request.workDoneToken { context.progress(token, value) }
        }
        report(.begin(WorkDoneProgressBegin(title: "Loading \(url.lastPathComponent)", percentage: 0)))
        var lastPercentage = 0
        let loaded: LanguageModel
        do {
            loaded = try LanguageModel.load(url) { fraction, tensor in
                let percentage = Int(fraction * 100)
                guard percentage > lastPercentage else { return }
                lastPercentage = percentage
                report(.report(WorkDoneProgressReport(message: tensor, percentage: percentage)))
            }
        } catch {
            report(.end(WorkDoneProgressEnd(message: "failed")))
            throw ServerError(.modelLoadFailed, "\(url.lastPathComponent): \(error)")
        }
        guard !context.isCancelled() else {
            report(.end(WorkDoneProgressEnd(message: "cancelled")))
            throw ServerError(.requestCancelled, "model/load was cancelled")
        }
        report(.end(WorkDoneProgressEnd(message: "loaded")))
        session?.terminate()
        let notify = self.notify
        let session = DebugSession(model: loaded, memoryBudget: options.memoryBudget) { event in
            switch event {
            case .stopped(let stop): notify(StoppedNotification(stop))
            case .output(let output): notify(OutputNotification(output))
            case .terminated(let summary): notify(TerminatedNotification(summary))
            case .recording(let notice): notify(OutputNotification(sessionId: notice.runID, category: .log, text: notice.message))
            }
        }
        session.setExceptionFilters(exceptionFilters)
        let info = ModelInfo(model: loaded, url: url)
        model = loaded
        modelInfo = info
        self.session = session
        patchSpecs = []
        return info
    }

    func tokenize(_ request: TokenizeRequest, _ context: RequestContext) throws -> TokenizeResult {
        guard let model else { throw ServerError.noModel }
        let tokens = model.tokenizer.encode(request.text, addSpecialTokens: request.addSpecialTokens ?? true)
        return TokenizeResult(tokens: tokens.map(Int.init), pieces: tokens.map(model.tokenizer.piece))
    }

    // MARK: Runs

    func launch(_ request: LaunchRequest, _ context: RequestContext) throws -> LaunchResult {
        let session = try modelSession()
        let info = try debug(session) {
            try session.launch(LaunchConfiguration(prompt: request.prompt, maxNewTokens: request.maxNewTokens ?? 0,
                                                   stopOnEntry: request.stopOnEntry ?? false,
                                                   sampling: SamplingOptions(request.sampling)))
        }
        return LaunchResult(sessionId: info.runID, promptTokens: info.promptTokens.map(Int.init))
    }

    func restart(_ request: RestartRequest, _ context: RequestContext) throws -> LaunchResult {
        let session = try modelSession()
        let info = try debug(session) { try session.restart() }
        return LaunchResult(sessionId: info.runID, promptTokens: info.promptTokens.map(Int.init))
    }

    func setBreakpoints(_ request: SetBreakpointsRequest, _ context: RequestContext) throws -> SetBreakpointsResult {
        let session = try modelSession()
        let statuses = session.setBreakpoints(request.breakpoints.map {
            BreakpointSpec(hook: $0.hook, condition: $0.condition, hitCondition: $0.hitCondition, logMessage: $0.logMessage)
        })
        return SetBreakpointsResult(breakpoints: statuses.map {
            Breakpoint(id: $0.id, verified: $0.verified, message: $0.message, hooks: $0.hookCount)
        })
    }

    func setExceptionBreakpoints(_ request: SetExceptionBreakpointsRequest, _ context: RequestContext) throws -> EmptyResult {
        let filters = Set(request.filters)
        if let threshold = request.massiveThreshold, !(threshold > 0 && threshold.isFinite) {
            throw ServerError(.invalidParams, "massiveThreshold: must be a positive number")
        }
        exceptionFilters = ExceptionFilters(
            nan: filters.contains(.nan), inf: filters.contains(.inf),
            massiveThreshold: filters.contains(.massive)
                ? Float(request.massiveThreshold ?? Double(ExceptionFilters.defaultMassiveThreshold)) : nil)
        session?.setExceptionFilters(exceptionFilters)
        return EmptyResult()
    }

    func resume(_ action: ResumeAction) throws -> EmptyResult {
        let session = try runningSession()
        try debug(session) { try session.resume(action) }
        return EmptyResult()
    }

    func next(_ request: NextRequest, _ context: RequestContext) throws -> EmptyResult {
        let granularity: StepGranularity = switch request.granularity ?? .hook {
        case .hook: .hook
        case .layer: .layer
        case .token: .token
        }
        return try resume(.next(granularity))
    }

    func stepBack(_ request: StepBackRequest, _ context: RequestContext) throws -> EmptyResult {
        let session = try runningSession()
        try debug(session) { try session.stepBack() }
        return EmptyResult()
    }

    func pause(_ request: PauseRequest, _ context: RequestContext) throws -> EmptyResult {
        let session = try runningSession()
        try debug(session) { try session.pause() }
        return EmptyResult()
    }

    // MARK: Inspection

    func stackTrace(_ request: StackTraceRequest, _ context: RequestContext) throws -> StackTraceResult {
        let session = try runningSession()
        return StackTraceResult(frames: try debug(session) { try session.stackTrace() }.map(LMDebugProtocol.StackFrame.init))
    }

    func scopes(_ request: ScopesRequest, _ context: RequestContext) throws -> ScopesResult {
        let session = try runningSession()
        return ScopesResult(scopes: try debug(session) { try session.scopes(frameID: request.frameId) }.map {
            LMDebugProtocol.Scope(name: $0.name, variablesReference: $0.variablesReference)
        })
    }

    func variables(_ request: VariablesRequest, _ context: RequestContext) throws -> VariablesResult {
        let session = try runningSession()
        let page = try debug(session) {
            try session.variables(reference: request.variablesReference, start: request.start ?? 0, count: request.count)
        }
        return VariablesResult(variables: page.variables.map(LMDebugProtocol.Variable.init), total: page.total)
    }

    func evaluate(_ request: EvaluateRequest, _ context: RequestContext) throws -> EvaluateResult {
        let session = try runningSession()
        let evaluation = try debug(session) { try session.evaluate(request.expression, frameID: request.frameId) }
        let type = ValueType(rawValue: evaluation.value.kind.rawValue)!
        let value: EvaluatedValue? = switch evaluation.value {
        case .number(let number): .number(FloatValue(number))
        case .bool(let flag): .bool(flag)
        case .string(let text): .string(text)
        case .tokens(let rows): .tokens(rows.map(\.token))
        case .tensor: nil
        }
        return EvaluateResult(result: evaluation.text, type: type, shape: evaluation.summary?.shape, value: value,
                              summary: evaluation.summary.map(LMDebugProtocol.TensorSummary.init),
                              variablesReference: evaluation.variablesReference)
    }

    func readTensor(_ request: ReadTensorRequest, _ context: RequestContext) throws -> WireTensor {
        let session = try runningSession()
        return try debug(session) {
            let slice = try request.slice.map(TensorSlice.init(parsing:))
            let tensor = switch request.source {
            case .hook(let hook): try session.readTensor(hook: hook, slice: slice)
            case .expression(let expression): try session.readTensor(expression: expression, slice: slice)
            }
            guard tensor.count * 4 <= options.memoryBudget else {
                throw DebugError.budgetExceeded("the tensor \(tensor.shape) is larger than the memory budget; read a slice")
            }
            return WireTensor(tensor)
        }
    }

    // MARK: Patches

    func setPatches(_ request: SetPatchesRequest, _ context: RequestContext) throws -> SetPatchesResult {
        let session = try modelSession()
        let patches = try request.patches.enumerated().map { try $1.patch(index: $0, session: session) }
        let ids = try debug(session) { try session.addPatches(patches) }
        let hookCounts = Dictionary(uniqueKeysWithValues: session.listPatches().map { ($0.id, $0.hooks.count) })
        patchSpecs += zip(ids, request.patches).map { (id: $0, hooks: hookCounts[$0] ?? 0, spec: $1) }
        return SetPatchesResult(ids: ids)
    }

    func listPatches(_ request: ListPatchesRequest, _ context: RequestContext) throws -> ListPatchesResult {
        ListPatchesResult(patches: patchSpecs.map { LMDebugProtocol.Patch(id: $0.id, hooks: $0.hooks, spec: $0.spec) })
    }

    func clearPatches(_ request: ClearPatchesRequest, _ context: RequestContext) throws -> EmptyResult {
        if let ids = request.ids, let unknown = ids.first(where: { id in !patchSpecs.contains { $0.id == id } }) {
            throw ServerError(.invalidParams, "ids: no patch with id \(unknown)")
        }
        if let session { try debug(session) { try session.clearPatches(request.ids) } }
        patchSpecs.removeAll { request.ids?.contains($0.id) ?? true }
        return EmptyResult()
    }

    // MARK: Helpers

    func modelSession() throws -> DebugSession {
        guard let session else { throw ServerError.noModel }
        return session
    }

    /// The session for requests about a run: without a model there is no run either (-32003).
    func runningSession() throws -> DebugSession {
        guard let session else {
            throw ServerError(.invalidSessionState, "no session: load a model and launch a run first",
                              data: .sessionState(SessionStateErrorData(state: .none)))
        }
        return session
    }

    /// Runs a debugger call, turning its errors into protocol errors.
    func debug<T>(_ session: DebugSession, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DebugError {
            throw ServerError(error, state: session.state)
        }
    }
}
