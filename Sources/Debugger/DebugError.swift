import Transformer

/// Why a debugger request could not be carried out. Each case says what the caller can do about it.
public enum DebugError: Error, Equatable, CustomStringConvertible {
    /// No run has been launched, or the last one has ended.
    case noSession
    /// The request needs a stopped run, and the run is executing.
    case notStopped
    /// A parameter is wrong; `field` names it.
    case invalidArgument(field: String, message: String)
    /// The activation is not in the record and not live at this stop.
    case notRecorded(String)
    /// The record cannot go further back: its memory budget evicted or refused what was there.
    case budgetExceeded(String)
    /// Step back reached the first activation of the record: there is nothing earlier.
    case startOfRecord
    /// An expression failed to parse or evaluate; `position` is a character offset into `expression`.
    case expression(message: String, position: Int, expression: String)

    public var description: String {
        switch self {
        case .noSession: "no session: launch a run first"
        case .notStopped: "the session is running, not stopped"
        case .invalidArgument(let field, let message): "\(field): \(message)"
        case .notRecorded(let message), .budgetExceeded(let message): message
        case .startOfRecord: "cannot step back further: no activation was recorded before this one "
            + "(the record holds stops, hooks visited while stepping, and recordPatterns)"
        case .expression(let message, let position, let expression):
            "\(message) at position \(position) in '\(expression)'"
        }
    }

    static func unknownHook(_ name: String, field: String) -> DebugError {
        .invalidArgument(field: field, message: "unknown hook point '\(name)'")
    }
}
