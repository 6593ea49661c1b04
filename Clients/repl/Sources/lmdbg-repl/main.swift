import Foundation
import REPLCore

// lmdbg-repl: a gdb-like REPL for the lmdbg server, which it starts as a child process.

let options: LaunchOptions
do {
    options = try LaunchOptions.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    FileHandle.standardError.write(Data("lmdbg-repl: \(error)\n\(LaunchOptions.usage)\n".utf8))
    exit(2)
}
if options.showHelp {
    print(LaunchOptions.usage)
    exit(0)
}
guard let serverPath = ServerProcess.locate(explicit: options.server) else {
    FileHandle.standardError.write(Data("lmdbg-repl: cannot find the lmdbg server beside lmdbg-repl or on PATH; use --server PATH\n".utf8))
    exit(2)
}

signal(SIGPIPE, SIG_IGN)
let prompt = "(lmdbg) "
let terminal = options.script == nil && isatty(STDOUT_FILENO) == 1 ? Terminal() : nil
let console = Console.standardOutput(isTerminal: isatty(STDOUT_FILENO) == 1)
let repl = REPL(console: console)

let server: ServerProcess
do {
    server = try ServerProcess(executable: serverPath)
} catch {
    FileHandle.standardError.write(Data("lmdbg-repl: \(error)\n".utf8))
    exit(2)
}
let connection = ServerConnection(
    input: server.output, output: server.input,
    onNotification: { method, params, serial in repl.handleNotification(method: method, params: params, serial: serial) },
    onClose: { reason in repl.handleClose(reason: reason) })
repl.attach(connection)
connection.start()

/// Shuts the server down (`shutdown`, `exit`), waits for it, and leaves with `status`.
func finish(_ status: Int32) -> Never {
    if connection.closed == nil { try? repl.shutdown() }
    server.closeInput()
    if server.waitForExit(timeout: 5) == nil { server.kill() }
    exit(status)
}

do {
    try repl.initialize()
} catch {
    console.line("error: cannot initialize \(serverPath): \(error)")
    finish(2)
}
if terminal != nil { console.line("lmdbg-repl: connected to \(serverPath). Type help for the commands.") }

// Ctrl-C while a command runs pauses the run or cancels the request; at the terminal's prompt the line
// editor sees it as a key instead. Reading a script or a pipe, a Ctrl-C with nothing to interrupt quits.
signal(SIGINT, SIG_IGN)
let interrupts = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
interrupts.setEventHandler {
    if !repl.interrupt() && terminal == nil { finish(130) }
}
interrupts.resume()

var failed = false
if let prompt = options.prompt { repl.setDefaultPrompt(prompt) }
if let model = options.model {
    do {
        _ = try repl.execute(.load(model))
    } catch {
        console.line("error: \(error)")
        failed = true
    }
}
if !options.startCommands.isEmpty {
    var commands = options.startCommands[...]
    failed = repl.runCommands(prompt: prompt, echo: true) { commands.popFirst() } || failed
}

if let script = options.script {
    guard let text = try? String(contentsOfFile: script, encoding: .utf8) else {
        console.line("error: cannot read \(script)")
        finish(2)
    }
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)[...]
    failed = repl.runCommands(prompt: prompt, echo: true) { lines.popFirst() } || failed
    finish(failed ? 1 : 0)
} else if let terminal {
    let input = InteractiveInput(terminal: terminal, console: console, history: History(file: History.defaultFile()),
                                 prompt: prompt) { repl.completer }
    _ = repl.runCommands(prompt: prompt, echo: false) {
        let line = input.readLine()
        if line == nil { console.line("quit") }
        return line
    }
    finish(0)
} else {
    failed = repl.runCommands(prompt: prompt, echo: true) { readLine(strippingNewline: true) } || failed
    finish(failed ? 1 : 0)
}
