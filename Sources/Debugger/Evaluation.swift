import Tensors
import Transformer

/// The value of an expression at a stop, ready to show.
public struct Evaluation: Sendable {
    public let value: ExpressionValue
    /// One line: the value (a tensor of up to 8 elements in full, a larger one summarised).
    public let text: String
    public let summary: TensorSummary?
    /// A tensor's rows as variables; 0 for other values. Valid until the run leaves this stop.
    public let variablesReference: Int
}

extension DebugSession {
    /// Evaluates `source` over the shown stop's variables (`x`, `layer`, hook names …). Every frame of a stop
    /// sees the same variables; `frameID` is checked to belong to the stop.
    public func evaluate(_ source: String, frameID: Int? = nil) throws -> Evaluation {
        try lock.withLock {
            let (run, stop) = try stoppedRun()
            if let frameID, !(1...3).contains(frameID) || (frameID == 2 && stop.shown.layer == nil) {
                throw DebugError.invalidArgument(field: "frameId", message: "no frame \(frameID) at this stop")
            }
            let value = try evaluate(source, in: environment(of: stop, in: run))
            guard case .tensor(let tensor) = value else {
                return Evaluation(value: value, text: value.description, summary: nil, variablesReference: 0)
            }
            let summary = TensorSummary(tensor)
            let reference = run.stop!.references.add(.tensor(.value(tensor), prefix: []))
            return Evaluation(value: value, text: value.description, summary: summary, variablesReference: reference)
        }
    }

    /// An expression's value as a tensor (a number becomes a tensor of shape []), optionally sliced.
    public func readTensor(expression source: String, slice: TensorSlice? = nil) throws -> Tensor {
        try lock.withLock {
            let (run, stop) = try stoppedRun()
            let tensor: Tensor
            switch try evaluate(source, in: environment(of: stop, in: run)) {
            case .tensor(let value): tensor = value
            case .number(let number): tensor = Tensor(shape: [], data: [Float(number)])
            case let other:
                throw DebugError.invalidArgument(field: "expression", message: "is \(other.kind.rawValue), not a tensor")
            }
            return try slice?.apply(to: tensor) ?? tensor
        }
    }

    /// The environment of the shown stop. Call with the lock held.
    func environment(of stop: Stop, in run: Run) -> StopEnvironment {
        if let cursor = stop.cursor, let entry = run.record.entry(serial: cursor) {
            return StopEnvironment(session: self, run: run, recorded: entry)
        }
        return StopEnvironment(session: self, run: run, view: stop.view, point: stop.point)
    }

    private func evaluate(_ source: String, in environment: StopEnvironment) throws -> ExpressionValue {
        do {
            return try Expression(source).evaluate(in: environment)
        } catch {
            throw DebugError(error)
        }
    }
}

extension DebugError {
    init(_ error: ExpressionError) {
        self = .expression(message: error.message, position: error.position, expression: error.expression)
    }
}
