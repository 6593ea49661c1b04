import Tensors
import Transformer

/// Why the run stopped.
public enum StopReason: String, Sendable {
    case entry, breakpoint, step, exception, pause
}

/// A stop: the hook it is at, its place in the run, and why. `isInPast` marks a stop reached by stepping back,
/// which shows recorded activations while the engine stays suspended at the live stop.
public struct StopEvent: Equatable, Sendable {
    public let runID: Int
    public let reason: StopReason
    public let hook: HookPoint
    public let positions: Range<Int>
    /// 0 is the prompt pass; n ≥ 1 is the pass that runs the n-th generated token.
    public let tokenStep: Int
    public let breakpointIDs: [Int]
    /// The filter that fired, for `.exception`.
    public let exception: ExceptionKind?
    public let description: String?
    public let isInPast: Bool

    public var layer: Int? { hook.layer }
}

/// Text the run produces: generated tokens as they appear, and logpoint messages.
public struct OutputEvent: Equatable, Sendable {
    public enum Category: String, Sendable { case generated, log }
    public let runID: Int
    public let category: Category
    public let text: String
    /// The generated token, for `.generated`.
    public let token: Int32?
}

/// How a run ended.
public struct RunSummary: Equatable, Sendable {
    public enum Ending: String, Sendable {
        /// The model generated its end-of-sequence token.
        case endOfSequence
        /// The run generated `maxNewTokens` tokens (or had none to generate).
        case maxNewTokens
        /// Ended by `terminate`, a new launch or a restart.
        case superseded
        /// The forward pass failed; `message` says why.
        case error
    }

    public let runID: Int
    public let ending: Ending
    public let message: String?
    public let promptTokens: [Int32]
    /// The generated tokens, in order.
    public let tokens: [Int32]
    /// The generated text.
    public let text: String
    /// The patches that were in force at some point of the run.
    public let activePatchIDs: [Int]
    /// The logits of the last position of the last pass, as the run computed them.
    public let finalLogits: [Float]
}

/// The memory budget made the record drop or refuse activations: step back cannot reach them.
public struct RecordingNotice: Equatable, Sendable {
    public let runID: Int
    public let evicted: Int
    public let refused: Int
    public let budget: Int

    public var message: String {
        var parts: [String] = []
        if evicted > 0 { parts.append(evicted == 1 ? "evicted the oldest activation" : "evicted the \(evicted) oldest activations") }
        if refused > 0 { parts.append(refused == 1 ? "1 activation was too large to record" : "\(refused) activations were too large to record") }
        return "recording: " + parts.joined(separator: ", ") + " (memory budget \(budget) bytes); step back cannot reach them"
    }
}

public enum DebugEvent: Sendable {
    case stopped(StopEvent)
    case output(OutputEvent)
    case terminated(RunSummary)
    case recording(RecordingNotice)
}

/// What to run.
public struct LaunchConfiguration: Equatable, Sendable {
    public var prompt: String
    public var maxNewTokens: Int
    public var stopOnEntry: Bool
    public var sampling: SamplingOptions

    public init(prompt: String, maxNewTokens: Int = 0, stopOnEntry: Bool = false, sampling: SamplingOptions = .init()) {
        self.prompt = prompt
        self.maxNewTokens = maxNewTokens
        self.stopOnEntry = stopOnEntry
        self.sampling = sampling
    }
}

/// A kind of numerical trouble.
public enum ExceptionKind: String, Sendable, CaseIterable {
    case nan, inf, massive
}

/// What `launch` started.
public struct LaunchInfo: Equatable, Sendable {
    public let runID: Int
    public let promptTokens: [Int32]
}

/// Where a run is.
public enum SessionState: String, Sendable {
    /// No run has been launched.
    case none
    case running
    case stopped
    /// The last run has ended.
    case terminated
}

/// Which numerical trouble stops the run, checked at every hook point while any filter is armed.
public struct ExceptionFilters: Equatable, Sendable {
    public var nan: Bool
    public var inf: Bool
    /// Stops where some |x| exceeds this threshold; nil is off.
    public var massiveThreshold: Float?

    public static let defaultMassiveThreshold: Float = 1e4

    public init(nan: Bool = false, inf: Bool = false, massiveThreshold: Float? = nil) {
        self.nan = nan
        self.inf = inf
        self.massiveThreshold = massiveThreshold
    }

    var isArmed: Bool { nan || inf || massiveThreshold != nil }
}

/// How far `next` goes.
public enum StepGranularity: String, Sendable {
    /// To the next hook point reached.
    case hook
    /// To the same hook in the next layer (from a hook outside the layers, to the next layer's first hook).
    case layer
    /// To the same hook in the next token step.
    case token
}
