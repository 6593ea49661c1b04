import JSONRPC
import LMDebugProtocol

/// A REPL command: its names, its help, and how its arguments parse.
public struct CommandInfo: Sendable {
    public let name: String
    public let aliases: [String]
    public let usage: String
    public let summary: String
    /// Further help lines for `help NAME`.
    public let details: [String]
    let parse: @Sendable (inout ArgumentScanner) throws(CommandError) -> Command
}

/// Turns lines into commands. A command word may be a name, an alias, or a prefix of exactly one name
/// (`cont`, `del`, `inf`).
public enum CommandParser {
    /// nil for a blank line or a comment (`# …`).
    public static func parse(_ line: String) throws(CommandError) -> Command? {
        var scanner = ArgumentScanner(Substring(line))
        guard let word = scanner.word(), !word.hasPrefix("#") else { return nil }
        let info = try command(named: word)
        return try info.parse(&scanner)
    }

    /// The command a word names: a name, an alias, or an unambiguous prefix of a name.
    public static func command(named word: String) throws(CommandError) -> CommandInfo {
        if let exact = commands.first(where: { $0.name == word || $0.aliases.contains(word) }) { return exact }
        let matches = commands.filter { $0.name.hasPrefix(word) }
        if matches.count == 1 { return matches[0] }
        if matches.isEmpty { throw CommandError("unknown command '\(word)'; try 'help'") }
        throw CommandError("ambiguous command '\(word)': \(matches.map(\.name).joined(separator: ", "))")
    }

    /// Every command, in the order `help` lists them.
    public static let commands: [CommandInfo] = [
        CommandInfo(name: "load", aliases: [], usage: "load MODEL",
                    summary: "load a model by name (from the server's model directory) or by path",
                    details: ["A MODEL containing '/' or ending in .gguf is a path; others are names, e.g. SmolLM2-135M-Instruct.Q4_1."]) { args throws(CommandError) in
            guard !args.isAtEnd else { throw CommandError("usage: load MODEL") }
            return .load(args.rest())
        },
        CommandInfo(name: "run", aliases: ["r"], usage: "run [-n TOKENS] [PROMPT]",
                    summary: "start a run of the prompt (the last one when omitted) and wait for a stop",
                    details: ["-n TOKENS generates that many tokens after the prompt pass (default 0).",
                              "Quote the prompt (\"…\") to keep blanks or to write \\n."]) { args throws(CommandError) in
            try parseRun(&args, stopOnEntry: false)
        },
        CommandInfo(name: "start", aliases: [], usage: "start [-n TOKENS] [PROMPT]",
                    summary: "like run, but stop on entry, before the first hook",
                    details: []) { args throws(CommandError) in
            try parseRun(&args, stopOnEntry: true)
        },
        CommandInfo(name: "restart", aliases: [], usage: "restart",
                    summary: "run the last prompt again with the same settings", details: []) { args throws(CommandError) in
            try noArguments(&args, "restart")
            return .restart
        },
        CommandInfo(name: "break", aliases: ["b"], usage: "break HOOK [hits N] [if COND | log MESSAGE]",
                    summary: "stop (or log) at a hook point or a glob of them",
                    details: ["HOOK is a hook name or a glob: blocks.3.hook_resid_post, blocks.*.attn.hook_pattern.",
                              "hits N stops at the N-th hit only; also >= N, > N, <= N, < N, % N (every N-th).",
                              "if COND stops only when the expression is true, e.g. if x.norm() > 100.",
                              "log MESSAGE prints MESSAGE instead of stopping; {EXPR} in it is replaced by its value."]) { args throws(CommandError) in
            try parseBreak(&args)
        },
        CommandInfo(name: "delete", aliases: ["d"], usage: "delete [ID…]",
                    summary: "delete breakpoints (all when no ID is given)", details: []) { args throws(CommandError) in
            .delete(try integers(&args, what: "breakpoint number"))
        },
        CommandInfo(name: "info", aliases: ["i"], usage: "info breakpoints|patches|model|hooks [GLOB]|catch",
                    summary: "show breakpoints, patches, the model, its hook points, or the exception filters",
                    details: []) { args throws(CommandError) in
            try parseInfo(&args)
        },
        CommandInfo(name: "continue", aliases: ["c"], usage: "continue",
                    summary: "resume until the next breakpoint or the end of the run", details: []) { args throws(CommandError) in
            try noArguments(&args, "continue")
            return .resume(.continueRun)
        },
        CommandInfo(name: "next", aliases: ["n"], usage: "next [hook|layer|token]",
                    summary: "stop one hook (default), layer or token step further", details: []) { args throws(CommandError) in
            guard let word = args.word() else { return .resume(.next(.hook)) }
            try noArguments(&args, "next")
            return .resume(.next(try oneOf(word, SteppingGranularity.allCases, what: "granularity")))
        },
        CommandInfo(name: "step", aliases: ["s"], usage: "step",
                    summary: "stop at the next hook point", details: []) { args throws(CommandError) in
            try noArguments(&args, "step")
            return .resume(.stepIn)
        },
        CommandInfo(name: "finish", aliases: [], usage: "finish",
                    summary: "stop at the end of the current layer (or token step)", details: []) { args throws(CommandError) in
            try noArguments(&args, "finish")
            return .resume(.stepOut)
        },
        CommandInfo(name: "back", aliases: [], usage: "back",
                    summary: "step back to the previous recorded hook point", details: []) { args throws(CommandError) in
            try noArguments(&args, "back")
            return .resume(.stepBack)
        },
        CommandInfo(name: "print", aliases: ["p"], usage: "print EXPR",
                    summary: "evaluate an expression at the stop: x, layer, tokenStep, hook names, x[-1].norm() …",
                    details: ["Tensors show their shape, norm, mean, min, max, largest elements and a sparkline per row."]) { args throws(CommandError) in
            guard !args.isAtEnd else { throw CommandError("usage: print EXPR") }
            return .print(args.rest())
        },
        CommandInfo(name: "lens", aliases: [], usage: "lens [EXPR]",
                    summary: "logit lens: the tokens a residual vector (default x[-1]) predicts", details: []) { args throws(CommandError) in
            args.isAtEnd ? .lens(nil) : .lens(args.rest())
        },
    ] + analysisCommands + [
        CommandInfo(name: "patch", aliases: [], usage: "patch HOOK [at POSITIONS] [heads H,…] OP | patch clear [ID…]",
                    summary: "add an intervention (applies to this and later runs), or clear patches",
                    details: ["OP is zero, mean, scale K, add VEC, set VALUE, project-out VEC, or resample PROMPT;",
                              "with an SAE loaded, also ablate-features I,… or steer-features I,… [scale K] [sae ID].",
                              "VEC and VALUE are numbers like [1, 0, -2], or an expression read at the current stop.",
                              "POSITIONS is all, prompt, generated, or positions like 0,3 or 2:5 (2, 3, 4)."]) { args throws(CommandError) in
            try parsePatch(&args)
        },
        CommandInfo(name: "bt", aliases: ["backtrace", "where"], usage: "bt",
                    summary: "show the frames of the stop: hook, layer, token step", details: []) { args throws(CommandError) in
            try noArguments(&args, "bt")
            return .backtrace
        },
        CommandInfo(name: "catch", aliases: [], usage: "catch [nan|inf|massive [THRESHOLD]|clear]",
                    summary: "stop where an activation holds a NaN, an infinity, or |x| > THRESHOLD (default 1e4)",
                    details: ["Without arguments, shows the filters in force."]) { args throws(CommandError) in
            try parseCatch(&args)
        },
        CommandInfo(name: "tokenize", aliases: [], usage: "tokenize TEXT",
                    summary: "show how the model tokenizes a text", details: []) { args throws(CommandError) in
            guard !args.isAtEnd else { throw CommandError("usage: tokenize TEXT") }
            return .tokenize(args.rest())
        },
        CommandInfo(name: "help", aliases: ["h", "?"], usage: "help [COMMAND]",
                    summary: "list the commands, or explain one", details: []) { args throws(CommandError) in
            args.isAtEnd ? .help(nil) : .help(args.rest())
        },
        CommandInfo(name: "quit", aliases: ["q", "exit"], usage: "quit",
                    summary: "shut the server down and leave (also Ctrl-D)", details: []) { args throws(CommandError) in
            try noArguments(&args, "quit")
            return .quit
        },
    ]

    // MARK: Arguments

    private static func noArguments(_ args: inout ArgumentScanner, _ name: String) throws(CommandError) {
        if let extra = args.word() { throw CommandError("\(name) takes no arguments (got '\(extra)')") }
    }

    private static func parseRun(_ args: inout ArgumentScanner, stopOnEntry: Bool) throws(CommandError) -> Command {
        var maxNewTokens: Int?
        if args.peek == "-n" {
            _ = args.word()
            guard let word = args.word(), let count = Int(word), count >= 0 else {
                throw CommandError("-n needs a number of tokens ≥ 0")
            }
            maxNewTokens = count
        }
        let prompt = args.rest()
        return .run(prompt: prompt.isEmpty ? nil : prompt, maxNewTokens: maxNewTokens, stopOnEntry: stopOnEntry)
    }

    private static func parseBreak(_ args: inout ArgumentScanner) throws(CommandError) -> Command {
        guard let hook = args.word(), !["if", "log", "hits"].contains(hook) else {
            throw CommandError("usage: break HOOK [hits N] [if COND | log MESSAGE]")
        }
        var breakpoint = SourceBreakpoint(hook: hook)
        if args.peek == "hits" {
            _ = args.word()
            var words: [String] = []
            while let next = args.peek, next != "if", next != "log" { words.append(args.word()!) }
            let hitCondition = words.joined(separator: " ")
            guard isHitCondition(hitCondition) else {
                throw CommandError("hits needs N, >= N, > N, <= N, < N or % N (got '\(hitCondition)')")
            }
            breakpoint.hitCondition = hitCondition
        }
        switch args.word() {
        case nil: break
        case "if"?:
            let condition = args.rest()
            guard !condition.isEmpty else { throw CommandError("if needs a condition, e.g. if x.norm() > 100") }
            breakpoint.condition = condition
        case "log"?:
            let message = args.rest()
            guard !message.isEmpty else { throw CommandError("log needs a message, e.g. log norm={x.norm()}") }
            breakpoint.logMessage = message
        case let other?:
            throw CommandError("expected hits, if or log after the hook, not '\(other)'")
        }
        return .setBreakpoint(breakpoint)
    }

    /// `5`, `>= 3`, `%2` …: what the server accepts as a hit condition.
    static func isHitCondition(_ text: String) -> Bool {
        var rest = Substring(text)
        for comparison in [">=", "<=", "==", ">", "<", "%"] where rest.hasPrefix(comparison) {
            rest = rest.dropFirst(comparison.count)
            break
        }
        rest = rest.drop(while: \.isWhitespace)
        return !rest.isEmpty && rest.allSatisfy(\.isASCII) && rest.allSatisfy(\.isNumber)
    }

    private static func parseInfo(_ args: inout ArgumentScanner) throws(CommandError) -> Command {
        let topics = ["breakpoints", "patches", "model", "hooks", "catch"]
        guard let word = args.word() else { throw CommandError("usage: info breakpoints|patches|model|hooks [GLOB]|catch") }
        let topic = try oneOf(word, topics, what: "info topic")
        if topic == "hooks" {
            guard let pattern = args.word() else { return .info(.hooks(pattern: nil)) }
            try noArguments(&args, "info hooks GLOB")
            return .info(.hooks(pattern: pattern))
        }
        try noArguments(&args, "info \(topic)")
        switch topic {
        case "breakpoints": return .info(.breakpoints)
        case "patches": return .info(.patches)
        case "model": return .info(.model)
        default: return .info(.catchpoints)
        }
    }

    private static func parseCatch(_ args: inout ArgumentScanner) throws(CommandError) -> Command {
        guard let word = args.word() else { return .exceptionFilters(.show) }
        if word == "clear" {
            try noArguments(&args, "catch clear")
            return .exceptionFilters(.clear)
        }
        let filter = try oneOf(word, ExceptionFilter.allCases, what: "exception filter (or clear)")
        var threshold: Double?
        if let text = args.word() {
            guard filter == .massive else { throw CommandError("only catch massive takes a threshold") }
            guard let value = Double(text), value > 0, value.isFinite else {
                throw CommandError("the threshold must be a positive number, not '\(text)'")
            }
            threshold = value
            try noArguments(&args, "catch massive THRESHOLD")
        }
        return .exceptionFilters(.add(filter, threshold: threshold))
    }

    private static func parsePatch(_ args: inout ArgumentScanner) throws(CommandError) -> Command {
        let usage = "usage: patch HOOK [at POSITIONS] [heads H,…] zero|mean|scale K|add VEC|set VALUE|project-out VEC|resample PROMPT"
            + "|ablate-features I,…|steer-features I,…"
        guard let hook = args.word() else { throw CommandError(usage) }
        if hook == "clear" { return .clearPatches(try integers(&args, what: "patch id")) }
        var patch = PatchCommand(hook: hook, action: .zero)
        if args.peek == "at" {
            _ = args.word()
            guard let text = args.word() else { throw CommandError("at needs positions: all, prompt, generated, 0,3 or 2:5") }
            patch.positions = try positions(text)
        }
        if args.peek == "heads" {
            _ = args.word()
            guard let text = args.word() else { throw CommandError("heads needs head numbers, e.g. heads 0,3") }
            patch.heads = try numberList(text, what: "head").sorted()
        }
        guard let operation = args.word() else { throw CommandError(usage) }
        switch operation {
        case "zero":
            try noArguments(&args, "patch … zero")
            patch.action = .zero
        case "mean":
            try noArguments(&args, "patch … mean")
            patch.action = .mean
        case "scale":
            guard let text = args.word(), let factor = Double(text), factor.isFinite else {
                throw CommandError("scale needs a factor, e.g. scale 0.5")
            }
            try noArguments(&args, "patch … scale K")
            patch.action = .scale(factor)
        case "add", "set", "project-out", "projectOut":
            let operand = args.rest()
            guard !operand.isEmpty else { throw CommandError("\(operation) needs a tensor: numbers like [1, 0, -2] or an expression") }
            let tensor = tensorOperand(operand)
            patch.action = operation == "add" ? .add(tensor) : operation == "set" ? .set(tensor) : .projectOut(tensor)
        case "resample":
            let prompt = args.rest()
            guard !prompt.isEmpty else { throw CommandError("resample needs a prompt") }
            patch.action = .resample(prompt: prompt)
        case "ablate-features", "steer-features":
            patch.action = try parseFeaturePatch(operation, &args)
        default:
            throw CommandError("unknown patch operation '\(operation)'; use zero, mean, scale, add, set, project-out, resample, "
                               + "ablate-features or steer-features")
        }
        return .patch(patch)
    }

    /// `all`, `prompt`, `generated`, or positions and half-open ranges: `0,3`, `2:5`, `0:2,7`.
    static func positions(_ text: String) throws(CommandError) -> PatchPositions {
        switch text {
        case "all": return .all
        case "prompt": return .prompt
        case "generated": return .generated
        default: return .list(try numberList(text, what: "position"))
        }
    }

    /// `1,4,6` or ranges `2:5` (2, 3, 4), numbers ≥ 0.
    private static func numberList(_ text: String, what: String) throws(CommandError) -> [Int] {
        var numbers: [Int] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = item.split(separator: ":", omittingEmptySubsequences: false)
            guard bounds.count <= 2, let lower = Int(bounds[0]), lower >= 0 else {
                throw CommandError("bad \(what) '\(item)': expected a number ≥ 0 or a range like 2:5")
            }
            guard bounds.count == 2 else {
                numbers.append(lower)
                continue
            }
            guard let upper = Int(bounds[1]), upper > lower else {
                throw CommandError("bad \(what) range '\(item)': expected START:END with END > START")
            }
            numbers += lower..<upper
        }
        return numbers
    }

    /// Numbers (a nested, rectangular list) are a literal; anything else is an expression.
    static func tensorOperand(_ text: String) -> TensorOperand {
        guard text.hasPrefix("["), let value = try? JSONValue(parsing: text),
              let (shape, values) = rectangular(value) else { return .expression(text) }
        return .literal(shape: shape, values: values)
    }

    private static func rectangular(_ value: JSONValue) -> (shape: [Int], values: [Float])? {
        switch value {
        case .integer(let number): return ([], [Float(number)])
        case .double(let number): return ([], [Float(number)])
        case .array(let elements):
            let parts = elements.map(rectangular)
            guard !parts.isEmpty, let first = parts[0], parts.allSatisfy({ $0?.shape == first.shape }) else { return nil }
            return ([parts.count] + first.shape, parts.flatMap { $0!.values })
        default: return nil
        }
    }

    private static func integers(_ args: inout ArgumentScanner, what: String) throws(CommandError) -> [Int] {
        var numbers: [Int] = []
        while let word = args.word() {
            guard let number = Int(word), number >= 0 else { throw CommandError("bad \(what) '\(word)'") }
            numbers.append(number)
        }
        return numbers
    }

    /// The choice a word names or is a unique prefix of.
    private static func oneOf(_ word: String, _ choices: [String], what: String) throws(CommandError) -> String {
        if choices.contains(word) { return word }
        let matches = choices.filter { $0.hasPrefix(word) }
        guard matches.count == 1 else {
            throw CommandError("bad \(what) '\(word)'; expected \(choices.joined(separator: ", "))")
        }
        return matches[0]
    }

    private static func oneOf<Choice: RawRepresentable<String>>(_ word: String, _ choices: [Choice], what: String) throws(CommandError) -> Choice {
        Choice(rawValue: try oneOf(word, choices.map(\.rawValue), what: what))!
    }
}
