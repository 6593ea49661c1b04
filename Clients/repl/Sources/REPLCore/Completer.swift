import LMDebugProtocol

/// The candidates for the word at the cursor, and where that word starts (a character offset in the line).
public struct Completion: Equatable, Sendable {
    public var start: Int
    public var candidates: [String]

    /// What to put in place of the word: the candidates' longest common prefix, with a blank after a
    /// single candidate that is a whole word (not one ending in `.` or `(`).
    public var replacement: String? {
        guard let first = candidates.first else { return nil }
        var prefix = first
        for candidate in candidates.dropFirst() {
            prefix = String(zip(prefix, candidate).prefix { $0 == $1 }.map(\.0))
        }
        if candidates.count == 1, let last = first.last, last != ".", last != "(" { prefix += " " }
        return prefix
    }
}

/// Tab completion: command names, then each command's words, hook names and hook globs, and the names an
/// expression can use.
public struct Completer: Sendable {
    /// The loaded model's hook points, in forward order.
    public var hookNames: [String]

    public init(hookNames: [String] = []) {
        self.hookNames = hookNames
    }

    /// Hook names, and the globs over layers they suggest (`blocks.*.hook_resid_post`), in that order.
    public var hookCandidates: [String] {
        var seen = Set<String>()
        let globs = hookNames.map(layerGlob).filter { $0.contains("*") }
        return (hookNames + globs).filter { seen.insert($0).inserted }
    }

    /// `blocks.12.attn.hook_q` → `blocks.*.attn.hook_q`.
    private func layerGlob(_ name: String) -> String {
        var parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count > 2, parts[0] == "blocks", Int(parts[1]) != nil { parts[1] = "*" }
        return parts.joined(separator: ".")
    }

    /// Names an expression may start with, besides hook names.
    static let variables = ["x", "layer", "tokenStep", "positions", "tokens"]
    /// Functions, also callable as methods (`x.norm()`).
    static let functions = ["norm", "mean", "sum", "max", "min", "std", "argmax", "argmin", "any", "all", "abs", "sqrt",
                            "exp", "log", "isnan", "isinf", "shape", "len", "softmax", "topk", "lens", "dot", "cos",
                            "token", "tokens"]

    public func complete(_ line: String, cursor: Int) -> Completion {
        let before = Array(line.prefix(cursor))
        var words = String(before).split(whereSeparator: \.isWhitespace).map(String.init)
        let current = (before.last?.isWhitespace ?? true) ? "" : words.removeLast()
        let start = before.count - current.count
        guard let commandWord = words.first else {
            let names = CommandParser.commands.map(\.name)
            return Completion(start: start, candidates: names.filter { $0.hasPrefix(current) })
        }
        guard let command = try? CommandParser.command(named: commandWord) else { return Completion(start: start, candidates: []) }
        let arguments = Array(words.dropFirst())

        func choose(_ choices: [String]) -> Completion {
            Completion(start: start, candidates: choices.filter { $0.hasPrefix(current) })
        }
        func expression() -> Completion {
            let (offset, candidates) = expressionCandidates(current)
            return Completion(start: start + offset, candidates: candidates)
        }

        switch command.name {
        case "break":
            if arguments.isEmpty { return choose(hookCandidates) }
            if arguments.contains("if") || arguments.contains("log") { return expression() }
            return choose(["hits", "if", "log"])
        case "patch":
            if arguments.isEmpty { return choose(["clear"] + hookCandidates) }
            if arguments[0] == "clear" { return choose([]) }
            let operations = ["zero", "mean", "scale", "add", "set", "project-out", "resample"]
            if let operation = arguments.first(where: operations.contains) {
                return ["add", "set", "project-out"].contains(operation) ? expression() : choose([])
            }
            if arguments.last == "at" { return choose(["all", "prompt", "generated"]) }
            if arguments.last == "heads" { return choose([]) }
            return choose((arguments.contains("at") || arguments.contains("heads") ? [] : ["at"])
                          + (arguments.contains("heads") ? [] : ["heads"]) + operations)
        case "info":
            if arguments.isEmpty { return choose(["breakpoints", "patches", "model", "hooks", "catch"]) }
            return arguments.count == 1 && "hooks".hasPrefix(arguments[0]) ? choose(hookCandidates) : choose([])
        case "next":
            return arguments.isEmpty ? choose(SteppingGranularity.allCases.map(\.rawValue)) : choose([])
        case "catch":
            return arguments.isEmpty ? choose(ExceptionFilter.allCases.map(\.rawValue) + ["clear"]) : choose([])
        case "help":
            return arguments.isEmpty ? choose(CommandParser.commands.map(\.name)) : choose([])
        case "print", "lens":
            return expression()
        default:
            return choose([])
        }
    }

    /// Completes the name at the end of an expression word: a variable or a hook name, or a method after a
    /// dot (`x[-1].no` → `x[-1].norm(`). Returns where the completed part starts within `word`.
    func expressionCandidates(_ word: String) -> (offset: Int, candidates: [String]) {
        let name = String(word.reversed().prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }.reversed())
        let offset = word.count - name.count
        let names = (Self.variables + hookNames).filter { $0.hasPrefix(name) }
            + Self.functions.map { $0 + "(" }.filter { $0.hasPrefix(name) }
        var methods: [String] = []
        if let dot = name.lastIndex(of: ".") {
            let base = name[..<dot], partial = name[name.index(after: dot)...]
            let isValue = base.isEmpty || Self.variables.contains(String(base)) || hookNames.contains(String(base))
            if isValue {
                methods = Self.functions.filter { $0.hasPrefix(partial) }.map { base + "." + $0 + "(" }
            }
        }
        var seen = Set<String>()
        return (offset, (names + methods).filter { seen.insert($0).inserted })
    }
}
