import Foundation
import Testing
@testable import REPLCore

/// `lmdbg-repl` on a pseudo-terminal: a detached tmux session, driven with `send-keys`, read with `capture-pane`.
final class TmuxSession {
    let name = "lmdbg-repl-test-\(UUID().uuidString.prefix(8))"

    init(command: String) throws {
        try Self.tmux(["new-session", "-d", "-s", name, "-x", "150", "-y", "60", command])
    }

    deinit {
        _ = try? Self.tmux(["kill-session", "-t", name])
    }

    static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") }

    /// Runs tmux and waits for it; its output when `capture`.
    @discardableResult
    static func tmux(_ arguments: [String], capture: Bool = false) throws -> String {
        let process = try ServerProcess(executable: "/usr/bin/tmux", arguments: arguments)
        process.closeInput()
        var output: [UInt8] = []
        if capture {
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = read(process.output, &buffer, buffer.count)
                guard count > 0 else { break }
                output += buffer[..<count]
            }
        }
        close(process.output)
        if process.waitForExit(timeout: 30) == nil { process.kill() }
        return String(decoding: output, as: UTF8.self)
    }

    /// Keys as `tmux send-keys` names them: text, or `Tab`, `Enter`, `C-a`, `Up` …
    func send(_ keys: String...) throws {
        try Self.tmux(["send-keys", "-t", name] + keys)
    }

    /// Literal text.
    func type(_ text: String) throws {
        try Self.tmux(["send-keys", "-t", name, "-l", text])
    }

    var screen: String { (try? Self.tmux(["capture-pane", "-p", "-t", name, "-S", "-200"], capture: true)) ?? "" }

    /// Waits until the screen satisfies `condition`; records an issue with the screen if it never does.
    func waitFor(_ what: String, timeout: Double = 90, _ condition: (String) -> Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(screen) { return }
            usleep(50_000)
        }
        Issue.record("timed out waiting for \(what); the screen:\n\(screen)")
    }

    func waitFor(_ text: String, timeout: Double = 90) {
        waitFor("'\(text)'", timeout: timeout) { $0.contains(text) }
    }

    /// How often `text` is on the screen.
    func count(_ text: String) -> Int { screen.components(separatedBy: text).count - 1 }
}

@Suite(.serialized, .enabled(if: Products.modelExists && TmuxSession.available, "needs tmux and SmolLM2"))
struct TerminalTests {
    @Test func editingCompletionHistoryInterruptAndQuit() throws {
        let history = FileManager.default.temporaryDirectory.appendingPathComponent("lmdbg-history-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: history) }
        try "load elsewhere\n".write(to: history, atomically: true, encoding: .utf8)
        let session = try TmuxSession(command: "env LMDBG_HISTORY=\(history.path) \(Products.repl) --server \(Products.server)"
                                      + " --model \(Products.model); echo \"exit status $?\"; sleep 600")
        session.waitFor("Type help for the commands.")
        session.waitFor("loaded SmolLM2-135M-Instruct.Q4_1")

        // Completion: the common prefix first, then the candidates, then a unique one.
        try session.type("break blocks.3.hook_res")
        try session.send("Tab")
        session.waitFor("(lmdbg) break blocks.3.hook_resid_")
        try session.send("Tab")
        session.waitFor("candidates") { $0.contains("blocks.3.hook_resid_pre") && $0.contains("blocks.3.hook_resid_post") }
        try session.type("po")
        try session.send("Tab", "Enter")
        session.waitFor("breakpoint 1 at blocks.3.hook_resid_post (1 hook)")

        try session.type("run -n 400 Once upon a time")
        try session.send("Enter")
        session.waitFor("stopped at blocks.3.hook_resid_post (layer 3, token step 0")

        // Editing: a method completed, a line fixed at its start, words and lines killed.
        try session.type("p x.no")
        try session.send("Tab")
        try session.type(")")
        try session.send("Enter")
        session.waitFor("(lmdbg) p x.norm()")
        try session.type("rint x.norm(")
        try session.send("C-a")
        try session.type("p")
        try session.send("C-e")
        try session.type(")")
        try session.send("Enter")
        session.waitFor("(lmdbg) print x.norm()")
        try session.type("some words")
        try session.send("C-w", "C-u")
        try session.type("bt")
        try session.send("Enter")
        session.waitFor("#2  prompt  (token step 0)")

        // History: Up twice recalls the print.
        try session.send("Up", "Up", "Enter")
        session.waitFor("the print again") { $0.components(separatedBy: "(lmdbg) print x.norm()").count == 3 }
        let norms = session.screen.split(separator: "\n").filter { Double($0) != nil }
        #expect(norms.count == 3 && Set(norms).count == 1, "\(session.screen)")

        // Ctrl-C while running pauses; at the prompt it drops the line.
        try session.type("delete")
        try session.send("Enter")
        session.waitFor("all breakpoints deleted")
        try session.type("continue")
        try session.send("Enter")
        usleep(500_000)
        try session.send("C-c")
        session.waitFor("paused") { $0.contains("pausing…") && $0.contains(": paused") }
        try session.type("half a line")
        try session.send("C-c")
        session.waitFor("(lmdbg) half a line^C")

        // Ctrl-D quits: the server shuts down, the REPL exits 0, the history is kept.
        try session.send("C-d")
        session.waitFor("exit status 0")
        let lines = try String(contentsOf: history, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "load elsewhere")
        #expect(lines.contains("break blocks.3.hook_resid_post") && lines.contains("bt") && lines.contains("print x.norm()"))
        #expect(!lines.contains("half a line"))
    }
}
