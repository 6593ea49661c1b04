import Foundation
import Transformer

/// A breakpoint as the user asks for it: where, and under which conditions it stops or logs.
public struct BreakpointSpec: Equatable, Sendable {
    /// A hook name or a glob over hook names (`blocks.*.hook_resid_post`).
    public var hook: String
    /// An expression evaluated when the hook is hit; the breakpoint counts the hit only when it is true.
    public var condition: String?
    /// `"5"` (the 5th hit), `">= 3"`, `"% 2"` (every 2nd hit), also `==`, `>`, `<`, `<=`.
    public var hitCondition: String?
    /// Makes a logpoint: `{expr}` pieces are evaluated and the text is sent as output; it never stops.
    public var logMessage: String?

    public init(hook: String, condition: String? = nil, hitCondition: String? = nil, logMessage: String? = nil) {
        self.hook = hook
        self.condition = condition
        self.hitCondition = hitCondition
        self.logMessage = logMessage
    }
}

/// What became of a `BreakpointSpec`: verified breakpoints are armed, the others say why not.
public struct BreakpointStatus: Equatable, Sendable {
    public let id: Int
    public let verified: Bool
    public let message: String?
    /// How many of the model's hook points the pattern matches.
    public let hookCount: Int
}

/// When a hit counts as a stop, after the condition held: compares the hit count (1-based).
struct HitCondition: Equatable {
    enum Comparison: String, CaseIterable { case atLeast = ">=", atMost = "<=", equal = "==", greater = ">", less = "<", every = "%" }

    let comparison: Comparison
    let count: Int

    init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let comparison = Comparison.allCases.first { trimmed.hasPrefix($0.rawValue) }
        let number = trimmed.dropFirst(comparison?.rawValue.count ?? 0).trimmingCharacters(in: .whitespaces)
        guard let count = Int(number), count >= (comparison == .every ? 1 : 0) else { return nil }
        self.comparison = comparison ?? .equal
        self.count = count
    }

    func allows(hit: Int) -> Bool {
        switch comparison {
        case .atLeast: hit >= count
        case .atMost: hit <= count
        case .equal: hit == count
        case .greater: hit > count
        case .less: hit < count
        case .every: hit % count == 0
        }
    }
}

/// The pieces of a log message: literal text and `{expression}` holes. `{{` and `}}` are literal braces.
enum LogMessagePiece: Equatable {
    case text(String)
    case expression(String, offset: Int)

    static func parse(_ message: String) throws -> [LogMessagePiece] {
        var pieces: [LogMessagePiece] = []
        var literal = ""
        var characters = Array(message)[...]
        var offset = 0
        while let character = characters.popFirst() {
            offset += 1
            if character == "{", characters.first == "{" { characters.removeFirst(); offset += 1; literal.append("{"); continue }
            if character == "}", characters.first == "}" { characters.removeFirst(); offset += 1; literal.append("}"); continue }
            if character == "}" {
                throw DebugError.invalidArgument(field: "logMessage", message: "unmatched '}' at position \(offset - 1)")
            }
            guard character == "{" else { literal.append(character); continue }
            guard let close = characters.firstIndex(of: "}") else {
                throw DebugError.invalidArgument(field: "logMessage", message: "unclosed '{' at position \(offset - 1)")
            }
            if !literal.isEmpty { pieces.append(.text(literal)); literal = "" }
            pieces.append(.expression(String(characters[..<close]), offset: offset))
            offset += characters.distance(from: characters.startIndex, to: close) + 1
            characters = characters[characters.index(after: close)...]
        }
        if !literal.isEmpty { pieces.append(.text(literal)) }
        return pieces
    }
}

/// Resolves a hook name or glob against the model's hook points, with the message a user needs when it fails.
func resolveHooks(_ text: String, in hookPoints: [HookPoint], field: String) -> Result<[Int], DebugError> {
    let pattern = HookPattern(text)
    let matched = hookPoints.indices.filter { pattern.matches(hookPoints[$0]) }
    if !matched.isEmpty { return .success(matched) }
    if !text.contains("*") {
        return .failure(.unknownHook(text, field: field))
    }
    return .failure(.invalidArgument(field: field, message: "'\(text)' matches no hook point of this model"))
}
