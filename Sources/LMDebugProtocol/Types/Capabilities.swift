/// Who the client is (`initialize`).
public struct ClientInfo: Codable, Sendable, Equatable {
    public var name: String
    public var version: String?

    public init(name: String, version: String? = nil) {
        self.name = name
        self.version = version
    }
}

/// Who the server is (`initialize` result).
public struct ServerInfo: Codable, Sendable, Equatable {
    public var name: String
    public var version: String

    public init(name: String, version: String) {
        self.name = name
        self.version = version
    }
}

/// What the server supports. Every member is sent.
public struct ServerCapabilities: Codable, Sendable, Equatable {
    public var stepBack: Bool
    public var conditionalBreakpoints: Bool
    public var hitConditionalBreakpoints: Bool
    public var logPoints: Bool
    public var exceptionBreakpointFilters: [ExceptionBreakpointsFilter]
    public var patchOperations: [PatchOperation]
    public var tensorDtypes: [TensorDType]
    public var workDoneProgress: Bool

    public init(stepBack: Bool, conditionalBreakpoints: Bool, hitConditionalBreakpoints: Bool, logPoints: Bool,
                exceptionBreakpointFilters: [ExceptionBreakpointsFilter], patchOperations: [PatchOperation],
                tensorDtypes: [TensorDType], workDoneProgress: Bool) {
        self.stepBack = stepBack
        self.conditionalBreakpoints = conditionalBreakpoints
        self.hitConditionalBreakpoints = hitConditionalBreakpoints
        self.logPoints = logPoints
        self.exceptionBreakpointFilters = exceptionBreakpointFilters
        self.patchOperations = patchOperations
        self.tensorDtypes = tensorDtypes
        self.workDoneProgress = workDoneProgress
    }
}

/// An exception filter, described for a client's UI.
public struct ExceptionBreakpointsFilter: Codable, Sendable, Equatable {
    public var filter: ExceptionFilter
    public var label: String
    public var description: String?

    public init(filter: ExceptionFilter, label: String, description: String? = nil) {
        self.filter = filter
        self.label = label
        self.description = description
    }
}
