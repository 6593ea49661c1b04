import JSONRPC
import LMDebugProtocol

/// Sample values of every message type, with sample responses for requests. Each type has at least one
/// sample (a test checks that), with optional members both present and absent.
enum MessageSamples {
    static let tensor = WireTensor(shape: [2], values: [1, -2.5])
    static let summary = TensorSummary(norm: 412.5, mean: 0.02, min: FloatValue(-Double.infinity), max: FloatValue(Double.nan),
                                       topDims: [TopDim(index: [4, 123], value: 97.25)], nanCount: 1, infCount: 2)
    static let capabilities = ServerCapabilities(
        stepBack: true, conditionalBreakpoints: true, hitConditionalBreakpoints: false, logPoints: true,
        exceptionBreakpointFilters: [ExceptionBreakpointsFilter(filter: .nan, label: "NaN", description: "a NaN"),
                                     ExceptionBreakpointsFilter(filter: .massive, label: "Massive")],
        patchOperations: PatchOperation.allCases, tensorDtypes: [.float32], workDoneProgress: true)
    static let model = ModelInfo(
        name: "SmolLM2-135M-Instruct.Q4_1", path: "/models/SmolLM2-135M-Instruct.Q4_1.gguf", architecture: "llama",
        config: ModelConfig(nLayers: 30, dModel: 576, nHeads: 9, nKVHeads: 3, dHead: 64, dMLP: 1536, vocabSize: 49152,
                            contextLength: 8192),
        hookPoints: [HookPointInfo(name: "hook_embed", shape: [.pos, 576]),
                     HookPointInfo(name: "blocks.0.attn.hook_pattern", shape: [9, .pos, .kpos])])
    static let launched = LaunchResult(sessionId: 3, promptTokens: [504, 3575, 282])

    static let requests: [RequestSample] = [
        RequestSample(InitializeRequest(), InitializeResult(serverInfo: ServerInfo(name: "lmdbg", version: "0.1.0"),
                                                            capabilities: capabilities)),
        RequestSample(InitializeRequest(clientInfo: ClientInfo(name: "repl", version: "1"), protocolVersion: "0.1.0"),
                      InitializeResult(protocolVersion: "0.1.0", serverInfo: ServerInfo(name: "lmdbg", version: "0.1.0-dev"),
                                       capabilities: capabilities)),
        RequestSample(ShutdownRequest(), ShutdownResult()),
        RequestSample(LoadModelRequest(.name("SmolLM2-135M-Instruct.Q4_1")), model),
        RequestSample(LoadModelRequest(.path("/tmp/m.gguf"), workDoneToken: .string("load-1")), model),
        RequestSample(LoadModelRequest(.name("m"), workDoneToken: .integer(7)), model),
        RequestSample(TokenizeRequest(text: "The capital of France is"),
                      TokenizeResult(tokens: [504, 3575], pieces: ["The", " capital"])),
        RequestSample(LaunchRequest(prompt: "hi"), launched),
        RequestSample(LaunchRequest(prompt: "hi", maxNewTokens: 5, stopOnEntry: true,
                                    sampling: Sampling(temperature: 0.7, topK: 40, topP: 0.9, seed: 1)), launched),
        RequestSample(LaunchRequest(prompt: "", sampling: Sampling()), launched),
        RequestSample(SetBreakpointsRequest(breakpoints: []), SetBreakpointsResult(breakpoints: [])),
        RequestSample(SetBreakpointsRequest(breakpoints: [
            SourceBreakpoint(hook: "blocks.*.hook_resid_post", condition: "x.norm() > 100", hitCondition: ">= 2"),
            SourceBreakpoint(hook: "logits", logMessage: "top {x[-1].argmax()}"),
        ]), SetBreakpointsResult(breakpoints: [Breakpoint(id: 1, verified: true, hooks: 30),
                                               Breakpoint(id: 2, verified: false, message: "no such hook", hooks: 0)])),
        RequestSample(SetExceptionBreakpointsRequest(filters: ExceptionFilter.allCases, massiveThreshold: 3000), EmptyResult()),
        RequestSample(SetExceptionBreakpointsRequest(filters: []), EmptyResult()),
        RequestSample(ContinueRequest(), EmptyResult()),
        RequestSample(NextRequest(), EmptyResult()),
        RequestSample(NextRequest(granularity: .layer), EmptyResult()),
        RequestSample(NextRequest(granularity: .token), EmptyResult()),
        RequestSample(StepInRequest(), EmptyResult()),
        RequestSample(StepOutRequest(), EmptyResult()),
        RequestSample(StepBackRequest(), EmptyResult()),
        RequestSample(PauseRequest(), EmptyResult()),
        RequestSample(RestartRequest(), launched),
        RequestSample(StackTraceRequest(), StackTraceResult(frames: [
            StackFrame(id: 1, name: "blocks.2.hook_resid_post", kind: .hook, hook: "blocks.2.hook_resid_post", layer: 2, tokenStep: 0),
            StackFrame(id: 2, name: "blocks.2", kind: .layer, layer: 2, tokenStep: 0),
            StackFrame(id: 3, name: "token step 0 (prompt)", kind: .token, tokenStep: 0),
        ])),
        RequestSample(ScopesRequest(frameId: 1), ScopesResult(scopes: [Scope(name: "Current", variablesReference: 4)])),
        RequestSample(VariablesRequest(variablesReference: 4), VariablesResult(variables: [], total: 0)),
        RequestSample(VariablesRequest(variablesReference: 4, start: 10, count: 5), VariablesResult(variables: [
            Variable(name: "blocks.2.hook_resid_post", value: "float32[3, 576]", type: .tensor, shape: [3, 576],
                     summary: summary, variablesReference: 9, evaluateName: "blocks.2.hook_resid_post"),
            Variable(name: "layer", value: "2", type: .number, variablesReference: 0),
        ], total: 12)),
        RequestSample(EvaluateRequest(expression: "x.norm()"),
                      EvaluateResult(result: "17.25", type: .number, value: .number(17.25))),
        RequestSample(EvaluateRequest(expression: "x.max()", frameId: 2),
                      EvaluateResult(result: "NaN", type: .number, value: .number(FloatValue(Double.nan)))),
        RequestSample(EvaluateRequest(expression: "tokens"),
                      EvaluateResult(result: "[1, 2]", type: .tokens, value: .tokens([1, 2]))),
        RequestSample(EvaluateRequest(expression: "hook"),
                      EvaluateResult(result: "\"NaN\"", type: .string, value: .string("NaN"))),
        RequestSample(EvaluateRequest(expression: "layer > 1"),
                      EvaluateResult(result: "true", type: .bool, value: .bool(true))),
        RequestSample(EvaluateRequest(expression: "x"),
                      EvaluateResult(result: "float32[576]", type: .tensor, shape: [576], summary: summary, variablesReference: 12)),
        RequestSample(ReadTensorRequest(.hook("blocks.0.hook_resid_pre"), slice: "[-1, :10]"), tensor),
        RequestSample(ReadTensorRequest(.expression("x[0, 0]")), WireTensor(shape: [], values: [.nan])),
        RequestSample(SetPatchesRequest(patches: [
            PatchSpec(hook: "blocks.6.hook_resid_post", positions: .list([4]), op: .add, vector: tensor, scale: 4),
            PatchSpec(hook: "blocks.*.attn.hook_z", positions: .all, heads: [3], op: .zero),
            PatchSpec(hook: "blocks.1.hook_resid_pre", positions: .prompt, op: .set, value: tensor),
            PatchSpec(hook: "blocks.1.hook_resid_pre", positions: .generated, op: .resample, source: "other prompt"),
            PatchSpec(hook: "blocks.1.hook_mlp_out", op: .projectOut, vector: tensor),
            PatchSpec(hook: "blocks.1.hook_mlp_out", op: .mean),
            PatchSpec(hook: "blocks.1.hook_mlp_out", op: .scale, scale: 0.5),
        ]), SetPatchesResult(ids: [1, 2, 3, 4, 5, 6, 7])),
        RequestSample(ListPatchesRequest(), ListPatchesResult(patches: [])),
        RequestSample(ListPatchesRequest(), ListPatchesResult(patches: [
            Patch(id: 2, hooks: 30, spec: PatchSpec(hook: "blocks.*.attn.hook_z", heads: [3], op: .zero)),
            Patch(id: 3, hooks: 1, hook: "blocks.6.hook_resid_post", positions: .list([0, 4]), op: .add, vector: tensor),
        ])),
        RequestSample(ClearPatchesRequest(), EmptyResult()),
        RequestSample(ClearPatchesRequest(ids: [2, 3]), EmptyResult()),
        RequestSample(SetPatchesRequest(patches: [
            PatchSpec(hook: "blocks.8.hook_resid_pre", op: .ablateFeatures, sae: 1, features: [12, 40]),
            PatchSpec(hook: "blocks.8.hook_resid_pre", positions: .generated, op: .steerFeatures, scale: 3, features: [7]),
        ]), SetPatchesResult(ids: [8, 9])),
        RequestSample(LogitLensRequest(prompt: "The capital of France is", positions: [2, -1], k: 2), LogitLensResult(
            tokens: [504, 3575, 282, 4649, 314],
            rows: [LensRow(hook: "blocks.0.hook_resid_pre", position: 2, top: [lens, lens]),
                   LensRow(hook: "logits", position: 4, top: [lens])])),
        RequestSample(LogitLensRequest(), LogitLensResult(tokens: [1], rows: [])),
        RequestSample(LogitLensRequest(k: 1, expression: "x[-1]"), LogitLensResult(rows: [LensRow(index: 0, top: [lens])])),
        RequestSample(AttributionRequest(prompt: "The Eiffel Tower is in the city of", position: -1, token: 7042, baseline: 7268),
                      AttributionResult(position: 8, token: 7042, baseline: 7268, logit: 3.5, total: 3.4999, finalScale: 12.25,
                                        embed: 0.125, attention: [0.25, 1], heads: [[0.5, -0.25], [1, 0]], mlp: [2, 0.125])),
        RequestSample(AttributionRequest(token: 7042),
                      AttributionResult(position: 0, token: 7042, logit: 1, total: 1, finalScale: 1, embed: 1, posEmbed: 0.5,
                                        attention: [0.5], heads: [[]], mlp: [-0.5], constant: 0.5)),
        RequestSample(PatchSweepRequest(clean: "a b", corrupted: "a c", site: .residPre,
                                        metric: SweepMetric(kind: .logitDifference, token: 5099, baseline: 2322),
                                        direction: .noise, positions: [0, -1], workDoneToken: .string("sweep-1")),
                      PatchSweepResult(site: .residPre, direction: .noise, columnAxis: "position", columns: [0, 1],
                                       values: [[1.5, nil]], normalised: [[0.25, nil]], clean: 3, corrupted: -1,
                                       completed: 1, total: 2, cancelled: true)),
        RequestSample(PatchSweepRequest(clean: "a b", corrupted: "a c", site: .headZ, metric: SweepMetric(kind: .klDivergence)),
                      PatchSweepResult(site: .headZ, direction: .denoise, columnAxis: "head", columns: [0], values: [[0.5]],
                                       normalised: [[nil]], clean: 0, corrupted: 0, completed: 1, total: 1, cancelled: false)),
        RequestSample(SteerFromContrastRequest(pairs: [ContrastPromptPair(positive: "I love it", negative: "I hate it")], layer: 8,
                                               reduction: .meanOverPositions, apply: .add, scale: 4, positions: .generated),
                      SteerFromContrastResult(hook: "blocks.8.hook_resid_pre", direction: tensor, norm: 2.6925824,
                                              patch: Patch(id: 1, hooks: 1, hook: "blocks.8.hook_resid_pre", positions: .generated,
                                                           op: .add, vector: tensor, scale: 4))),
        RequestSample(SteerFromContrastRequest(pairs: [ContrastPromptPair(positive: "a", negative: "b")],
                                               hook: "blocks.3.hook_resid_post", apply: .directionOnly),
                      SteerFromContrastResult(hook: "blocks.3.hook_resid_post", direction: tensor, norm: 1)),
        RequestSample(LoadSAERequest(path: "/tmp/sae", name: "resid8"),
                      SAEInfo(id: 1, name: "resid8", hook: "blocks.8.hook_resid_pre", dIn: 576, dSae: 512, architecture: .relu)),
        RequestSample(LoadSAERequest(path: "sae"),
                      SAEInfo(id: 2, name: "sae", hook: "blocks.8.hook_resid_pre", dIn: 576, dSae: 4096, architecture: .topk, k: 32)),
        RequestSample(SAEFeaturesRequest(), SAEFeaturesResult(sae: 1, hook: "blocks.8.hook_resid_pre", rows: [])),
        RequestSample(SAEFeaturesRequest(sae: 1, k: 2), SAEFeaturesResult(sae: 1, hook: "blocks.8.hook_resid_pre", rows: [
            FeatureRow(position: 3, features: [FeatureActivation(feature: 12, activation: 4.5)], l0: 17, errorNorm: 3.25,
                       relativeError: 0.125),
        ])),
    ]
    static let lens = LensToken(token: 7042, piece: " Paris", logit: 17.5, probability: 0.625)

    static let notifications: [NotificationSample] = [
        NotificationSample(InitializedNotification()),
        NotificationSample(ExitNotification()),
        NotificationSample(CancelRequestNotification(id: .integer(7))),
        NotificationSample(CancelRequestNotification(id: .string("req-7"))),
        NotificationSample(ProgressNotification(token: .string("load-1"),
                                                value: .begin(WorkDoneProgressBegin(title: "Loading", percentage: 0)))),
        NotificationSample(ProgressNotification(token: .integer(1),
                                                value: .begin(WorkDoneProgressBegin(title: "Loading", message: "header")))),
        NotificationSample(ProgressNotification(token: .integer(1),
                                                value: .report(WorkDoneProgressReport(message: "blk.3", percentage: 10)))),
        NotificationSample(ProgressNotification(token: .integer(1), value: .report(WorkDoneProgressReport()))),
        NotificationSample(ProgressNotification(token: .integer(1), value: .end(WorkDoneProgressEnd()))),
        NotificationSample(ProgressNotification(token: .integer(1), value: .end(WorkDoneProgressEnd(message: "done")))),
        NotificationSample(StoppedNotification(sessionId: 1, reason: .entry, positions: PositionRange(0..<5), tokenStep: 0)),
        NotificationSample(StoppedNotification(sessionId: 1, reason: .breakpoint, hook: "blocks.12.hook_resid_post", layer: 12,
                                               positions: PositionRange(start: 6, end: 7), tokenStep: 2, breakpointIds: [1, 4])),
        NotificationSample(StoppedNotification(sessionId: 2, reason: .exception, hook: "blocks.7.hook_mlp_out", layer: 7,
                                               positions: PositionRange(0..<5), tokenStep: 0, exceptionFilter: .nan,
                                               description: "NaN in blocks.7.hook_mlp_out at [3, 101]")),
        NotificationSample(StoppedNotification(sessionId: 2, reason: .step, hook: "logits", positions: PositionRange(0..<5),
                                               tokenStep: 0, recorded: true)),
        NotificationSample(StoppedNotification(sessionId: 2, reason: .pause, hook: "hook_embed", positions: PositionRange(5..<6),
                                               tokenStep: 1)),
        NotificationSample(OutputNotification(sessionId: 1, category: .generated, text: " Paris", token: 7042)),
        NotificationSample(OutputNotification(category: .log, text: "loaded")),
        NotificationSample(TerminatedNotification(sessionId: 1, reason: .maxNewTokens, tokens: [7042, 30], text: " Paris.",
                                                  activePatches: [])),
        NotificationSample(TerminatedNotification(sessionId: 1, reason: .error, tokens: [], text: "", activePatches: [2, 3],
                                                  message: "out of memory")),
        NotificationSample(TerminatedNotification(sessionId: 4, reason: .superseded, tokens: [1], text: "a", activePatches: [])),
        NotificationSample(TerminatedNotification(sessionId: 5, reason: .endOfSequence, tokens: [2], text: "", activePatches: [])),
    ]
}

/// A request value and a response value, with the checks the tests run on them, type-erased.
struct RequestSample: CustomStringConvertible {
    let method: String
    let typeName: String
    let encodeParams: () throws -> JSONValue
    let encodeResult: () throws -> JSONValue
    /// Decodes what `encodeParams`/`encodeResult` gave and says whether the values came back equal.
    let roundTrips: () throws -> (params: Bool, result: Bool)

    init<R: RequestType>(_ request: R, _ response: R.Response) {
        method = R.method
        typeName = String(describing: R.self)
        encodeParams = { try JSONValueEncoder().encode(request) }
        encodeResult = { try JSONValueEncoder().encode(response) }
        roundTrips = {
            let params = try JSONValueDecoder().decode(R.self, from: try JSONValueEncoder().encode(request))
            let result = try JSONValueDecoder().decode(R.Response.self, from: try JSONValueEncoder().encode(response))
            return (params == request, result == response)
        }
    }

    var description: String { method }
}

/// A notification value, type-erased.
struct NotificationSample: CustomStringConvertible {
    let method: String
    let typeName: String
    let encodeParams: () throws -> JSONValue
    let roundTrips: () throws -> Bool

    init<N: NotificationType>(_ notification: N) {
        method = N.method
        typeName = String(describing: N.self)
        encodeParams = { try JSONValueEncoder().encode(notification) }
        roundTrips = { try JSONValueDecoder().decode(N.self, from: try JSONValueEncoder().encode(notification)) == notification }
    }

    var description: String { method }
}
