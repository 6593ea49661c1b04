/// A parse or evaluation error in an expression, located at a character offset in its source.
public struct ExpressionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong, naming the column, e.g. `expected ']' at column 9`.
    public let message: String
    /// 0-based offset, in characters, of the place the error refers to.
    public let position: Int
    /// The expression the error was found in.
    public let expression: String

    init(_ reason: String, at position: Int, in expression: String, hint: String? = nil) {
        self.position = position
        self.expression = expression
        self.message = "\(reason) at column \(position + 1)" + (hint.map { "; \($0)" } ?? "")
    }

    /// The message, then the expression with a caret under the error's position.
    public var description: String {
        let line = String(expression.map { $0 == "\n" || $0 == "\t" ? " " : $0 })
        let caret = String(repeating: " ", count: min(position, line.count)) + "^"
        return "\(message)\n  \(line)\n  \(caret)"
    }
}

/// An error without its source yet: thrown inside the lexer, parser and evaluator, which
/// `Expression` turns into an `ExpressionError` by adding the source text.
struct LocatedError: Error {
    let reason: String
    let position: Int
    let hint: String?

    init(_ reason: String, at position: Int, hint: String? = nil) {
        self.reason = reason
        self.position = position
        self.hint = hint
    }

    func attached(to expression: String) -> ExpressionError {
        ExpressionError(reason, at: position, in: expression, hint: hint)
    }
}

/// "did you mean 'x'?" for the candidate closest to `word`, if any is within two edits.
func suggestion(for word: String, among candidates: some Sequence<String>) -> String? {
    var best: (name: String, distance: Int)?
    let limit = word.count <= 3 ? 1 : 2
    for candidate in candidates {
        let distance = editDistance(word, candidate)
        if distance <= limit, distance < (best?.distance ?? .max) { best = (candidate, distance) }
    }
    return best.map { "did you mean '\($0.name)'?" }
}

/// Levenshtein distance between two short strings.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    guard !a.isEmpty else { return b.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + [Int](repeating: 0, count: b.count)
        for j in stride(from: 1, through: b.count, by: 1) {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
        }
        previous = current
    }
    return previous[b.count]
}
