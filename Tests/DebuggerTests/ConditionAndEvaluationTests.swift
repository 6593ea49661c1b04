import Foundation
import Testing
import Tensors
import Transformer
@testable import Debugger

/// Conditions, logpoints and evaluation at stops, over the toy engine's known values.
struct ConditionAndEvaluationTests {
    @Test func conditionsSeeTheStopsVariablesAndCountOnlyTrueHits() throws {
        let (session, log) = makeSession(ToyModel(layers: 4))
        let status = session.setBreakpoints([
            BreakpointSpec(hook: "blocks.*.hook_resid_post", condition: "layer >= 1 and x.norm() > 0", hitCondition: "% 2"),
        ])
        #expect(status[0].verified)
        try session.launch(LaunchConfiguration(prompt: "ab"))
        var layers: [Int] = []
        while let stop = log.nextStop() {
            layers.append(stop.layer!)
            try session.resume(.continue)
        }
        #expect(layers == [2], "layers 1, 2, 3 pass the condition; every 2nd of those stops")
    }

    @Test func aConditionThatDoesNotParseIsNotVerified() {
        let (session, _) = makeSession()
        let status = session.setBreakpoints([BreakpointSpec(hook: "logits", condition: "x.norm( > 3")])
        #expect(!status[0].verified)
        #expect(status[0].message?.hasPrefix("condition: ") == true)
    }

    @Test func aConditionThatFailsToEvaluateStopsAndSaysWhy() throws {
        let (session, log) = makeSession()
        session.setBreakpoints([BreakpointSpec(hook: "blocks.0.hook_resid_pre", condition: "nosuchname > 1")])
        try session.launch(LaunchConfiguration(prompt: "ab"))
        let stop = try #require(log.nextStop())
        #expect(stop.reason == .breakpoint)
        #expect(stop.description?.contains("condition failed") == true)
        session.terminate()
    }

    @Test func logpointsInterpolateExpressions() throws {
        let (session, log) = makeSession()
        session.setBreakpoints([BreakpointSpec(hook: "blocks.*.hook_mlp_out", logMessage: "layer {layer}: {x[0, 0]} {oops}")])
        try session.launch(LaunchConfiguration(prompt: "a"))
        _ = log.termination()
        let lines = log.all.compactMap { event -> String? in
            if case .output(let output) = event, output.category == .log { return output.text }
            return nil
        }
        #expect(lines.count == 3)
        // Layer 0: embed 0, attention of one position is itself × 0.5 → resid_mid 0 × 1.5 = 0, mlp = 0.25·0 + 0.
        #expect(lines.first?.hasPrefix("layer 0: 0 <oops: ") == true, "\(lines)")
        #expect(lines.last?.hasPrefix("layer 2: ") == true)
    }

    @Test func evaluateAndReadExpressionsAtAStop() throws {
        let (session, log) = makeSession()
        session.setBreakpoints([BreakpointSpec(hook: "blocks.1.hook_resid_pre"), BreakpointSpec(hook: "blocks.1.hook_resid_mid")])
        try session.launch(LaunchConfiguration(prompt: "abc"))
        _ = log.nextStop()
        try session.resume(.continue)
        #expect(log.nextStop()?.hook == .block(1, .residMid))

        let shape = try session.evaluate("x.shape")
        #expect(shape.value == .tensor(Tensor(shape: [2], data: [3, 4])))
        #expect(shape.text == "[3, 4]", "a small tensor is shown in full")
        let difference = try session.evaluate("(resid_mid - blocks.1.hook_resid_pre).abs().max()")
        guard case .number(let largest) = difference.value else { Issue.record("a number"); return }
        #expect(largest > 0)
        do {
            _ = try session.evaluate("blocks.1.hook_attn_out")
            Issue.record("attn_out was not recorded before this stop")
        } catch DebugError.expression(let message, _, _) {
            #expect(message.contains("not recorded"))
        }
        let residual = try session.evaluate("x")
        #expect(residual.summary?.norm == TensorSummary(try session.readTensor()).norm)
        #expect(residual.text.hasPrefix("tensor[3, 4] norm="), "a larger one is summarised")
        #expect(try session.variables(reference: residual.variablesReference).total == 3)
        #expect(try session.readTensor(expression: "x[-1] * 2") == Tensor(shape: [4], data: try session.readTensor(slice: TensorSlice(parsing: "[-1]")).data.map { $0 * 2 }))

        let lens = try session.evaluate("lens(x[-1], 3)")
        guard case .tokens(let rows) = lens.value else { Issue.record("lens gives tokens"); return }
        let residualRow = try session.readTensor(slice: TensorSlice(parsing: "[-1]")).data
        let expected = ToyModel().logitLens(residualRow)
        #expect(rows.map(\.token) == Array(expected.indices.sorted { expected[$0] > expected[$1] }.prefix(3)))
        #expect(rows.first?.piece == String(ToyModel.letters[rows[0].token]))

        do {
            _ = try session.evaluate("x + ")
            Issue.record("a syntax error throws")
        } catch DebugError.expression(_, let position, let expression) {
            #expect(expression == "x + " && position == 4)
        }
        session.terminate()
    }
}
