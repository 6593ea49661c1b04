import LMDebugProtocol

/// One REPL command, parsed; `CommandParser` makes them from lines.
public enum Command: Equatable, Sendable {
    /// `load MODEL`: a model name in the server's model directory, or a path.
    case load(String)
    /// `run [-n N] [PROMPT]` (and `start`, which stops on entry). A nil prompt reuses the last one.
    case run(prompt: String?, maxNewTokens: Int?, stopOnEntry: Bool)
    case restart
    case setBreakpoint(SourceBreakpoint)
    /// `delete [ID…]`: the REPL's breakpoint numbers; empty deletes all.
    case delete([Int])
    case info(InfoTopic)
    case resume(Resumption)
    case print(String)
    /// `lens [EXPR]`: the logit lens of a residual vector, `x[-1]` when nil.
    case lens(String?)
    /// `layers [-k K] [at POSITIONS] [PROMPT]`: the logit lens of every layer (`analysis/logitLens`).
    case layers(prompt: String?, positions: [Int]?, k: Int?)
    /// `attribute TOKEN [vs TOKEN] [at POSITION] [PROMPT]` (`analysis/attribution`).
    case attribute(target: TokenArgument, baseline: TokenArgument?, position: Int?, prompt: String?)
    case sweep(SweepCommand)
    case steer(SteerCommand)
    case sae(SAECommand)
    case patch(PatchCommand)
    /// `patch clear [ID…]`: empty clears all.
    case clearPatches([Int])
    case backtrace
    case exceptionFilters(CatchCommand)
    case tokenize(String)
    case help(String?)
    case quit
}

/// How a stopped run moves on; each waits for the next stop or the end of the run.
public enum Resumption: Equatable, Sendable {
    case continueRun
    case next(SteppingGranularity)
    case stepIn
    case stepOut
    case stepBack
}

public enum InfoTopic: Equatable, Sendable {
    case breakpoints, patches, model, catchpoints
    /// The model's hook points, optionally only those a glob matches.
    case hooks(pattern: String?)
}

public enum CatchCommand: Equatable, Sendable {
    case show
    /// Adds a filter; `threshold` only for `massive`.
    case add(ExceptionFilter, threshold: Double?)
    case clear
}

/// `patch HOOK [at POSITIONS] [heads H,…] OP [OPERAND]`.
public struct PatchCommand: Equatable, Sendable {
    public var hook: String
    public var positions: PatchPositions?
    public var heads: [Int]?
    public var action: PatchAction

    public init(hook: String, positions: PatchPositions? = nil, heads: [Int]? = nil, action: PatchAction) {
        self.hook = hook
        self.positions = positions
        self.heads = heads
        self.action = action
    }
}

public enum PatchAction: Equatable, Sendable {
    case zero
    case mean
    case scale(Double)
    case add(TensorOperand)
    case set(TensorOperand)
    case projectOut(TensorOperand)
    /// Writes the activations of a run of this prompt.
    case resample(prompt: String)
    /// Removes what these SAE features contribute (`ablateFeatures`).
    case ablateFeatures([Int], sae: Int?)
    /// Adds `scale` × each feature's decoder direction (`steerFeatures`).
    case steerFeatures([Int], scale: Double?, sae: Int?)
}

/// Where the tensor of a patch comes from.
public enum TensorOperand: Equatable, Sendable {
    /// Numbers written in the command, e.g. `[1, 0, -2]`.
    case literal(shape: [Int], values: [Float])
    /// An expression, read with `tensor/read` at the current stop.
    case expression(String)
}

/// A line that is not a valid command; `message` is one line for the user.
public struct CommandError: Error, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
