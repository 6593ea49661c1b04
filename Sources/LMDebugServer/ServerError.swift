import Debugger
import LMDebugProtocol

/// An error answer: a protocol code, a message naming what is wrong, and the code's `data` where it has one.
struct ServerError: Error, Equatable {
    enum Data: Equatable {
        case sessionState(SessionStateErrorData)
        case expression(ExpressionErrorData)
    }

    let code: ProtocolErrorCode
    let message: String
    let data: Data?

    init(_ code: ProtocolErrorCode, _ message: String, data: Data? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    static let noModel = ServerError(.noModelLoaded, "no model loaded: send model/load first")

    /// The answer for a debugger error, given the session's state for `-32003`.
    init(_ error: DebugError, state: Debugger.SessionState) {
        let data = Data.sessionState(SessionStateErrorData(state: LMDebugProtocol.SessionState(rawValue: state.rawValue)!))
        switch error {
        case .noSession: self.init(.invalidSessionState, state == .terminated
            ? "no session: the last run has terminated; launch a new one" : "no session: launch a run first", data: data)
        case .notStopped: self.init(.invalidSessionState, "the session is running, not stopped; send debug/pause first", data: data)
        case .invalidArgument(let field, let message): self.init(.invalidParams, "\(field): \(message)")
        case .notRecorded(let message): self.init(.invalidParams, message)
        case .budgetExceeded(let message): self.init(.memoryBudgetExceeded, message)
        case .startOfRecord: self.init(.invalidSessionState, error.description, data: data)
        case .expression(let message, let position, let expression):
            self.init(.expressionError, message,
                      data: .expression(ExpressionErrorData(expression: expression, position: position)))
        }
    }
}
