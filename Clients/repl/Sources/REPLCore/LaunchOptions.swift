/// The command line of `lmdbg-repl`.
public struct LaunchOptions: Equatable, Sendable {
    /// Loaded at start.
    public var model: String?
    /// The server executable; found beside the REPL or on PATH when nil.
    public var server: String?
    /// A file of commands to run instead of reading the terminal.
    public var script: String?
    /// The prompt `run` uses when given none.
    public var prompt: String?
    /// Commands run at start, in order, before the script or the terminal (`--ex`, as gdb's `-ex`).
    public var startCommands: [String] = []
    public var showHelp = false

    public init(model: String? = nil, server: String? = nil, script: String? = nil, prompt: String? = nil) {
        self.model = model
        self.server = server
        self.script = script
        self.prompt = prompt
    }

    public static let usage = """
        usage: lmdbg-repl [--model NAME|PATH] [--server PATH] [-x FILE] [--prompt TEXT] [--ex COMMAND]...
          --model NAME|PATH  load this model at start
          --server PATH      the lmdbg server to start (default: lmdbg beside lmdbg-repl, else on PATH)
          -x FILE            run the commands in FILE, then quit; the exit status is 1 if any failed
          --prompt TEXT      the prompt 'run' uses when given none
          --ex COMMAND       run COMMAND at start (repeatable), e.g. --ex "break blocks.12.hook_resid_post" --ex run
        """

    /// Accepts `--option VALUE` and `--option=VALUE`.
    public static func parse(_ arguments: [String]) throws(CommandError) -> LaunchOptions {
        var options = LaunchOptions()
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            if argument == "-h" || argument == "--help" {
                options.showHelp = true
                continue
            }
            let name: String, inlineValue: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            } else {
                name = argument
                inlineValue = nil
            }
            guard ["--model", "--server", "-x", "--prompt", "--ex"].contains(name) else {
                throw CommandError("unknown option '\(argument)'")
            }
            guard let value = inlineValue ?? remaining.popFirst() else { throw CommandError("\(name) needs a value") }
            switch name {
            case "--model": options.model = value
            case "--server": options.server = value
            case "-x": options.script = value
            case "--ex": options.startCommands.append(value)
            default: options.prompt = value
            }
        }
        return options
    }
}
