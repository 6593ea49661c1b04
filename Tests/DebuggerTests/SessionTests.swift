import Foundation
import Testing
import Tensors
import Transformer
@testable import Debugger

/// The state machine driven by the toy engine (see ToyEngine.swift).
struct SessionTests {
    @Test func breakpointsStopInLayerOrderInEveryPass() throws {
        let (session, log) = makeSession()
        let status = session.setBreakpoints([BreakpointSpec(hook: "blocks.*.hook_resid_post")])
        #expect(status.map(\.verified) == [true])
        #expect(status[0].hookCount == 3)
        try session.launch(LaunchConfiguration(prompt: "abc", maxNewTokens: 2))
        var seen: [String] = []
        while let stop = log.nextStop() {
            #expect(stop.reason == .breakpoint)
            #expect(stop.breakpointIDs == [status[0].id])
            seen.append("\(stop.tokenStep):\(stop.hook.name):\(stop.positions)")
            try session.resume(.continue)
        }
        #expect(seen == [
            "0:blocks.0.hook_resid_post:0..<3", "0:blocks.1.hook_resid_post:0..<3", "0:blocks.2.hook_resid_post:0..<3",
            "1:blocks.0.hook_resid_post:3..<4", "1:blocks.1.hook_resid_post:3..<4", "1:blocks.2.hook_resid_post:3..<4",
        ])
    }

    @Test func theTensorAtAStopEqualsAnIndependentForward() throws {
        let model = ToyModel()
        let (session, log) = makeSession(model)
        session.setBreakpoints([BreakpointSpec(hook: "blocks.1.hook_attn_out")])
        try session.launch(LaunchConfiguration(prompt: "bad"))
        let stop = try #require(log.nextStop())
        #expect(stop.hook == .block(1, .attnOut))
        let atStop = try session.readTensor()
        let recorder = RecordingObserver()
        _ = try model.startGeneration(sampling: .init()).forward(model.tokenize("bad"), observer: recorder)
        #expect(atStop == recorder.tensors[.block(1, .attnOut)]?.first)
        #expect(try session.readTensor(slice: TensorSlice(parsing: "[-1, :2]")).data == Array(atStop.data[8..<10]))
        try session.resume(.continue)
        #expect(log.termination() != nil)
    }

    @Test func unknownAndUnmatchedHooksAreNotVerified() {
        let (session, _) = makeSession()
        let status = session.setBreakpoints([
            BreakpointSpec(hook: "blocks.99.hook_resid_pre"),
            BreakpointSpec(hook: "blocks.*.hook_nothing"),
            BreakpointSpec(hook: "blocks.0.hook_resid_pre", hitCondition: "sometimes"),
            BreakpointSpec(hook: "logits"),
        ])
        #expect(status.map(\.verified) == [false, false, false, true])
        #expect(status[0].message == "hook: unknown hook point 'blocks.99.hook_resid_pre'")
        #expect(status[1].message?.contains("matches no hook point") == true)
        #expect(status[2].message?.contains("hitCondition") == true)
        #expect(Set(status.map(\.id)).count == 4)
    }

    @Test func hitConditions() throws {
        for (condition, expected) in [("2", [2]), (">= 3", [3, 4]), ("% 2", [2, 4]), ("< 2", [1])] {
            let (session, log) = makeSession(ToyModel(layers: 4))
            session.setBreakpoints([BreakpointSpec(hook: "blocks.*.hook_resid_pre", hitCondition: condition)])
            try session.launch(LaunchConfiguration(prompt: "a"))
            var layers: [Int] = []
            while let stop = log.nextStop() {
                layers.append(stop.layer! + 1)
                try session.resume(.continue)
            }
            #expect(layers == expected, "hit condition \(condition)")
        }
    }

    @Test func logpointsWriteOutputAndDoNotStop() throws {
        let (session, log) = makeSession()
        session.setBreakpoints([BreakpointSpec(hook: "blocks.*.hook_mlp_out", logMessage: "passed {{mlp}}")])
        try session.launch(LaunchConfiguration(prompt: "ab"))
        let summary = try #require(log.termination())
        #expect(summary.tokens.isEmpty)
        let lines = log.all.compactMap { event -> String? in
            if case .output(let output) = event, output.category == .log { return output.text }
            return nil
        }
        #expect(lines == Array(repeating: "passed {mlp}", count: 3))
    }

    @Test func stopOnEntryThenStepByHookLayerAndToken() throws {
        let (session, log) = makeSession()
        try session.launch(LaunchConfiguration(prompt: "ab", maxNewTokens: 3, stopOnEntry: true))
        var stop = try #require(log.nextStop())
        #expect(stop.reason == .entry)
        #expect(stop.hook == .embed)
        try session.resume(.stepIn)
        stop = try #require(log.nextStop())
        #expect(stop.reason == .step && stop.hook == .block(0, .residPre))
        try session.resume(.next(.hook))
        #expect(log.nextStop()?.hook == .block(0, .z))
        try session.resume(.next(.layer))
        #expect(log.nextStop()?.hook == .block(1, .z))
        try session.resume(.next(.layer))
        #expect(log.nextStop()?.hook == .block(2, .z))
        try session.resume(.next(.layer))
        #expect(log.nextStop()?.hook == .lnFinalNormalized)
        try session.resume(.next(.token))
        stop = try #require(log.nextStop())
        #expect(stop.hook == .lnFinalNormalized && stop.tokenStep == 1 && stop.positions == 2..<3)
        try session.resume(.next(.layer))
        #expect(log.nextStop()?.hook == .logits)
        try session.resume(.next(.layer))
        stop = try #require(log.nextStop())
        #expect(stop.hook == .embed && stop.tokenStep == 2)
        try session.resume(.continue)
        #expect(log.termination()?.tokens.count == 3)
    }

    @Test func stepOutGoesToTheEndOfTheLayerThenOfTheTokenStep() throws {
        let (session, log) = makeSession()
        session.setBreakpoints([BreakpointSpec(hook: "blocks.1.attn.hook_z")])
        try session.launch(LaunchConfiguration(prompt: "ab", maxNewTokens: 2))
        #expect(log.nextStop()?.hook == .block(1, .z))
        try session.resume(.stepOut)
        #expect(log.nextStop()?.hook == .block(1, .residPost))
        try session.resume(.stepOut)
        #expect(log.nextStop()?.hook == .logits)
        try session.resume(.stepOut)
        let stop = try #require(log.nextStop())
        #expect(stop.hook == .embed && stop.tokenStep == 1)
        session.terminate()
    }

    @Test func aBreakpointHitDuringAStepReportsTheBreakpoint() throws {
        let (session, log) = makeSession()
        let ids = session.setBreakpoints([BreakpointSpec(hook: "blocks.0.hook_resid_post"),
                                          BreakpointSpec(hook: "blocks.1.hook_resid_pre")]).map(\.id)
        try session.launch(LaunchConfiguration(prompt: "ab"))
        #expect(log.nextStop()?.breakpointIDs == [ids[0]])
        try session.resume(.next(.layer))
        let stop = try #require(log.nextStop())
        #expect(stop.reason == .breakpoint && stop.breakpointIDs == [ids[1]] && stop.hook == .block(1, .residPre))
        session.terminate()
    }

    @Test func stepBackReadsTheRecordAndReplaysForward() throws {
        let model = ToyModel()
        let (session, log) = makeSession(model)
        try session.launch(LaunchConfiguration(prompt: "cab", stopOnEntry: true))
        #expect(log.nextStop()?.hook == .embed)
        for _ in 0..<3 { try session.resume(.stepIn); _ = log.nextStop() }
        #expect(session.currentStop?.hook == .block(0, .attnOut))
        let live = try session.readTensor()

        try session.stepBack()
        var stop = try #require(log.nextStop())
        #expect(stop.hook == .block(0, .z) && stop.isInPast)
        let recorder = RecordingObserver()
        _ = try model.startGeneration(sampling: .init()).forward(model.tokenize("cab"), observer: recorder)
        #expect(try session.readTensor() == recorder.tensors[.block(0, .z)]?.first)
        #expect(throws: DebugError.self, "the past does not see later activations") {
            try session.readTensor(hook: "blocks.0.hook_attn_out")
        }
        #expect(try session.readTensor(hook: "hook_embed") == recorder.tensors[.embed]?.first)
        #expect(throws: DebugError.self) { try session.write(Tensor(shape: [1], data: [0])) }

        try session.stepBack()
        try session.stepBack()
        #expect(log.nextStop()?.hook == .block(0, .residPre))
        #expect(log.nextStop()?.hook == .embed)
        #expect(throws: DebugError.self, "the first recorded activation") { try session.stepBack() }

        // Replay: steps move through the record up to the live stop, then the engine runs on.
        for hook in [HookPoint.block(0, .residPre), .block(0, .z)] {
            try session.resume(.next(.hook))
            stop = try #require(log.nextStop())
            #expect(stop.hook == hook && stop.isInPast)
        }
        try session.resume(.next(.hook))
        stop = try #require(log.nextStop())
        #expect(stop.hook == .block(0, .attnOut) && !stop.isInPast)
        #expect(try session.readTensor() == live)
        try session.stepBack()
        #expect(log.nextStop()?.hook == .block(0, .z))
        try session.resume(.next(.layer))
        stop = try #require(log.nextStop())
        #expect(stop.hook == .block(1, .z) && !stop.isInPast, "a step whose end lies beyond the live stop runs the engine")
        try session.resume(.continue)
        #expect(log.termination() != nil)
    }

    @Test func continueFromThePastStopsAtRecordedBreakpoints() throws {
        let (session, log) = makeSession()
        session.setBreakpoints([BreakpointSpec(hook: "blocks.*.hook_resid_mid")])
        try session.launch(LaunchConfiguration(prompt: "ab"))
        #expect(log.nextStop()?.hook == .block(0, .residMid))
        try session.resume(.continue)
        #expect(log.nextStop()?.hook == .block(1, .residMid))
        try session.stepBack()
        let past = try #require(log.nextStop())
        #expect(past.hook == .block(0, .residMid) && past.isInPast)
        try session.resume(.continue)
        let replayed = try #require(log.nextStop())
        #expect(replayed.hook == .block(1, .residMid) && !replayed.isInPast && replayed.reason == .breakpoint)
        try session.resume(.continue)
        #expect(log.nextStop()?.hook == .block(2, .residMid))
        session.terminate()
        #expect(log.termination() != nil)
    }

    @Test func pauseStopsAtTheNextHook() throws {
        let model = ToyModel()
        let gate = DispatchSemaphore(value: 0)
        let reachedPass2 = DispatchSemaphore(value: 0)
        model.beforePass = { pass in
            if pass == 2 { reachedPass2.signal(); gate.wait() }
        }
        let (session, log) = makeSession(model)
        try session.launch(LaunchConfiguration(prompt: "ab", maxNewTokens: 5))
        reachedPass2.wait()
        try session.pause()
        gate.signal()
        let stop = try #require(log.nextStop())
        #expect(stop.reason == .pause && stop.hook == .embed && stop.tokenStep == 2)
        try session.resume(.continue)
        #expect(log.termination()?.tokens.count == 5)
    }

    @Test func nothingArmedObservesNothingAndContinueStopsPaying() throws {
        let model = ToyModel()
        let (session, log) = makeSession(model)
        try session.launch(LaunchConfiguration(prompt: "ab", maxNewTokens: 2))
        _ = log.termination()
        #expect(model.observed.isEmpty)

        session.setBreakpoints([BreakpointSpec(hook: "blocks.1.hook_resid_pre")])
        try session.launch(LaunchConfiguration(prompt: "ab"))
        #expect(log.nextStop()?.hook == .block(1, .residPre))
        let observedAtStop = model.observed.count
        try session.resume(.continue)
        _ = log.termination()
        #expect(model.observed.count == observedAtStop, "no hook after the last breakpoint was observed")
    }

    @Test func variablesAreSummarisedAndPaged() throws {
        let (session, log) = makeSession()
        session.setBreakpoints([BreakpointSpec(hook: "blocks.0.attn.hook_z"), BreakpointSpec(hook: "blocks.0.hook_resid_post")])
        try session.launch(LaunchConfiguration(prompt: "abc"))
        _ = log.nextStop()
        try session.resume(.continue)
        #expect(log.nextStop()?.hook == .block(0, .residPost))

        let frames = try session.stackTrace()
        #expect(frames.map(\.kind) == [.hook, .layer, .token])
        #expect(frames.map(\.name) == ["blocks.0.hook_resid_post", "blocks.0", "prompt"])
        let scopes = try session.scopes(frameID: frames[0].id)
        #expect(scopes.map(\.name) == ["Current", "Residual stream", "Attention", "Logits"],
                "MLP has nothing recorded at this stop, so it is left out")

        let current = try session.variables(reference: scopes[0].variablesReference).variables
        let x = try #require(current.first { $0.name == "x" })
        #expect(x.shape == [3, 4])
        let tensor = try session.readTensor()
        #expect(x.summary?.max == tensor.data.max())
        #expect(current.first { $0.name == "tokens" }?.value == "'a' 'b' 'c'")

        let rows = try session.variables(reference: x.variablesReference, start: 1, count: 5)
        #expect(rows.total == 3)
        #expect(rows.variables.map(\.name) == ["[1]", "[2]"])
        let elements = try session.variables(reference: rows.variables[1].variablesReference, start: 2, count: 1)
        #expect(elements.total == 4)
        #expect(elements.variables.first?.name == "[2, 2]")
        #expect(elements.variables.first?.value == TensorSummary.format(tensor.data[2 * 4 + 2]))

        let attention = try session.variables(reference: scopes[2].variablesReference).variables.map(\.name)
        #expect(attention == ["blocks.0.attn.hook_z"], "only what was recorded before this stop")
        let logits = try session.variables(reference: scopes[3].variablesReference).variables
        #expect(logits.map(\.name) == ["lens(x[-1])"])

        try session.resume(.continue)
        _ = log.termination()
        #expect(throws: DebugError.noSession) { try session.variables(reference: x.variablesReference) }
    }

    @Test func writingAtTheStopChangesTheRestOfThePass() throws {
        let model = ToyModel()
        let (session, log) = makeSession(model)
        session.setBreakpoints([BreakpointSpec(hook: "blocks.0.hook_mlp_out")])
        try session.launch(LaunchConfiguration(prompt: "ab"))
        _ = log.nextStop()
        try session.write(Tensor(shape: [1], data: [0]), slice: TensorSlice(parsing: "[-1]"))
        #expect(try session.readTensor(slice: TensorSlice(parsing: "[-1]")).data == [0, 0, 0, 0])
        try session.resume(.continue)
        let patched = try #require(log.termination()).finalLogits

        let recorder = RecordingObserver { view in
            if view.hook == .block(0, .mlpOut) { for i in 4..<8 { view.data[i] = 0 } }
        }
        let expected = try model.startGeneration(sampling: .init()).forward(model.tokenize("ab"), observer: recorder)
        #expect(patched == expected)
    }

    @Test func requestsThatNeedAStopFailWithTheRightError() throws {
        let (session, log) = makeSession()
        #expect(throws: DebugError.noSession) { try session.resume(.continue) }
        #expect(throws: DebugError.noSession) { try session.stackTrace() }
        let model = ToyModel()
        let gate = DispatchSemaphore(value: 0)
        model.beforePass = { _ in gate.wait() }
        let (running, runningLog) = makeSession(model)
        try running.launch(LaunchConfiguration(prompt: "ab"))
        #expect(throws: DebugError.notStopped) { try running.resume(.next(.hook)) }
        #expect(throws: DebugError.notStopped) { try running.readTensor() }
        gate.signal()
        #expect(runningLog.termination() != nil)
        _ = log
    }

    @Test func aResumedRunIsRunningAsSoonAsResumeReturns() throws {
        // Each pass after the first waits for the gate, so the run cannot stop again before the checks.
        let model = ToyModel()
        let gate = DispatchSemaphore(value: 0)
        model.beforePass = { pass in if pass > 0 { gate.wait() } }
        let (session, log) = makeSession(model)
        session.setBreakpoints([BreakpointSpec(hook: "logits")])
        try session.launch(LaunchConfiguration(prompt: "abc", maxNewTokens: 8))
        for _ in 0..<8 {
            #expect(log.nextStop()?.hook == .logits)
            try session.resume(.continue)
            #expect(session.state == .running, "the old stop is gone")
            #expect(throws: DebugError.notStopped) { try session.stackTrace() }
            #expect(throws: DebugError.notStopped) { try session.resume(.next(.hook)) }
            gate.signal()
        }
        #expect(log.termination() != nil)
    }

    @Test func relaunchEndsTheRunningOneFirst() throws {
        let (session, log) = makeSession()
        session.setBreakpoints([BreakpointSpec(hook: "blocks.1.hook_resid_post")])
        let first = try session.launch(LaunchConfiguration(prompt: "ab")).runID
        #expect(log.nextStop() != nil)
        let second = try session.restart().runID
        #expect(log.termination()?.runID == first)
        let stop = try #require(log.nextStop())
        #expect(stop.hook == .block(1, .residPost) && second != first)
        session.terminate()
        let summary = try #require(log.termination())
        #expect(summary.runID == second && summary.ending == .superseded)
    }

    @Test func recordPatternsMakeHooksAvailableAtLaterStops() throws {
        let (session, log) = makeSession()
        session.recordPatterns = [HookPattern("blocks.*.hook_attn_out")]
        session.setBreakpoints([BreakpointSpec(hook: "blocks.1.hook_resid_post")])
        try session.launch(LaunchConfiguration(prompt: "ab"))
        #expect(log.nextStop()?.hook == .block(1, .residPost))
        #expect(throws: DebugError.self, "mlp_out is not recorded") { try session.readTensor(hook: "blocks.1.hook_mlp_out") }
        let attention = try session.readTensor(hook: "blocks.1.hook_attn_out")
        #expect(try session.readTensor(hook: "blocks.0.hook_attn_out").shape == [2, 4])
        let scopes = try session.scopes(frameID: 1)
        let names = try session.variables(reference: scopes[2].variablesReference).variables.map(\.name)
        #expect(names == ["blocks.1.hook_attn_out"])
        #expect(try session.evaluate("attn_out").summary?.norm == TensorSummary(attention).norm)
        session.terminate()
    }
}
