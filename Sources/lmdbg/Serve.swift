import ArgumentParser
import DAPServer
import Foundation
import LMDebugServer
import Tensors

/// `lmdbg serve` (the default): the JSON-RPC debugging protocol on stdin/stdout.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the lmdbg debugging protocol (JSON-RPC 2.0, Content-Length framing) on stdin/stdout.",
        discussion: "stdout carries only protocol messages; logs go to stderr. See Protocol/README.md."
    )

    @Option(help: "Megabytes of activations a run may record for step back and reads.")
    var memoryBudget = 256

    @Option(help: "Threads the engine computes on.")
    var threads = 2

    @Flag(help: "Speak the Debug Adapter Protocol instead (for VS Code, nvim-dap and other DAP clients).")
    var dap = false

    func validate() throws {
        guard memoryBudget > 0 else { throw ValidationError("--memory-budget must be positive") }
    }

    func run() throws {
        Threads.count = threads
        if dap {
            throw ExitCode(runDAPServer(input: STDIN_FILENO, output: STDOUT_FILENO,
                                        options: DAPOptions(memoryBudget: memoryBudget << 20)))
        }
        let options = ServerOptions(memoryBudget: memoryBudget << 20)
        throw ExitCode(runServer(input: STDIN_FILENO, output: STDOUT_FILENO, options: options))
    }
}
