import Foundation
import JSONRPC
import LMDebugProtocol
import Testing
@testable import REPLCore

/// A scripted server on pipes: `answer` maps each request (method, params) to the messages to send back:
/// the response and any notifications, in order.
final class FakeServer: @unchecked Sendable {
    typealias Answer = @Sendable (_ id: JSONRPC.RequestID, _ method: String, _ params: JSONValue) -> [JSONRPCMessage]

    /// Where the REPL reads and writes.
    let replInput: Int32, replOutput: Int32
    private let serverInput: Int32, serverOutput: Int32
    private let answer: Answer
    /// Sends the answers in order, off the reading thread (so that a `pause` does not hold up reading).
    private let sending = DispatchQueue(label: "fake server")
    private let lock = NSLock()
    private var log: [(method: String, params: JSONValue)] = []

    init(answer: @escaping Answer) {
        var toServer: [Int32] = [0, 0], toREPL: [Int32] = [0, 0]
        _ = pipe(&toServer)
        _ = pipe(&toREPL)
        replInput = toREPL[0]
        serverOutput = toREPL[1]
        serverInput = toServer[0]
        replOutput = toServer[1]
        self.answer = answer
        Thread { [self] in serve() }.start()
    }

    /// Every message received, in order.
    var received: [(method: String, params: JSONValue)] { lock.withLock { log } }

    func send(_ messages: [JSONRPCMessage]) {
        for message in messages {
            let bytes = MessageFramer.frame(body: try! message.serialized())
            _ = bytes.withUnsafeBytes { write(serverOutput, $0.baseAddress, $0.count) }
        }
    }

    /// Ends the server's output, as an exiting server would.
    func exit() {
        close(serverOutput)
    }

    private func serve() {
        var framer = MessageFramer()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(serverInput, &buffer, buffer.count)
            guard count > 0 else { return }
            framer.append(Array(buffer[..<count]))
            while let body = try? framer.nextBody() {
                switch try? JSONRPCMessage(parsing: body) {
                case .request(let id, let method, let params)?:
                    lock.withLock { log.append((method, params ?? [:])) }
                    let messages = answer(id, method, params ?? [:])
                    sending.async {
                        for message in messages {
                            if message == pause { usleep(200_000) } else { self.send([message]) }
                        }
                    }
                case .notification(let method, let params)?:
                    lock.withLock { log.append((method, params ?? [:])) }
                default: break
                }
            }
        }
    }
}

/// In an answer: wait a moment before sending the messages after it.
let pause = JSONRPCMessage.notification(method: "$/test/pause", params: nil)

func result<Value: Encodable>(_ id: JSONRPC.RequestID, _ value: Value) -> JSONRPCMessage {
    .response(id: id, result: try! JSONValueEncoder().encode(value))
}

func notification<Event: NotificationType>(_ event: Event) -> JSONRPCMessage {
    .notification(method: Event.method, params: try! JSONValueEncoder().encode(event))
}

func failure(_ id: JSONRPC.RequestID, _ code: ProtocolErrorCode, _ message: String, data: JSONValue? = nil) -> JSONRPCMessage {
    .errorResponse(id: id, error: JSONRPCError(code: .init(rawValue: Int64(code.rawValue)), message: message, data: data))
}

/// Collects what the REPL prints.
final class Transcript: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""

    func append(_ output: String) { lock.withLock { text += output } }

    var lines: [String] { lock.withLock { text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) } }
}

/// A REPL attached to a fake server, printing into a transcript.
struct Harness {
    let server: FakeServer
    let repl: REPL
    let transcript = Transcript()

    init(answer: @escaping FakeServer.Answer) throws {
        server = FakeServer(answer: answer)
        let transcript = self.transcript
        let repl = REPL(console: Console(isTerminal: false) { transcript.append($0) })
        let connection = ServerConnection(
            input: server.replInput, output: server.replOutput,
            onNotification: { repl.handleNotification(method: $0, params: $1, serial: $2) },
            onClose: { repl.handleClose(reason: $0) })
        repl.attach(connection)
        connection.start()
        self.repl = repl
        try repl.initialize()
    }

    /// Runs the lines as a script; true if a command failed.
    func run(_ lines: [String]) -> Bool {
        var remaining = lines[...]
        return repl.runCommands(prompt: "(lmdbg) ", echo: true) { remaining.popFirst() }
    }
}

let smallModel = ModelInfo(
    name: "tiny", path: "/models/tiny.gguf", architecture: "llama",
    config: ModelConfig(nLayers: 2, dModel: 4, nHeads: 2, nKVHeads: 1, dHead: 2, dMLP: 8, vocabSize: 10, contextLength: 64),
    hookPoints: ["hook_embed", "blocks.0.hook_resid_post", "blocks.1.hook_resid_post", "logits"].map {
        HookPointInfo(name: $0, shape: [.pos, 4])
    })

let capabilities = ServerCapabilities(stepBack: true, conditionalBreakpoints: true, hitConditionalBreakpoints: true,
                                      logPoints: true, exceptionBreakpointFilters: [], patchOperations: PatchOperation.allCases,
                                      tensorDtypes: [.float32], workDoneProgress: true)

/// Answers the lifecycle, `model/load` (with progress) and `debug/setBreakpoints` (ids from 100 up, hooks
/// named `missing…` unverified); `rest` answers everything else.
func standardServer(_ rest: @escaping FakeServer.Answer) -> FakeServer.Answer {
    let nextID = LockedCounter(start: 100)
    return { id, method, params in
        switch method {
        case InitializeRequest.method:
            return [result(id, InitializeResult(serverInfo: ServerInfo(name: "fake", version: "0"), capabilities: capabilities))]
        case ShutdownRequest.method:
            return [result(id, ShutdownResult())]
        case LoadModelRequest.method:
            let token = try! JSONValueDecoder().decode(LoadModelRequest.self, from: params).workDoneToken!
            return [notification(ProgressNotification(token: token, value: .begin(WorkDoneProgressBegin(title: "Loading tiny.gguf")))),
                    notification(ProgressNotification(token: token, value: .report(WorkDoneProgressReport(message: "w", percentage: 50)))),
                    notification(ProgressNotification(token: token, value: .end(WorkDoneProgressEnd(message: "loaded")))),
                    result(id, smallModel)]
        case SetBreakpointsRequest.method:
            let request = try! JSONValueDecoder().decode(SetBreakpointsRequest.self, from: params)
            return [result(id, SetBreakpointsResult(breakpoints: request.breakpoints.map { breakpoint in
                breakpoint.hook.hasPrefix("missing")
                    ? Breakpoint(id: nextID.next(), verified: false, message: "no hook point named \(breakpoint.hook)", hooks: 0)
                    : Breakpoint(id: nextID.next(), verified: true, hooks: breakpoint.hook.contains("*") ? 2 : 1)
            }))]
        default:
            return rest(id, method, params)
        }
    }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int

    init(start: Int) { value = start }

    func next() -> Int { lock.withLock { defer { value += 1 }; return value } }
}

let stopAtLayer0 = StoppedNotification(sessionId: 1, reason: .breakpoint, hook: "blocks.0.hook_resid_post", layer: 0,
                                       positions: PositionRange(0..<3), tokenStep: 0)

@Suite(.timeLimit(.minutes(1))) struct SessionTests {
    @Test func aRunStopsAndPrintsValuesAndTheLens() throws {
        let values: [Float] = [1, -2, 3, 0.5, 0, 0, 0, 8, 2, 2, 2, 2]
        let harness = try Harness(answer: standardServer { id, method, params in
            switch method {
            case LaunchRequest.method:
                var stop = stopAtLayer0
                stop.breakpointIds = [101]
                return [result(id, LaunchResult(sessionId: 1, promptTokens: [1, 2, 3])), notification(stop)]
            case EvaluateRequest.method:
                switch params["expression"] {
                case "x.norm()":
                    return [result(id, EvaluateResult(result: "10.1", type: .number, value: .number(10.125)))]
                case "x":
                    return [result(id, EvaluateResult(result: "tensor[3, 4]", type: .tensor, shape: [3, 4],
                        summary: TensorSummary(norm: 10.125, mean: 1.5, min: -2, max: 8, topDims: [TopDim(index: [1, 3], value: 8)]),
                        variablesReference: 1))]
                case "lens(x[-1])":
                    return [result(id, EvaluateResult(result: #"' Paris' 0.431, '\n' 0.2"#, type: .tokens, value: .tokens([7, 3])))]
                default:
                    return [failure(id, .expressionError, "unknown name 'y' at column 1",
                                    data: try! JSONValueEncoder().encode(ExpressionErrorData(expression: "y + 1", position: 0)))]
                }
            case ReadTensorRequest.method:
                return [result(id, WireTensor(shape: [3, 4], values: values))]
            case ContinueRequest.method:
                return [result(id, EmptyResult()),
                        notification(OutputNotification(sessionId: 1, category: .log, text: "norm=10.1\n")),
                        notification(OutputNotification(sessionId: 1, category: .generated, text: " Paris", token: 7)),
                        notification(TerminatedNotification(sessionId: 1, reason: .maxNewTokens, tokens: [7], text: " Paris", activePatches: []))]
            default:
                return [failure(id, .methodNotFound, "unexpected \(method)")]
            }
        })
        let failed = harness.run(["load tiny", "break blocks.0.hook_resid_post", "break blocks.1.hook_resid_post",
                                  "run -n 1 Hello", "print x.norm()", "p x", "lens", "print y + 1", "continue", "info breakpoints"])
        #expect(failed)  // print y + 1
        #expect(harness.transcript.lines == [
            "(lmdbg) load tiny",
            "Loading tiny.gguf",
            "Loading tiny.gguf  loaded",
            "loaded tiny (llama, 2 layers, d_model 4, 4 hook points)",
            "(lmdbg) break blocks.0.hook_resid_post",
            "breakpoint 1 at blocks.0.hook_resid_post (1 hook)",
            "(lmdbg) break blocks.1.hook_resid_post",
            "breakpoint 2 at blocks.1.hook_resid_post (1 hook)",
            "(lmdbg) run -n 1 Hello",
            "run 1: 3 prompt tokens",
            "stopped at blocks.0.hook_resid_post (layer 0, token step 0, positions 0..<3): breakpoint 1",
            "(lmdbg) print x.norm()",
            "10.125",
            "(lmdbg) p x",
            "tensor[3, 4]  norm=10.125 mean=1.5 min=-2 max=8",
            "  largest: [1, 3] 8",
            "  [0] ▅▁█▅  -2 … 3",
            "  [1] ▁▁▁█  0 … 8",
            "  [2] ▄▄▄▄  2 … 2",
            "(lmdbg) lens",
            "rank  token  piece      prob",
            "   1      7  ' Paris'  0.431",
            "   2      3  '\\n'        0.2",
            "(lmdbg) print y + 1",
            "error: unknown name 'y' at column 1",
            "(lmdbg) continue",
            "log: norm=10.1",
            " Paris",
            "run 1 ended (maxNewTokens): 1 token generated: ' Paris'",
            "(lmdbg) info breakpoints",
            "num  hook                      hooks",
            "  1  blocks.0.hook_resid_post      1",
            "  2  blocks.1.hook_resid_post      1",
            "",
        ])
        let requests = harness.server.received.map(\.method)
        #expect(requests.filter { $0 == SetBreakpointsRequest.method }.count == 2)
        let launch = try JSONValueDecoder().decode(LaunchRequest.self, from: harness.server.received.first { $0.method == LaunchRequest.method }!.params)
        #expect(launch == LaunchRequest(prompt: "Hello", maxNewTokens: 1))
        let reads = harness.server.received.filter { $0.method == ReadTensorRequest.method }.map(\.params)
        #expect(reads == [["expression": "x"]])
    }

    @Test func theEndOfASupersededRunDoesNotEndTheWait() throws {
        let launches = LockedCounter(start: 1)
        let harness = try Harness(answer: standardServer { id, method, _ in
            switch method {
            case LaunchRequest.method:
                let session = launches.next()
                var stop = stopAtLayer0
                stop.sessionId = session
                stop.reason = .step
                let superseded = TerminatedNotification(sessionId: session - 1, reason: .superseded, tokens: [], text: "", activePatches: [])
                return [result(id, LaunchResult(sessionId: session, promptTokens: [1]))]
                    + (session > 1 ? [notification(superseded)] : []) + [pause, notification(stop)]
            case StackTraceRequest.method:
                return [result(id, StackTraceResult(frames: [StackFrame(id: 1, name: "prompt", kind: .token, tokenStep: 0)]))]
            default: return [failure(id, .methodNotFound, method)]
            }
        })
        #expect(!harness.run(["run A", "run B", "bt"]))
        #expect(Array(harness.transcript.lines.suffix(7)) == [
            "(lmdbg) run B", "run 2: 1 prompt token", "run 1 ended (superseded)",
            "stopped at blocks.0.hook_resid_post (layer 0, token step 0, positions 0..<3): step",
            "(lmdbg) bt", "#0  prompt  (token step 0)", "",
        ])
    }

    @Test func breakpointsKeepTheirNumbersAndBadOnesAreRefused() throws {
        let harness = try Harness(answer: standardServer { id, method, _ in [failure(id, .methodNotFound, method)] })
        let failed = harness.run(["break blocks.0.hook_resid_post", "load tiny", "break missing_hook", "break blocks.*.hook_resid_post hits 2",
                                  "delete 1", "delete 7", "info breakpoints"])
        #expect(failed)
        let lines = harness.transcript.lines
        #expect(lines.contains("breakpoint 1 at blocks.0.hook_resid_post (pending until a model is loaded)"))
        #expect(lines.contains("breakpoints set again: 1"))
        #expect(lines.contains("error: breakpoint not set: no hook point named missing_hook"))
        // The refused breakpoint gave its number back.
        #expect(lines.contains("breakpoint 2 at blocks.*.hook_resid_post (2 hooks)"))
        #expect(lines.contains("deleted 1"))
        #expect(lines.contains("error: no breakpoint 7"))
        #expect(lines.suffix(3) == ["num  hook                      hooks", "  2  blocks.*.hook_resid_post      2  hits 2", ""])
        // Each change sends the whole set.
        let sets = try harness.server.received.filter { $0.method == SetBreakpointsRequest.method }
            .map { try JSONValueDecoder().decode(SetBreakpointsRequest.self, from: $0.params).breakpoints.map(\.hook) }
        #expect(sets == [["blocks.0.hook_resid_post"], ["blocks.0.hook_resid_post", "missing_hook"], ["blocks.0.hook_resid_post"],
                         ["blocks.0.hook_resid_post", "blocks.*.hook_resid_post"], ["blocks.*.hook_resid_post"]])
    }

    @Test func serverErrorsAndUnknownCommandsAreOneLineAndTheLoopGoesOn() throws {
        let harness = try Harness(answer: standardServer { id, method, _ in
            [failure(id, .invalidSessionState, "no run is stopped", data: ["state": "none"])]
        })
        let failed = harness.run(["next", "frobnicate", "bt", "help finish"])
        #expect(failed)
        #expect(harness.transcript.lines == [
            "(lmdbg) next", "error: no run is stopped",
            "(lmdbg) frobnicate", "error: unknown command 'frobnicate'; try 'help'",
            "(lmdbg) bt", "error: no run is stopped",
            "(lmdbg) help finish", "usage: finish", "Stop at the end of the current layer (or token step).",
            "",
        ])
        #expect(!harness.run(["help"]))
    }

    @Test func interruptPausesARunningRun() throws {
        let harness = try Harness(answer: standardServer { id, method, _ in
            switch method {
            case LaunchRequest.method: return [result(id, LaunchResult(sessionId: 4, promptTokens: [1]))]
            case PauseRequest.method:
                var stop = stopAtLayer0
                stop.sessionId = 4
                stop.reason = .pause
                return [result(id, EmptyResult()), notification(stop)]
            default: return [failure(id, .methodNotFound, method)]
            }
        })
        #expect(!harness.repl.interrupt())
        let interrupter = Thread {
            while !harness.transcript.lines.contains("run 4: 1 prompt token") { usleep(1000) }
            _ = harness.repl.interrupt()
        }
        interrupter.start()
        #expect(!harness.run(["run Hi"]))
        #expect(harness.transcript.lines.suffix(3) == [
            "pausing…", "stopped at blocks.0.hook_resid_post (layer 0, token step 0, positions 0..<3): paused", "",
        ])
    }

    @Test func patchesSendTheirOperands() throws {
        let harness = try Harness(answer: standardServer { id, method, params in
            switch method {
            case ReadTensorRequest.method: return [result(id, WireTensor(shape: [4], values: [1, 2, 3, 4]))]
            case SetPatchesRequest.method: return [result(id, SetPatchesResult(ids: [5]))]
            case ClearPatchesRequest.method: return [result(id, EmptyResult())]
            case ListPatchesRequest.method:
                return [result(id, ListPatchesResult(patches: [Patch(id: 5, hooks: 1, hook: "logits", positions: .all, op: .zero)]))]
            default: return [failure(id, .methodNotFound, method)]
            }
        })
        #expect(!harness.run(["patch blocks.0.hook_resid_post at 1:3 add 2 * x[-1]", "patch logits heads 1 set [0, 1, 0, 0]",
                              "patch logits resample Rome", "info patches", "patch clear 5"]))
        let specs = try harness.server.received.filter { $0.method == SetPatchesRequest.method }
            .map { try JSONValueDecoder().decode(SetPatchesRequest.self, from: $0.params).patches[0] }
        #expect(specs == [
            PatchSpec(hook: "blocks.0.hook_resid_post", positions: .list([1, 2]), op: .add, vector: WireTensor(shape: [4], values: [1, 2, 3, 4])),
            PatchSpec(hook: "logits", heads: [1], op: .set, value: WireTensor(shape: [4], values: [0, 1, 0, 0])),
            PatchSpec(hook: "logits", op: .resample, source: "Rome"),
        ])
        #expect(harness.server.received.first { $0.method == ReadTensorRequest.method }?.params == ["expression": "2 * x[-1]"])
        #expect(harness.server.received.last?.params == ["ids": [5]])
        let lines = harness.transcript.lines
        #expect(lines.contains("patch 5: blocks.0.hook_resid_post add [4] at 1,2"))
        #expect(lines.contains("patch 5: logits resample 'Rome'"))
        #expect(lines.contains(" 5  logits      1  all        all    zero"))
        #expect(lines.contains("cleared patch 5"))
    }

    @Test func catchSendsTheFilterSet() throws {
        let harness = try Harness(answer: standardServer { id, method, _ in
            method == SetExceptionBreakpointsRequest.method ? [result(id, EmptyResult())] : [failure(id, .methodNotFound, method)]
        })
        #expect(!harness.run(["catch nan", "catch massive 500", "catch", "catch clear"]))
        let sent = try harness.server.received.filter { $0.method == SetExceptionBreakpointsRequest.method }
            .map { try JSONValueDecoder().decode(SetExceptionBreakpointsRequest.self, from: $0.params) }
        #expect(sent == [SetExceptionBreakpointsRequest(filters: [.nan]),
                         SetExceptionBreakpointsRequest(filters: [.nan, .massive], massiveThreshold: 500),
                         SetExceptionBreakpointsRequest(filters: [])])
        #expect(harness.transcript.lines.filter { !$0.hasPrefix("(lmdbg)") } == [
            "catching nan", "catching nan, massive (|x| > 500)", "catching nan, massive (|x| > 500)",
            "not catching NaN, infinities or massive activations", "",
        ])
    }

    @Test func aServerThatGoesAwayEndsTheWait() throws {
        let harness = try Harness(answer: standardServer { id, method, _ in
            method == LaunchRequest.method ? [result(id, LaunchResult(sessionId: 1, promptTokens: [1]))] : []
        })
        let server = harness.server
        Thread {
            while !harness.transcript.lines.contains("run 1: 1 prompt token") { usleep(1000) }
            server.exit()
        }.start()
        #expect(harness.run(["run Hi", "print x"]))
        #expect(harness.transcript.lines.contains("error: the server is gone: the server closed its output"))
        #expect(!harness.transcript.lines.contains("(lmdbg) print x"))
    }
}
