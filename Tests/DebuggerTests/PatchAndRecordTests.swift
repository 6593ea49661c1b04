import Foundation
import Testing
import Tensors
import Transformer
@testable import Debugger

/// Patches, exception stops and the memory budget, on the toy engine.
struct PatchAndRecordTests {
    @Test func zeroAblationEqualsAnIndependentComputationAndIsReported() throws {
        let model = ToyModel()
        let (session, log) = makeSession(model)
        try session.launch(LaunchConfiguration(prompt: "abc"))
        let clean = try #require(log.termination()).finalLogits

        let ids = try session.addPatches([Patch(hook: "blocks.1.hook_attn_out", operation: .zero)])
        try session.launch(LaunchConfiguration(prompt: "abc"))
        let summary = try #require(log.termination())
        #expect(summary.activePatchIDs == ids)
        #expect(summary.finalLogits != clean)

        let recorder = RecordingObserver { view in
            if view.hook == .block(1, .attnOut) { for i in view.data.indices { view.data[i] = 0 } }
        }
        let expected = try model.startGeneration(sampling: .init()).forward(model.tokenize("abc"), observer: recorder)
        #expect(summary.finalLogits == expected)

        try session.clearPatches(ids)
        try session.launch(LaunchConfiguration(prompt: "abc"))
        let cleared = try #require(log.termination())
        #expect(cleared.finalLogits == clean && cleared.activePatchIDs.isEmpty)
    }

    @Test func patchesSelectPositionsAndHeads() throws {
        let (session, log) = makeSession()
        try session.addPatches([
            Patch(hook: "blocks.0.attn.hook_z", positions: .explicit([1]), heads: [1], operation: .set(Tensor(shape: [2], data: [7, 8]))),
            Patch(hook: "blocks.0.hook_mlp_out", positions: .generated, operation: .scale(0)),
        ])
        session.setBreakpoints([BreakpointSpec(hook: "blocks.0.attn.hook_z"), BreakpointSpec(hook: "blocks.0.hook_mlp_out")])
        try session.launch(LaunchConfiguration(prompt: "abc", maxNewTokens: 2))
        _ = log.nextStop()
        let z = try session.readTensor()
        #expect(z.shape == [3, 2, 2])
        #expect(Array(z.data[4..<8]).suffix(2) == [7, 8], "position 1, head 1")
        #expect(Array(z.data[4..<6]) != [7, 8], "position 1, head 0 untouched")
        #expect(Array(z.data[2..<4]) != [7, 8] && Array(z.data[10..<12]) != [7, 8], "other positions untouched")
        try session.resume(.continue)
        _ = log.nextStop()
        #expect(try session.readTensor().data.contains { $0 != 0 }, "prompt positions are not generated ones")
        try session.resume(.continue)
        _ = log.nextStop()
        try session.resume(.continue)
        #expect(log.nextStop()?.tokenStep == 1)
        #expect(try session.readTensor().data == [0, 0, 0, 0])
        session.terminate()
    }

    @Test func patchesAreValidated() {
        let (session, _) = makeSession()
        #expect(throws: DebugError.invalidArgument(field: "patches[0].hook", message: "unknown hook point 'blocks.9.hook_resid_pre'")) {
            try session.addPatches([Patch(hook: "blocks.9.hook_resid_pre", operation: .zero)])
        }
        #expect(throws: DebugError.self) {
            try session.addPatches([Patch(hook: "blocks.0.hook_resid_pre", heads: [0], operation: .zero)])
        }
        #expect(throws: DebugError.self) {
            try session.addPatches([Patch(hook: "blocks.0.hook_resid_pre", operation: .add(Tensor(shape: [3], data: [1, 2, 3])))])
        }
        #expect(throws: DebugError.self) { try session.clearPatches([42]) }
        #expect(session.listPatches().isEmpty)
    }

    @Test func meanProjectOutAndResample() throws {
        let model = ToyModel()
        let (session, log) = makeSession(model)
        try session.addPatches([
            Patch(hook: "blocks.0.hook_resid_pre", operation: .mean),
            Patch(hook: "blocks.1.hook_resid_pre", operation: .projectOut(Tensor(shape: [4], data: [0, 2, 0, 0]))),
            Patch(hook: "blocks.2.hook_resid_pre", positions: .explicit([0]), operation: .resample(source: "h")),
        ])
        session.setBreakpoints([BreakpointSpec(hook: "blocks.*.hook_resid_pre")])
        try session.launch(LaunchConfiguration(prompt: "abc"))
        _ = log.nextStop()
        let mean = try session.readTensor()
        for row in 0..<3 { #expect(Array(mean.data[row * 4..<row * 4 + 4]) == Array(mean.data[0..<4])) }
        try session.resume(.continue)
        _ = log.nextStop()
        let projected = try session.readTensor()
        #expect((0..<3).allSatisfy { projected.data[$0 * 4 + 1] == 0 })
        try session.resume(.continue)
        _ = log.nextStop()
        let resampled = try session.readTensor()
        let source = RecordingObserver()
        _ = try model.startGeneration(sampling: .init()).forward(model.tokenize("h"), observer: source)
        #expect(Array(resampled.data[0..<4]) == source.tensors[.block(2, .residPre)]?.first?.data)
        session.terminate()
    }

    @Test func aNaNInjectedByAPatchStopsWithAnException() throws {
        let (session, log) = makeSession()
        session.setExceptionFilters(ExceptionFilters(nan: true))
        try session.addPatches([Patch(hook: "blocks.1.hook_mlp_out", positions: .explicit([1]),
                                      operation: .set(Tensor(shape: [4], data: [0, .nan, 0, 0])))])
        try session.launch(LaunchConfiguration(prompt: "ab", maxNewTokens: 1))
        let stop = try #require(log.nextStop())
        #expect(stop.reason == .exception && stop.hook == .block(1, .mlpOut))
        #expect(stop.description == "NaN at blocks.1.hook_mlp_out[1, 1]")
        try session.resume(.continue)
        #expect(log.nextStop() == nil, "reported once per pass")
    }

    @Test func massiveActivationsStop() throws {
        let (session, log) = makeSession()
        session.setExceptionFilters(ExceptionFilters(massiveThreshold: 5))
        try session.launch(LaunchConfiguration(prompt: "ah"))
        let stop = try #require(log.nextStop())
        #expect(stop.reason == .exception && stop.hook == .embed)
        #expect(stop.description == "massive activation 7.01 (|x| > 5) at hook_embed[1, 0]")
        session.terminate()
    }

    @Test func theMemoryBudgetEvictsTheOldestAndSaysSo() throws {
        // Each toy activation of a 2-token pass is 2 × 4 floats = 32 bytes; z too. Room for three.
        let (session, log) = makeSession(budget: 100)
        try session.launch(LaunchConfiguration(prompt: "ab", stopOnEntry: true))
        _ = log.nextStop()
        for _ in 0..<4 { try session.resume(.stepIn); _ = log.nextStop() }
        #expect(session.currentStop?.hook == .block(0, .residMid))
        let notices = log.all.compactMap { event -> RecordingNotice? in
            if case .recording(let notice) = event { return notice }
            return nil
        }
        #expect(notices.map(\.evicted).reduce(0, +) == 2)
        try session.stepBack()
        try session.stepBack()
        #expect(throws: DebugError.self) { try session.stepBack() }
        do {
            try session.stepBack()
        } catch DebugError.budgetExceeded(let message) {
            #expect(message.contains("2 older activations were evicted"))
        }
        session.terminate()
    }

    @Test func budgetLossesAreReportedOncePerStopOrPassAndReadsSayWhatWasLost() throws {
        let (session, log) = makeSession(budget: 100)
        let run = try session.launch(LaunchConfiguration(prompt: "ab", maxNewTokens: 2, stopOnEntry: true)).runID
        _ = log.nextStop()
        // Stepping to the next token records the 20 other hooks of the prompt pass and the next embed; the
        // record keeps the last two (logits is 64 bytes) and evicts the rest.
        try session.resume(.next(.token))
        #expect(log.nextStop()?.tokenStep == 1)
        let events = log.all.compactMap { event -> String? in
            switch event {
            case .recording(let notice): "recording \(notice.runID) \(notice.evicted) \(notice.refused)"
            case .output(let output): output.category == .generated ? "generated" : nil
            case .stopped(let stop): "stopped \(stop.tokenStep)"
            case .terminated: nil
            }
        }
        #expect(events == ["stopped 0", "recording \(run) 19 0", "generated", "recording \(run) 1 0", "stopped 1"],
                "one notice at the end of the prompt pass, one before the stop")
        #expect(throws: DebugError.budgetExceeded(
            "blocks.0.hook_resid_pre is no longer in the record: 20 older activations were evicted (memory budget 100 bytes)")) {
            try session.readTensor(hook: "blocks.0.hook_resid_pre")
        }
        do {
            _ = try session.evaluate("blocks.2.hook_mlp_out.norm()")
            Issue.record("an evicted hook evaluated")
        } catch DebugError.expression(let message, _, _) {
            #expect(message.contains("no longer in the record"))
        }
        #expect(try session.readTensor(hook: "logits").shape == [2, 8], "the last activations are still there")
        session.terminate()
    }

    @Test func anActivationLargerThanTheBudgetIsRefusedAndSaysSo() throws {
        let (session, log) = makeSession(budget: 40)
        session.setBreakpoints([BreakpointSpec(hook: "logits")])
        try session.launch(LaunchConfiguration(prompt: "ab"))
        #expect(log.nextStop()?.hook == .logits)
        let notices = log.all.compactMap { event -> RecordingNotice? in
            if case .recording(let notice) = event { return notice }
            return nil
        }
        #expect(notices.map(\.refused) == [1])
        #expect(notices.first?.message == "recording: 1 activation was too large to record (memory budget 40 bytes); "
            + "step back cannot reach them")
        #expect(try session.readTensor().shape == [2, 8], "the live activation is still readable")
        #expect(throws: DebugError.budgetExceeded(
            "cannot step back further: 1 activation was too large to record (memory budget 40 bytes)")) {
            try session.stepBack()
        }
        session.terminate()
    }
}
