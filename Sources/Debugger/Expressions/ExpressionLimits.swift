/// Bounds that keep any expression cheap: exceeding one is an `ExpressionError`, never a crash or a hang.
public struct ExpressionLimits: Sendable, Equatable {
    /// Longest accepted source, in characters.
    public var maximumLength: Int
    /// Deepest accepted nesting: parentheses, operands of operators, arguments, subscripts.
    public var maximumDepth: Int
    /// Most elements any value made during evaluation may hold (64 Mi floats = 256 MiB).
    public var maximumElements: Int
    /// Most work one evaluation may do, counted in element operations (a matmul costs m·n·k).
    public var maximumSteps: Int

    public init(maximumLength: Int = 4096, maximumDepth: Int = 64,
                maximumElements: Int = 1 << 26, maximumSteps: Int = 1 << 30) {
        self.maximumLength = maximumLength
        self.maximumDepth = maximumDepth
        self.maximumElements = maximumElements
        self.maximumSteps = maximumSteps
    }

    public static let `default` = ExpressionLimits()
}

/// A failure inside a tensor operation; the evaluator adds the position of the operation.
struct OperationError: Error {
    let reason: String
    let hint: String?

    init(_ reason: String, hint: String? = nil) {
        self.reason = reason
        self.hint = hint
    }
}

/// Counts one evaluation's work and refuses results over the element limit, before they are allocated.
final class Budget {
    let limits: ExpressionLimits
    private(set) var steps = 0

    init(_ limits: ExpressionLimits) {
        self.limits = limits
    }

    func charge(_ cost: Int) throws(OperationError) {
        let (total, overflow) = steps.addingReportingOverflow(cost)
        guard !overflow, total <= limits.maximumSteps else {
            throw OperationError("evaluation needs more than \(limits.maximumSteps) steps")
        }
        steps = total
    }

    /// Admits a result of `shape`, charging `cost` (by default its element count); returns the element count.
    @discardableResult
    func admit(_ shape: [Int], cost: Int? = nil) throws(OperationError) -> Int {
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= limits.maximumElements else {
                throw OperationError("result of shape \(shape) exceeds the limit of \(limits.maximumElements) elements")
            }
            count = product
        }
        try charge(cost ?? count)
        return count
    }
}
