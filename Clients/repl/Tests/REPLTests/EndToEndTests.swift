import Foundation
import JSONRPC
import LMDebugProtocol
import Testing
@testable import REPLCore

/// The built products, beside the test bundle.
enum Products {
    static let directory = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                                   ?? CommandLine.arguments[0]).deletingLastPathComponent()
    static let server = directory.appendingPathComponent("lmdbg").path
    static let repl = directory.appendingPathComponent("lmdbg-repl").path
    static let model = FileManager.default.homeDirectoryForCurrentUser
        .appendingPathComponent(".cache/lmdbg/models/SmolLM2-135M-Instruct.Q4_1.gguf").path
    static var modelExists: Bool { FileManager.default.fileExists(atPath: model) }
}

/// What a finished `lmdbg-repl` printed and how it exited.
struct REPLRun {
    var output: String
    var status: Int32
    var lines: [String] { output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }

    /// The line after the echoed command `command`.
    func answer(to command: String) -> String? {
        guard let index = lines.firstIndex(of: "(lmdbg) " + command), index + 1 < lines.count else { return nil }
        return lines[index + 1]
    }
}

/// Runs `lmdbg-repl` with `arguments` and `input` on its stdin, which is closed once `closeInputWhen`
/// holds for the output so far; `whileRunning` sees the process and the output as it runs.
func runREPL(_ arguments: [String], input: String = "", closeInputWhen: (String) -> Bool = { _ in true },
             whileRunning: ((Process, String) -> Void)? = nil) throws -> REPLRun {
    #expect(FileManager.default.isExecutableFile(atPath: Products.repl), "build lmdbg-repl first")
    #expect(FileManager.default.isExecutableFile(atPath: Products.server), "build lmdbg first")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Products.repl)
    process.arguments = ["--server", Products.server] + arguments
    let stdin = Pipe(), stdout = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    let collected = Transcript()
    stdout.fileHandleForReading.readabilityHandler = { handle in
        collected.append(String(decoding: handle.availableData, as: UTF8.self))
    }
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    var inputOpen = true
    let deadline = Date().addingTimeInterval(240)
    while process.isRunning {
        let output = collected.lines.joined(separator: "\n")
        if inputOpen, closeInputWhen(output) {
            try stdin.fileHandleForWriting.close()
            inputOpen = false
        }
        if Date() > deadline {
            process.terminate()
            Issue.record("lmdbg-repl did not finish in time")
        }
        whileRunning?(process, output)
        usleep(20_000)
    }
    stdout.fileHandleForReading.readabilityHandler = nil
    collected.append(String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    return REPLRun(output: collected.lines.joined(separator: "\n"), status: process.terminationStatus)
}

/// A protocol client of its own, to compute what the REPL should print.
final class ReferenceClient {
    let server: ServerProcess
    let connection: ServerConnection
    private let stops = DispatchSemaphore(value: 0)

    init() throws {
        server = try ServerProcess(executable: Products.server)
        let stops = self.stops
        connection = ServerConnection(input: server.output, output: server.input, onNotification: { method, _, _ in
            if method == StoppedNotification.method { stops.signal() }
        }, onClose: { _ in stops.signal() })
        connection.start()
        _ = try connection.request(InitializeRequest())
        try connection.notify(InitializedNotification())
        _ = try connection.request(LoadModelRequest(.path(Products.model)))
    }

    /// Launches and waits for the first stop; the prompt's token count.
    func runToStop(prompt: String, breakpoint: String) throws -> Int {
        _ = try connection.request(SetBreakpointsRequest(breakpoints: [SourceBreakpoint(hook: breakpoint)]))
        let launched = try connection.request(LaunchRequest(prompt: prompt)).response
        stops.wait()
        return launched.promptTokens.count
    }

    func close() {
        _ = try? connection.request(ShutdownRequest())
        try? connection.notify(ExitNotification())
        server.closeInput()
        if server.waitForExit(timeout: 10) == nil { server.kill() }
    }
}

@Suite(.serialized, .enabled(if: Products.modelExists, "needs SmolLM2-135M-Instruct.Q4_1.gguf in ~/.cache/lmdbg/models"))
struct EndToEndTests {
    static let prompt = "The capital of France is"

    @Test func aScriptStopsPrintsAndMatchesTheServer() throws {
        let reference = try ReferenceClient()
        defer { reference.close() }
        let promptLength = try reference.runToStop(prompt: Self.prompt, breakpoint: "blocks.3.hook_resid_post")
        let activation = try reference.connection.request(ReadTensorRequest(.hook("blocks.3.hook_resid_post"))).response
        let values = try activation.values()
        let norm = values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let lastRow = Array(values.suffix(activation.shape[1]))
        let lens = try reference.connection.request(EvaluateRequest(expression: "lens(x[-1])")).response
        guard case .tokens(let lensTokens)? = lens.value else {
            Issue.record("lens gave no tokens: \(lens)")
            return
        }

        let script = FileManager.default.temporaryDirectory.appendingPathComponent("repl-e2e-\(UUID().uuidString).lmdbg")
        try """
            break blocks.3.hook_resid_post
            run \(Self.prompt)
            print x.norm()
            print x[-1, 7]
            print x[-1]
            lens
            continue
            """.write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        let run = try runREPL(["--model", Products.model, "-x", script.path])

        #expect(run.status == 0, "\(run.output)")
        #expect(run.lines.contains("stopped at blocks.3.hook_resid_post (layer 3, token step 0, positions 0..<\(promptLength)): breakpoint 1"),
                "\(run.output)")
        let printedNorm = try #require(run.answer(to: "print x.norm()").flatMap(Double.init))
        #expect(abs(printedNorm - norm) <= 1e-5 * norm, "REPL \(printedNorm), tensor/read \(norm)")
        let printedElement = try #require(run.answer(to: "print x[-1, 7]").flatMap(Double.init))
        #expect(abs(printedElement - Double(lastRow[7])) <= 1e-5 * max(1, abs(Double(lastRow[7]))))
        // The last row: its statistics, and a sparkline over its range.
        let statistics = Display.Statistics(lastRow)
        #expect(run.answer(to: "print x[-1]") == "tensor[\(lastRow.count)]  norm=\(Display.number(statistics.norm))"
                + " mean=\(Display.number(statistics.mean)) min=\(Display.number(statistics.min)) max=\(Display.number(statistics.max))")
        let sparkline = Sparkline.render(Sparkline.downsample(lastRow, to: Display.sparklineWidth),
                                         low: Float(statistics.min), high: Float(statistics.max))
        #expect(run.lines.contains { $0.hasPrefix("  " + sparkline + "  ") })
        // The lens table ranks the server's tokens.
        let table = try #require(run.lines.firstIndex(of: "(lmdbg) lens"))
        #expect(run.lines[table + 1].hasPrefix("rank  token  piece"))
        let firstRow = run.lines[table + 2].split(separator: " ")
        #expect(firstRow.first == "1" && firstRow.dropFirst().first.flatMap { Int($0) } == lensTokens.first)
        #expect(run.lines.contains("run 1 ended (maxNewTokens): no tokens generated"))
    }

    @Test func aFailingCommandMakesTheScriptFailButTheRestRuns() throws {
        let run = try runREPL(["--model", Products.model], input: """
            print x
            break blocks.0.hook_nonexistent
            break blocks.0.hook_resid_pre
            run -n 2 Hello
            print nosuchname + 1
            c
            """)
        #expect(run.status == 1, "\(run.output)")
        #expect(run.answer(to: "print x")?.hasPrefix("error: ") == true, "\(run.output)")
        #expect(run.answer(to: "break blocks.0.hook_nonexistent")?.hasPrefix("error: breakpoint not set") == true, "\(run.output)")
        #expect(run.answer(to: "break blocks.0.hook_resid_pre") == "breakpoint 1 at blocks.0.hook_resid_pre (1 hook)")
        #expect(run.answer(to: "print nosuchname + 1")?.hasPrefix("error: ") == true)
        // Generation goes on after the errors: the generated token, then the stop in the next token step.
        let resumed = try #require(run.lines.firstIndex(of: "(lmdbg) c"))
        #expect(run.lines[resumed...].contains { $0.hasPrefix("stopped at blocks.0.hook_resid_pre (layer 0, token step 1, positions") },
                "\(run.output)")
    }

    @Test func interruptPausesALongRunAndTheREPLGoesOn() throws {
        var interrupted = false
        let run = try runREPL(["--model", Products.model], input: "run -n 2000 Once upon a time\n",
                              closeInputWhen: { $0.contains(": paused") }) { process, output in
            guard !interrupted, output.contains("run 1: ") else { return }
            usleep(300_000)
            kill(process.processIdentifier, SIGINT)
            interrupted = true
        }
        #expect(run.lines.contains("pausing…"), "\(run.output)")
        #expect(run.lines.contains { $0.hasPrefix("stopped at ") && $0.hasSuffix(": paused") }, "\(run.output)")
        #expect(run.status == 0)
    }
}
