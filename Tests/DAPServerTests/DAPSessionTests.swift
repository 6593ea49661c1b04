import Foundation
import JSONRPC
import ModelFiles
import Tensors
import Testing
import Transformer
@testable import DAPServer

/// A whole DAP session on SmolLM2-135M, every value checked: against an independent forward pass, against the
/// bytes readMemory sends, or against what the attention pattern must be.
struct DAPSessionTests {
    let prompt = "The capital of France is"

    /// The activations of an independent pass over the prompt.
    func reference(_ hooks: [String]) throws -> [HookPoint: Tensor] {
        let model = try LanguageModel.load(try ModelCatalog().resolve("smollm2"))
        let recorder = ActivationRecorder(patterns: hooks.map(HookPattern.init))
        _ = try model.forward(model.tokenizer.encode(prompt), cache: model.makeCache(), observer: recorder)
        return recorder.activations
    }

    @Test func aWholeSession() throws {
        let reference = try reference(["blocks.3.hook_resid_post", "blocks.3.attn.hook_pattern"])
        let residual = try #require(reference[.block(3, .residPost)])
        let client = DAPTestClient()

        // Before initialize, nothing is served.
        let early = client.request("threads")
        #expect(early["success"] == false && early["message"]?.string?.contains("initialize") == true)

        let capabilities = try #require(client.body("initialize", ["clientID": "tests", "supportsInvalidatedEvent": true]))
        for capability in ["supportsConfigurationDoneRequest", "supportsFunctionBreakpoints", "supportsConditionalBreakpoints",
                           "supportsHitConditionalBreakpoints", "supportsLogPoints", "supportsEvaluateForHovers",
                           "supportsStepBack", "supportsSetVariable", "supportsSetExpression", "supportsReadMemoryRequest",
                           "supportsRestartRequest"] {
            #expect(capabilities[capability] == true, "\(capability)")
        }
        #expect(capabilities["exceptionBreakpointFilters"]?.array?.compactMap { $0["filter"]?.string } == ["nan", "inf", "massive"])

        // Breakpoints before the model is loaded wait for it.
        let pending = try #require(client.body("setFunctionBreakpoints", ["breakpoints": [["name": "blocks.3.hook_resid_post"]]]))
        #expect(pending["breakpoints"]?[0]?["verified"] == false && pending["breakpoints"]?[0]?["reason"] == "pending")
        let pendingID = try #require(pending["breakpoints"]?[0]?["id"])

        let launch = client.request("launch", ["model": "smollm2", "prompt": .string(prompt), "maxNewTokens": 2])
        #expect(launch["success"] == true)
        let changed = try #require(client.next("breakpoint"))
        #expect(changed["body"]?["breakpoint"]?["id"] == pendingID && changed["body"]?["breakpoint"]?["verified"] == true)
        let initialized = try #require(client.next("initialized"))
        #expect(try #require(initialized["seq"]?.int) > launch["seq"]?.int ?? .max, "initialized comes after launch's response")

        let breakpoints = try #require(client.body("setFunctionBreakpoints", ["breakpoints": [
            ["name": "blocks.*.hook_resid_post", "condition": "layer == 3"],
            ["name": "blocks.99.*"],
            ["name": "blocks.0.hook_resid_post", "logMessage": "norm {x.norm()}"],
        ]]))
        let statuses = try #require(breakpoints["breakpoints"]?.array)
        #expect(statuses.map { $0["verified"] } == [true, false, true])
        #expect(statuses[1]["message"]?.string?.contains("matches no hook point") == true)
        #expect(client.request("setExceptionBreakpoints", ["filters": []])["success"] == true)
        let sources = try #require(client.body("setBreakpoints", ["source": ["path": "/x.py"], "breakpoints": [["line": 3]]]))
        #expect(sources["breakpoints"]?[0]?["verified"] == false)
        #expect(client.request("configurationDone")["success"] == true)

        // The breakpoint stops at layer 3 of the prompt pass; the logpoint at layer 0 logged its line on the way.
        var stopped = try #require(client.next("stopped"))
        #expect(stopped["body"]?["reason"] == "function breakpoint" && stopped["body"]?["threadId"] == 1)
        #expect(stopped["body"]?["hitBreakpointIds"] == [statuses[0]["id"]!])
        #expect(stopped["body"]?["description"]?.string?.hasPrefix("blocks.3.hook_resid_post, prompt, positions 0..<5") == true)
        let logged = client.events("output").compactMap { $0["body"]?["output"]?.string }.filter { $0.hasPrefix("norm ") }
        #expect(logged.count == 1)

        #expect(client.body("threads")?["threads"] == [["id": 1, "name": "forward pass"]])
        let frames = try #require(client.body("stackTrace", ["threadId": 1])?["stackFrames"]?.array)
        #expect(frames.compactMap { $0["name"]?.string } == ["blocks.3.hook_resid_post", "blocks.3", "prompt: positions 0..<5"])
        #expect(client.body("stackTrace", ["threadId": 1, "startFrame": 1, "levels": 1])?["stackFrames"]?.array?.count == 1)

        let scopes = try #require(client.body("scopes", ["frameId": frames[0]["id"]!])?["scopes"]?.array)
        #expect(scopes.first?["name"] == "Current" && scopes.contains { $0["name"] == "Residual stream" })
        #expect(scopes.contains { $0["name"] == "Attention" } && !scopes.contains { $0["name"] == "MLP" },
                "nothing of the MLP is recorded yet, so its scope is left out")
        let current = try #require(client.body("variables", ["variablesReference": scopes[0]["variablesReference"]!])?["variables"]?.array)
        let x = try #require(current.first)
        #expect(x["name"] == "x" && x["type"] == "float32[5, 576]" && x["indexedVariables"] == 5)
        #expect(x["evaluateName"] == "x" && x["memoryReference"] == "x")
        #expect(current.contains { $0["name"] == "layer" && $0["value"] == "3" })

        // Paged children: rows 1 and 2 of x, each a vector whose values readMemory sends.
        let rows = try #require(client.body("variables", ["variablesReference": x["variablesReference"]!, "filter": "indexed",
                                                          "start": 1, "count": 2])?["variables"]?.array)
        #expect(rows.compactMap { $0["name"]?.string } == ["[1]", "[2]"])
        #expect(rows.compactMap { $0["evaluateName"]?.string } == ["x[1]", "x[2]"] && rows[1]["indexedVariables"] == 576)
        #expect(client.body("variables", ["variablesReference": x["variablesReference"]!, "filter": "named"])?["variables"] == [])
        let elements = try #require(client.body("variables", ["variablesReference": rows[1]["variablesReference"]!,
                                                              "start": 574, "count": 10])?["variables"]?.array)
        #expect(elements.compactMap { $0["name"]?.string } == ["[2, 574]", "[2, 575]"])

        // evaluate x.norm() equals the norm of the bytes readMemory sends, which equal the independent forward.
        let memory = try #require(client.body("readMemory", ["memoryReference": "x", "count": .integer(Int64(5 * 576 * 4))]))
        let bytes = try #require(floats(base64: memory["data"]?.string ?? ""))
        #expect(bytes == residual.data && memory["address"] == "0x0" && memory["unreadableBytes"] == nil)
        let norm = try #require(client.body("evaluate", ["expression": "x.norm()", "context": "lmdbg.data"]))
        let expectedNorm = bytes.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let evaluatedNorm = try #require(norm["data"]?["number"]?.double)
        #expect(abs(evaluatedNorm - expectedNorm) <= 1e-4 * expectedNorm)
        #expect(norm["type"] == "number" && norm["variablesReference"] == 0)
        let tail = try #require(client.body("readMemory", ["memoryReference": "x[4]", "offset": .integer(575 * 4), "count": 12]))
        #expect(floats(base64: tail["data"]?.string ?? "") == [residual.data[4 * 576 + 575]] && tail["unreadableBytes"] == 8)

        // The attention pattern as data: the reference's values, causal, each row a distribution.
        let pattern = try #require(client.body("evaluate", ["expression": "blocks.3.attn.hook_pattern", "context": "lmdbg.data"]))
        #expect(pattern["type"] == "float32[9, 5, 5]" && pattern["indexedVariables"] == 9)
        #expect(pattern["data"]?["tensor"]?["shape"] == [9, 5, 5])
        let weights = try #require(floats(base64: pattern["data"]?["tensor"]?["data"]?.string ?? ""))
        #expect(weights == reference[.block(3, .pattern)]?.data)
        for head in 0..<9 {
            for query in 0..<5 {
                let row = weights[(head * 5 + query) * 5..<(head * 5 + query + 1) * 5]
                #expect(abs(row.reduce(0, +) - 1) < 1e-5 && row.enumerated().allSatisfy { $0.offset <= query || $0.element == 0 })
            }
        }
        let lens = try #require(client.body("evaluate", ["expression": "lens(x[-1], 3)", "context": "lmdbg.data"])?["data"])
        let probabilities = try #require(lens["tokens"]?.array?.compactMap { $0["score"]?.double })
        #expect(lens["kind"] == "tokens" && probabilities.count == 3 && probabilities == probabilities.sorted(by: >))
        let failed = client.request("evaluate", ["expression": "x.norm( +", "context": "repl"])
        #expect(failed["success"] == false && failed["body"]?["error"]?["id"] == -32006)
        #expect(failed["message"]?.string?.contains("position") == true)

        // Writes at the stop: setExpression on an element, setVariable on a row; other hooks cannot be written.
        let set = try #require(client.body("setExpression", ["expression": "x[0, 0]", "value": "1000"]))
        #expect(set["value"] == "1000")
        #expect(client.next("invalidated")?["body"]?["areas"] == ["variables"])
        let freshScopes = try #require(client.body("scopes", ["frameId": 1])?["scopes"]?.array)
        let freshX = try #require(client.body("variables", ["variablesReference": freshScopes[0]["variablesReference"]!])?["variables"]?[0])
        let zeroed = try #require(client.body("setVariable", ["variablesReference": freshX["variablesReference"]!, "name": "[1]", "value": "0"]))
        #expect(zeroed["value"]?.string?.contains("norm=0 ") == true)
        #expect(client.body("evaluate", ["expression": "x[0, 0] + x[1].norm()"])?["result"] == "1000")
        let refused = client.request("setExpression", ["expression": "blocks.2.hook_resid_post", "value": "0"])
        #expect(refused["success"] == false && refused["message"]?.string?.contains("not the activation at this stop") == true)

        // Step back into the record (layer 3's pattern was recorded), then a layer step forward.
        #expect(client.request("stepBack", ["threadId": 1])["success"] == true)
        stopped = try #require(client.next("stopped"))
        #expect(stopped["body"]?["reason"] == "step" && stopped["body"]?["description"]?.string?.contains("(recorded)") == true)
        #expect(client.request("next", ["threadId": 1, "granularity": "layer"])["success"] == true)
        stopped = try #require(client.next("stopped"))
        #expect(stopped["body"]?["reason"] == "step")

        // Continue to layer 3 of token step 1, then reverse-continue to the prompt pass's stop.
        #expect(client.body("continue", ["threadId": 1])?["allThreadsContinued"] == true)
        stopped = try #require(client.next("stopped"))
        #expect(stopped["body"]?["description"]?.string?.hasPrefix("blocks.3.hook_resid_post, token step 1, positions 5..<6") == true)
        #expect(client.request("reverseContinue", ["threadId": 1])["success"] == true)
        stopped = try #require(client.next("stopped"))
        #expect(stopped["body"]?["reason"] == "function breakpoint" && stopped["body"]?["hitBreakpointIds"] == [statuses[0]["id"]!])
        #expect(stopped["body"]?["description"]?.string?.hasPrefix("blocks.3.hook_resid_post, prompt") == true)
        #expect(client.events("stopped").count == 5, "reverseContinue reports only where it stops")

        // To the end: generated text, exited, terminated; then disconnect.
        #expect(client.request("setFunctionBreakpoints", ["breakpoints": []])["success"] == true)
        #expect(client.request("continue", ["threadId": 1])["success"] == true)
        #expect(client.next("exited", timeout: 300)?["body"]?["exitCode"] == 0)
        #expect(client.next("terminated") != nil)
        let generated = client.events("output").filter { $0["body"]?["category"] == "stdout" }
        #expect(generated.count == 2)
        #expect(client.request("disconnect")["success"] == true)
        #expect(client.adapter.waitForExit() == 0)
    }

    @Test func pauseRestartAndTerminate() throws {
        let client = DAPTestClient()
        _ = client.body("initialize", ["supportsProgressReporting": true])
        #expect(client.request("launch", ["prompt": "Hi", "maxNewTokens": 1, "stopOnEntry": true])["success"] == true)
        #expect(client.next("progressStart") != nil && client.next("progressEnd") != nil)
        #expect(client.request("configurationDone")["success"] == true)
        var stopped = try #require(client.next("stopped"))
        #expect(stopped["body"]?["reason"] == "entry" && stopped["body"]?["description"]?.string?.hasPrefix("hook_embed") == true)

        // Exception filters: an activation above a tiny threshold stops with exception info.
        #expect(client.request("setExceptionBreakpoints", ["filters": [], "filterOptions": [["filterId": "massive", "condition": "5"]]])["success"] == true)
        #expect(client.request("continue")["success"] == true)
        stopped = try #require(client.next("stopped"))
        #expect(stopped["body"]?["reason"] == "exception" && stopped["body"]?["text"]?.string?.contains("massive") == true)
        let info = try #require(client.body("exceptionInfo", ["threadId": 1]))
        #expect(info["exceptionId"] == "massive" && info["breakMode"] == "always")
        let badThreshold = client.request("setExceptionBreakpoints", ["filters": [], "filterOptions": [["filterId": "massive", "condition": "big"]]])
        #expect(badThreshold["success"] == false)
        #expect(client.request("setExceptionBreakpoints", ["filters": []])["success"] == true)

        // Restart with other arguments: the old run ends quietly and the new one stops on entry again.
        #expect(client.request("restart", ["arguments": ["prompt": "Hello there", "maxNewTokens": 1, "stopOnEntry": true]])["success"] == true)
        stopped = try #require(client.next("stopped"))
        #expect(stopped["body"]?["reason"] == "entry" && stopped["body"]?["description"]?.string?.contains("positions 0..<2") == true)
        #expect(client.events("terminated").isEmpty)

        // Pause a long run while it computes.
        #expect(client.request("restart", ["arguments": ["prompt": "Hello there", "maxNewTokens": 500]])["success"] == true)
        #expect(client.request("pause", ["threadId": 1])["success"] == true)
        stopped = try #require(client.next("stopped"))
        #expect(stopped["body"]?["reason"] == "pause")

        #expect(client.request("terminate")["success"] == true)
        #expect(client.next("terminated") != nil)
        #expect(client.events("exited").isEmpty)
        let afterwards = client.request("continue")
        #expect(afterwards["success"] == false && afterwards["body"]?["error"]?["id"] == -32003)
        #expect(client.request("disconnect")["success"] == true)
        #expect(client.adapter.waitForExit() == 0)
    }

    @Test func runWithoutDebugging() throws {
        let client = DAPTestClient()
        _ = client.body("initialize")
        #expect(client.request("launch", ["prompt": "Hi", "maxNewTokens": 2, "stopOnEntry": true, "noDebug": true])["success"] == true)
        let breakpoints = try #require(client.body("setFunctionBreakpoints", ["breakpoints": [["name": "blocks.0.hook_resid_post"]]]))
        #expect(breakpoints["breakpoints"]?[0]?["verified"] == false)
        #expect(client.request("setExceptionBreakpoints", ["filters": ["massive"], "filterOptions": [["filterId": "massive", "condition": "1"]]])["success"] == true)
        #expect(client.request("configurationDone")["success"] == true)
        #expect(client.next("terminated", timeout: 300) != nil)
        let exited = client.events("exited")
        #expect(client.events("stopped").isEmpty && exited.count == 1 && exited[0]["body"]?["exitCode"] == 0)
        let generated = client.events("output").filter { $0["body"]?["category"] == "stdout" }
        #expect(generated.count >= 1)
    }
}
