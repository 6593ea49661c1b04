import ArgumentParser

/// The `lmdbg` command: the debugger server by default, plus tools that run the engine directly.
@main
struct LMDBG: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lmdbg",
        abstract: "A debugger for transformer language models.",
        discussion: """
        With no subcommand, lmdbg serves its JSON-RPC debugging protocol on stdin/stdout (see Protocol/).
        --model takes a shipped model's name (see `lmdbg models`), a file name in $LMDBG_MODELS, or a path.
        """,
        version: "0.1.0",
        subcommands: [Serve.self, Trace.self, Tokenize.self, Models.self, Demo.self, Bench.self],
        defaultSubcommand: Serve.self
    )
}
