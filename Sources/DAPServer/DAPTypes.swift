// The parts of the Debug Adapter Protocol lmdbg uses: request arguments it reads and bodies it sends.
// Names follow the DAP specification; members lmdbg adds are marked as extensions.

// MARK: Arguments

struct InitializeArguments: Decodable {
    var clientID: String?
    var supportsProgressReporting: Bool?
    var supportsInvalidatedEvent: Bool?
}

/// `launch` (and `restart`'s `arguments`): what to load and run.
struct LaunchArguments: Decodable, Equatable {
    /// A shipped model's short name (`smollm2`), a file in the model directory, or a path. Default `smollm2`.
    var model: String?
    var prompt: String
    var maxNewTokens: Int?
    var stopOnEntry: Bool?
    var sampling: SamplingArguments?
    /// Hook globs every pass records, so that scopes, evaluate and the lens panel can read them at any stop.
    var record: [String]?
    var noDebug: Bool?
}

struct SamplingArguments: Decodable, Equatable {
    var temperature: Double?
    var topK: Int?
    var topP: Double?
    var seed: UInt64?
}

struct RestartArguments: Decodable {
    var arguments: LaunchArguments?
}

struct FunctionBreakpoint: Decodable, Equatable {
    /// A hook point name or glob.
    var name: String
    var condition: String?
    var hitCondition: String?
    /// lmdbg extension: DAP has log messages only on source breakpoints, and lmdbg has no sources.
    var logMessage: String?
}

struct SetFunctionBreakpointsArguments: Decodable {
    var breakpoints: [FunctionBreakpoint]
}

struct SetBreakpointsArguments: Decodable {
    struct SourceBreakpoint: Decodable { var line: Int }
    var breakpoints: [SourceBreakpoint]?
    var lines: [Int]?
}

struct SetExceptionBreakpointsArguments: Decodable {
    struct FilterOptions: Decodable {
        var filterId: String
        var condition: String?
    }
    var filters: [String]
    var filterOptions: [FilterOptions]?
}

struct StepArguments: Decodable {
    var threadId: Int?
    /// DAP's `statement`, `line` and `instruction` step one hook point; lmdbg also takes `layer` and `token`.
    var granularity: String?
}

struct StackTraceArguments: Decodable {
    var threadId: Int?
    var startFrame: Int?
    var levels: Int?
}

struct ScopesArguments: Decodable {
    var frameId: Int
}

struct VariablesArguments: Decodable {
    var variablesReference: Int
    var filter: String?
    var start: Int?
    var count: Int?
}

struct EvaluateArguments: Decodable {
    var expression: String
    var frameId: Int?
    /// `watch`, `repl`, `hover`, `clipboard`, `variables`, or lmdbg's `lmdbg.data`, which adds the value itself.
    var context: String?
}

struct SetVariableArguments: Decodable {
    var variablesReference: Int
    var name: String
    var value: String
}

struct SetExpressionArguments: Decodable {
    var expression: String
    var value: String
    var frameId: Int?
}

struct ReadMemoryArguments: Decodable {
    var memoryReference: String
    var offset: Int?
    var count: Int
}

// MARK: Bodies

struct Capabilities: Encodable {
    struct ExceptionFilter: Encodable {
        var filter: String
        var label: String
        var description: String
        var `default` = false
        var supportsCondition: Bool
        var conditionDescription: String?
    }

    var supportsConfigurationDoneRequest = true
    var supportsFunctionBreakpoints = true
    var supportsConditionalBreakpoints = true
    var supportsHitConditionalBreakpoints = true
    var supportsLogPoints = true
    var supportsEvaluateForHovers = true
    var supportsStepBack = true
    var supportsSetVariable = true
    var supportsSetExpression = true
    var supportsReadMemoryRequest = true
    var supportsRestartRequest = true
    var supportsTerminateRequest = true
    var supportsExceptionInfoRequest = true
    var supportsExceptionFilterOptions = true
    var supportTerminateDebuggee = true
    var exceptionBreakpointFilters: [ExceptionFilter] = [
        ExceptionFilter(filter: "nan", label: "NaN", description: "Stop where an activation holds a NaN.",
                        supportsCondition: false),
        ExceptionFilter(filter: "inf", label: "Infinity", description: "Stop where an activation holds ±inf.",
                        supportsCondition: false),
        ExceptionFilter(filter: "massive", label: "Massive activation",
                        description: "Stop where an activation's magnitude exceeds a threshold (default 1e4).",
                        supportsCondition: true, conditionDescription: "the threshold, e.g. 3000"),
    ]
}

struct Breakpoint: Encodable, Equatable {
    var id: Int
    var verified: Bool
    var message: String?
    /// `pending` (waits for the model that `launch` loads) or `failed`.
    var reason: String?
}

struct StackFrame: Encodable {
    var id: Int
    var name: String
    var line = 0
    var column = 0
    var presentationHint: String?
}

struct Scope: Encodable {
    var name: String
    var presentationHint: String?
    var variablesReference: Int
    var namedVariables: Int?
    var expensive = false
}

struct Variable: Encodable {
    var name: String
    var value: String
    var type: String?
    var evaluateName: String?
    var variablesReference: Int
    var indexedVariables: Int?
    var memoryReference: String?
}

struct EvaluateBody: Encodable {
    var result: String
    var type: String?
    var variablesReference: Int
    var indexedVariables: Int?
    var memoryReference: String?
    /// lmdbg extension, for `context: "lmdbg.data"`: the value itself.
    var data: EvaluatedData?
}

/// An evaluated value as data: `kind` says which member holds it.
struct EvaluatedData: Encodable {
    struct TokenRow: Encodable {
        var token: Int
        var piece: String?
        var score: NumberValue
    }

    var kind: String
    /// A tensor: `{dtype: "float32", shape, data: base64 of little-endian float32}`, as the lmdbg protocol's WireTensor.
    var tensor: TensorData?
    var number: NumberValue?
    var bool: Bool?
    var string: String?
    var tokens: [TokenRow]?
}

struct TensorData: Encodable {
    var dtype = "float32"
    var shape: [Int]
    var data: String
}

/// A number that may not be finite: JSON has no NaN, so those travel as `"NaN"`, `"Infinity"`, `"-Infinity"`.
struct NumberValue: Encodable {
    var value: Double

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        if value.isNaN { try container.encode("NaN") }
        else if value.isInfinite { try container.encode(value > 0 ? "Infinity" : "-Infinity") }
        else { try container.encode(value) }
    }
}

struct SetValueBody: Encodable {
    var value: String
    var type: String?
    var variablesReference: Int
    var indexedVariables: Int?
    var memoryReference: String?
}

struct ReadMemoryBody: Encodable {
    var address: String
    var unreadableBytes: Int?
    var data: String?
}

struct StoppedBody: Encodable {
    var reason: String
    var description: String?
    var threadId = DAPAdapter.threadID
    var allThreadsStopped = true
    var hitBreakpointIds: [Int]?
    var text: String?
}

struct ExceptionInfoBody: Encodable {
    var exceptionId: String
    var description: String?
    var breakMode = "always"
}

struct OutputBody: Encodable {
    var category: String
    var output: String
}
