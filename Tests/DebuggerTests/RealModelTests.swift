import Foundation
import Testing
import Tensors
import Transformer
@testable import Debugger

/// The debugger on SmolLM2-135M: stops, reads, steps and patches checked against independent forward passes.
@Suite(.serialized) struct RealModelTests {
    let prompt = "The capital of France is"

    @Test func residPostStopsArriveInLayerOrderAndMatchAnIndependentForward() throws {
        let (session, log) = try SmolLM2.session()
        let (reference, _) = try SmolLM2.reference(prompt)
        session.setBreakpoints([BreakpointSpec(hook: "blocks.*.hook_resid_post")])
        try session.launch(LaunchConfiguration(prompt: prompt))
        var layers: [Int] = []
        while let stop = log.nextStop() {
            layers.append(try #require(stop.layer))
            #expect(stop.positions == 0..<5 && stop.tokenStep == 0)
            let read = try session.readTensor()
            #expect(read == reference.tensors[stop.hook]?.first, "\(stop.hook)")
            try session.resume(.continue)
        }
        #expect(layers == Array(0..<30))
    }

    @Test func stepInNextOutAndBackOnTheRealModel() throws {
        let (session, log) = try SmolLM2.session()
        let (reference, _) = try SmolLM2.reference(prompt)
        session.setBreakpoints([BreakpointSpec(hook: "blocks.12.hook_resid_pre")])
        try session.launch(LaunchConfiguration(prompt: prompt, maxNewTokens: 2))
        #expect(log.nextStop()?.hook == .block(12, .residPre))
        try session.resume(.stepIn)
        #expect(log.nextStop()?.hook == .block(12, .ln1Scale))
        try session.resume(.next(.hook))
        #expect(log.nextStop()?.hook == .block(12, .ln1Normalized))
        try session.resume(.next(.layer))
        #expect(log.nextStop()?.hook == .block(13, .ln1Normalized))
        try session.resume(.stepOut)
        #expect(log.nextStop()?.hook == .block(13, .residPost))
        #expect(try session.readTensor() == reference.tensors[HookPoint.block(13, .residPost)]?.first)

        try session.stepBack()
        let back = try #require(log.nextStop())
        #expect(back.hook == .block(13, .mlpOut) && back.isInPast)
        #expect(try session.readTensor() == reference.tensors[HookPoint.block(13, .mlpOut)]?.first)
        try session.resume(.next(.hook))
        #expect(log.nextStop()?.hook == .block(13, .residPost))

        session.setBreakpoints([])
        try session.resume(.next(.token))
        let next = try #require(log.nextStop())
        #expect(next.hook == .block(13, .residPost) && next.tokenStep == 1 && next.positions == 5..<6)
        session.terminate()
    }

    @Test func pauseStopsARunningGeneration() throws {
        let (session, log) = try SmolLM2.session()
        try session.launch(LaunchConfiguration(prompt: prompt, maxNewTokens: 40))
        try session.pause()
        let stop = try #require(log.nextStop())
        #expect(stop.reason == .pause)
        try session.resume(.continue)
        let summary = try #require(log.termination())
        #expect((1...40).contains(summary.tokens.count), "ends at 40 tokens or at the end of generation")
    }

    @Test func zeroAblatingAttentionOutputEqualsAnIndependentComputation() throws {
        let (session, log) = try SmolLM2.session()
        try session.launch(LaunchConfiguration(prompt: prompt))
        let clean = try #require(log.termination()).finalLogits

        let ids = try session.addPatches([Patch(hook: "blocks.3.hook_attn_out", operation: .zero)])
        try session.launch(LaunchConfiguration(prompt: prompt))
        let patched = try #require(log.termination())
        #expect(patched.activePatchIDs == ids)

        let (_, expected) = try SmolLM2.reference(prompt) { view in
            if view.hook == .block(3, .attnOut) { for i in view.data.indices { view.data[i] = 0 } }
        }
        let expectedLast = Array(expected.data[(expected.count - 49152)...])
        #expect(patched.finalLogits != clean)
        let difference = zip(patched.finalLogits, expectedLast).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference < 1e-3, "largest difference \(difference)")
    }

    @Test func aNaNPatchStopsWithAnException() throws {
        let (session, log) = try SmolLM2.session()
        session.setExceptionFilters(ExceptionFilters(nan: true))
        var value = [Float](repeating: 0, count: 576)
        value[7] = .nan
        try session.addPatches([Patch(hook: "blocks.5.hook_mlp_out", positions: .explicit([2]),
                                      operation: .set(Tensor(shape: [576], data: value)))])
        try session.launch(LaunchConfiguration(prompt: prompt))
        let stop = try #require(log.nextStop())
        #expect(stop.reason == .exception && stop.hook == .block(5, .mlpOut))
        #expect(stop.description == "NaN at blocks.5.hook_mlp_out[2, 7]")
        session.terminate()
    }

    @Test func theMemoryBudgetEvictsOnTheRealModel() throws {
        // One [5, 576] activation is 11,520 bytes: the budget holds two of them.
        let (session, log) = try SmolLM2.session(budget: 25_000)
        session.setBreakpoints([BreakpointSpec(hook: "blocks.*.hook_resid_post")])
        try session.launch(LaunchConfiguration(prompt: prompt))
        for _ in 0..<4 { _ = log.nextStop(); try session.resume(.continue) }
        #expect(log.nextStop()?.hook == .block(4, .residPost))
        try session.stepBack()
        #expect(log.nextStop()?.hook == .block(3, .residPost))
        #expect(throws: DebugError.self) { try session.stepBack() }
        let evicted = log.all.compactMap { event -> Int? in
            if case .recording(let notice) = event { return notice.evicted }
            return nil
        }.reduce(0, +)
        #expect(evicted == 3)
        session.terminate()
    }

    @Test func conditionalBreakpointsAndTheLogitLens() throws {
        let (session, log) = try SmolLM2.session()
        let (reference, logits) = try SmolLM2.reference(prompt)
        let norms = (0..<30).map { layer -> Float in
            let data = reference.tensors[HookPoint.block(layer, .residPost)]!.first!.data
            return data.reduce(0) { $0 + $1 * $1 }.squareRoot()
        }
        let sorted = norms.sorted()
        let threshold = (sorted[20] + sorted[21]) / 2
        session.setBreakpoints([BreakpointSpec(hook: "blocks.*.hook_resid_post", condition: "x.norm() > \(threshold)"),
                                BreakpointSpec(hook: "blocks.29.hook_resid_post")])
        try session.launch(LaunchConfiguration(prompt: prompt))
        var layers: [Int] = []
        var lensTop: Int?
        while let stop = log.nextStop() {
            layers.append(stop.layer!)
            if stop.layer == 29, case .tokens(let rows) = try session.evaluate("lens(x[-1], 1)").value {
                lensTop = rows.first?.token
            }
            try session.resume(.continue)
        }
        #expect(layers == (0..<30).filter { norms[$0] > threshold || $0 == 29 })
        #expect(layers.filter { $0 != 29 }.count == 9)
        let last = Array(logits.data[(logits.count - 49152)...])
        #expect(lensTop == last.indices.max { last[$0] < last[$1] }, "the lens of the last residual is the logits")
    }
}
