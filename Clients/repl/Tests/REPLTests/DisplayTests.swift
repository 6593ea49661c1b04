import LMDebugProtocol
import Testing
@testable import REPLCore

@Suite struct SparklineTests {
    @Test func levelsSpanLowToHigh() {
        #expect(Sparkline.render([0, 1, 2, 3, 4, 5, 6, 7], low: 0, high: 7) == "▁▂▃▄▅▆▇█")
        #expect(Sparkline.render([7, 0], low: 0, high: 7) == "█▁")
    }

    @Test func valuesOutsideTheRangeClampAndNonFiniteAreMarked() {
        #expect(Sparkline.render([-10, 10, .nan, .infinity], low: 0, high: 1) == "▁█××")
    }

    @Test func aFlatRangeIsDrawnMidHeight() {
        #expect(Sparkline.render([3, 3, 3], low: 3, high: 3) == "▄▄▄")
    }

    @Test func downsamplingKeepsTheLargestMagnitudePerBucket() {
        #expect(Sparkline.downsample([0, 1, -9, 2, 3, 4, 5, 6], to: 2) == [-9, 6])
        #expect(Sparkline.downsample([0, 1, 2], to: 5) == [0, 1, 2])
        let downsampled = Sparkline.downsample([1, .nan, 2, 3], to: 2)
        #expect(downsampled[0].isNaN && downsampled[1] == 3)
        // Buckets cover the input evenly: a spike anywhere survives.
        for spike in 0..<100 {
            var values = [Float](repeating: 0.1, count: 100)
            values[spike] = 50
            #expect(Sparkline.downsample(values, to: 7).contains(50))
        }
    }
}

@Suite struct DisplayTests {
    @Test func numbers() {
        #expect(Display.number(3) == "3")
        #expect(Display.number(-0.5) == "-0.5")
        #expect(Display.number(16.881943) == "16.882")
        #expect(Display.number(1.23456789e-7) == "1.2346e-07")
        #expect(Display.number(123.456789, significant: 7) == "123.4568")
        #expect(Display.number(.nan) == "nan")
        #expect(Display.number(-.infinity) == "-inf")
    }

    @Test func quoting() {
        #expect(Display.quoted(" Paris") == "' Paris'")
        #expect(Display.quoted("it's\n\\\t\u{1}") == #"'it\'s\n\\\t\x01'"#)
    }

    @Test func smallTensorsAreWrittenOut() {
        #expect(Display.tensor(shape: [2, 2], summary: nil, values: [1, 2, 3, 4]) == ["tensor[2, 2] = [[1, 2], [3, 4]]"])
        #expect(Display.tensor(shape: [], summary: nil, values: [2.5]) == ["tensor[] = 2.5"])
    }

    @Test func tensorsShowStatisticsAndASparklinePerRowScaledToTheRow() {
        let values = (0..<10).map(Float.init)
        #expect(Display.tensor(shape: [2, 5], summary: nil, values: values) == [
            "tensor[2, 5]  norm=16.882 mean=4.5 min=0 max=9",
            "  [0] ▁▃▅▇█  0 … 4",
            "  [1] ▁▃▅▇█  5 … 9",
        ])
        #expect(Display.tensor(shape: [9], summary: nil, values: [0, 8, 0, 8, 0, 8, 0, 8, -8]).last == "  ▅█▅█▅█▅█▁  -8 … 8")
    }

    @Test func theServersSummaryIsUsedWithItsLargestElements() {
        let summary = TensorSummary(norm: 10, mean: 0.25, min: -3, max: 8,
                                    topDims: [TopDim(index: [1, 2], value: 8), TopDim(index: [0, 0], value: -3)], nanCount: 1)
        #expect(Display.tensor(shape: [2, 3, 40], summary: summary, values: nil) == [
            "tensor[2, 3, 40]  norm=10 mean=0.25 min=-3 max=8 nan=1",
            "  largest: [1, 2] 8, [0, 0] -3",
        ])
    }

    @Test func manyRowsAreElidedInTheMiddle() {
        let values = (0..<60).map { Float($0 % 3) }
        let lines = Display.tensor(shape: [20, 3], summary: nil, values: values)
        #expect(lines.count == 1 + 8 + 1)
        #expect(lines[1] == "  [0]  ▁▅█  0 … 2")
        #expect(lines[4] == "  [3]  ▁▅█  0 … 2")
        #expect(lines[5] == "       ⋮ 12 more rows")
        #expect(lines[6] == "  [16] ▁▅█  0 … 2")
        #expect(lines[9] == "  [19] ▁▅█  0 … 2")
    }

    @Test func longRowsAreDownsampledToTheSparklineWidth() {
        let values = (0..<576).map { Float($0) }
        let lines = Display.tensor(shape: [576], summary: nil, values: values)
        #expect(lines[1] == "  " + Sparkline.render(Sparkline.downsample(values, to: 64), low: 0, high: 575) + "  0 … 575")
        #expect(lines[1].count == 2 + Display.sparklineWidth + 9)
        #expect(lines[2] == "  (576 values per row; each column shows the largest magnitude among its values)")
    }

    @Test func rowIndices() {
        #expect(Display.index(ofRow: 7, shape: [3, 4, 10]) == [1, 3])
        #expect(Display.index(ofRow: 0, shape: [5]) == [])
    }

    @Test func tokenTable() {
        let rows = [Display.TokenRow(token: 3681, piece: " Paris", scores: [0.4312]),
                    Display.TokenRow(token: 260, piece: "\n", scores: [0.08]),
                    Display.TokenRow(token: 7, piece: nil, scores: [nil])]
        #expect(Display.tokenTable(rows, columns: ["prob"]) == [
            "rank  token  piece       prob",
            "   1   3681  ' Paris'  0.4312",
            "   2    260  '\\n'        0.08",
            "   3      7  " + String(repeating: " ", count: 8 + 2 + 5) + "-",
        ])
    }

    @Test func tokenTableWithProbabilityAndLogit() {
        let rows = [Display.TokenRow(token: 1, piece: "a", scores: [0.5, 12.25])]
        #expect(Display.tokenTable(rows, columns: ["prob", "logit"]) == [
            "rank  token  piece  prob  logit",
            "   1      1  'a'     0.5  12.25",
        ])
    }

    @Test func serverTokenListsParse() {
        let entries = Display.parseTokenList(#"' Paris' 0.431, 'it\'s' 0.1, #12 0.05, '\x01\n' 2e-05, …"#)
        #expect(entries.map(\.piece) == [" Paris", "it's", nil, "\u{1}\n"])
        #expect(entries.map(\.score) == [0.431, 0.1, 0.05, 2e-05])
        #expect(Display.parseTokenList("(no tokens)").isEmpty)
        #expect(Display.parseTokenList("' a' nan, ' b' -inf").count == 2)
    }

    @Test func stopLines() {
        let stop = StoppedNotification(sessionId: 1, reason: .breakpoint, hook: "blocks.3.hook_resid_post", layer: 3,
                                       positions: PositionRange(0..<6), tokenStep: 0, breakpointIds: [17])
        #expect(Display.stop(stop, breakpoints: [1])
                == "stopped at blocks.3.hook_resid_post (layer 3, token step 0, positions 0..<6): breakpoint 1")
        #expect(Display.stop(stop, breakpoints: [1, 4]).hasSuffix("): breakpoints 1, 4"))

        let entry = StoppedNotification(sessionId: 1, reason: .entry, positions: PositionRange(0..<6), tokenStep: 0)
        #expect(Display.stop(entry, breakpoints: []) == "stopped on entry (token step 0, positions 0..<6): entry")

        let exception = StoppedNotification(sessionId: 2, reason: .exception, hook: "blocks.1.hook_mlp_out", layer: 1,
                                            positions: PositionRange(6..<7), tokenStep: 1, exceptionFilter: .nan,
                                            recorded: nil, description: "3 NaN values")
        #expect(Display.stop(exception, breakpoints: [])
                == "stopped at blocks.1.hook_mlp_out (layer 1, token step 1, positions 6..<7): exception nan (3 NaN values)")

        let back = StoppedNotification(sessionId: 2, reason: .step, hook: "logits", positions: PositionRange(0..<6),
                                       tokenStep: 0, recorded: true)
        #expect(Display.stop(back, breakpoints: []) == "stopped at logits (token step 0, positions 0..<6): step [recorded]")
    }

    @Test func terminationLines() {
        let ended = TerminatedNotification(sessionId: 2, reason: .maxNewTokens, tokens: [1, 2], text: " Paris.", activePatches: [3])
        #expect(Display.termination(ended) == "run 2 ended (maxNewTokens): 2 tokens generated: ' Paris.'; patches 3 applied")
        let prompt = TerminatedNotification(sessionId: 1, reason: .maxNewTokens, tokens: [], text: "", activePatches: [])
        #expect(Display.termination(prompt) == "run 1 ended (maxNewTokens): no tokens generated")
        let failed = TerminatedNotification(sessionId: 4, reason: .error, tokens: [], text: "", activePatches: [], message: "out of memory")
        #expect(Display.termination(failed) == "run 4 failed: out of memory")
    }

    @Test func progressLines() {
        #expect(Display.progress(title: "", .begin(WorkDoneProgressBegin(title: "Loading m.gguf", percentage: 0))) == "Loading m.gguf  0%")
        #expect(Display.progress(title: "Loading m.gguf", .report(WorkDoneProgressReport(message: "blk.3.attn_q.weight", percentage: 42)))
                == "Loading m.gguf  42%  blk.3.attn_q.weight")
        #expect(Display.progress(title: "Loading m.gguf", .end(WorkDoneProgressEnd(message: "loaded"))) == "Loading m.gguf  loaded")
    }

    @Test func breakpointTable() {
        let entries = [
            Display.BreakpointEntry(number: 1, spec: SourceBreakpoint(hook: "blocks.3.hook_resid_post"),
                                    status: Breakpoint(id: 9, verified: true, hooks: 1)),
            Display.BreakpointEntry(number: 12, spec: SourceBreakpoint(hook: "blocks.*.hook_resid_post", condition: "x.norm() > 5", hitCondition: "2"),
                                    status: Breakpoint(id: 10, verified: true, hooks: 30)),
            Display.BreakpointEntry(number: 13, spec: SourceBreakpoint(hook: "embed", logMessage: "{x.norm()}"), status: nil),
        ]
        #expect(Display.breakpoints(entries) == [
            "num  hook                      hooks",
            "  1  blocks.3.hook_resid_post      1",
            " 12  blocks.*.hook_resid_post     30  hits 2 if x.norm() > 5",
            " 13  embed                         ?  log {x.norm()}",
        ])
        #expect(Display.breakpoints([]) == ["no breakpoints"])
    }

    @Test func patchTable() {
        let patches = [
            Patch(id: 1, hooks: 1, hook: "blocks.3.hook_resid_post", positions: .list([0, 2]), op: .zero),
            Patch(id: 2, hooks: 30, hook: "blocks.*.attn.hook_z", positions: .all, heads: [0, 3], op: .scale, scale: 0.5),
            Patch(id: 3, hooks: 1, hook: "h", positions: .prompt, op: .add, vector: WireTensor(shape: [2], values: [1, 2]), scale: 2),
            Patch(id: 4, hooks: 1, hook: "h", positions: .all, op: .resample, source: "Rome"),
        ]
        #expect(Display.patches(patches) == [
            "id  hook                      hooks  positions  heads  operation",
            " 1  blocks.3.hook_resid_post      1  0,2        all    zero",
            " 2  blocks.*.attn.hook_z         30  all        0,3    scale 0.5",
            " 3  h                             1  prompt     all    add [2] ×2",
            " 4  h                             1  all        all    resample 'Rome'",
        ])
    }

    @Test func frames() {
        let frames = [StackFrame(id: 1, name: "blocks.3.hook_resid_post", kind: .hook, hook: "blocks.3.hook_resid_post", layer: 3, tokenStep: 0),
                      StackFrame(id: 2, name: "blocks.3", kind: .layer, layer: 3, tokenStep: 0),
                      StackFrame(id: 3, name: "prompt", kind: .token, tokenStep: 0)]
        #expect(Display.frames(frames) == ["#0  blocks.3.hook_resid_post  (hook)", "#1  blocks.3  (layer)", "#2  prompt  (token step 0)"])
    }

    @Test func hookGlobs() {
        let matches = hookGlob("blocks.*.hook_resid_post")
        #expect(matches("blocks.3.hook_resid_post") && matches("blocks.12.hook_resid_post"))
        #expect(!matches("blocks.3.hook_resid_pre") && !matches("hook_embed"))
        #expect(hookGlob("*")("anything") && hookGlob("a*b*c")("aXbYc") && !hookGlob("a*b*c")("aXcYb"))
        #expect(hookGlob("logits")("logits") && !hookGlob("logits")("logits2"))
        #expect(hookGlob("a*a")("aa") && !hookGlob("a*a")("a"))
    }
}

@Suite struct AttributionDisplayTests {
    @Test func gpt2ShowsPositionEmbeddingsBiasesAndTheConstant() {
        let result = AttributionResult(position: 3, token: 7, logit: 2.1875, total: 2.1875, finalScale: 1.5, embed: 0.0625,
                                       posEmbed: -0.25, attention: [1.5], heads: [[0.75, 0.125]], mlp: [0.5], constant: 0.375)
        let lines = Display.attribution(result, target: "#7", baseline: nil)
        #expect(lines[0] == "logit #7 at position 3: 2.188 (parts sum to 2.188: embed 0.0625, pos_embed -0.25, attention 1.5, "
                + "MLPs 0.5, final norm bias 0.375; final norm scale 1.5)")
        let rows = lines.dropFirst(2).map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        // Largest first; the attention's bias is what its heads leave: 1.5 − 0.875.
        #expect(rows == ["L0 H0 0.75", "L0 attn bias 0.625", "L0 MLP 0.5", "final norm bias 0.375", "pos_embed -0.25",
                         "L0 H1 0.125", "embed 0.0625"])
    }

    @Test func heldTogetherHeadsShowAsTheLayersAttention() {
        let result = AttributionResult(position: 0, token: 7, logit: 1, total: 1, finalScale: 1, embed: 0,
                                       attention: [0.75], heads: [[]], mlp: [0.25])
        let rows = Display.attribution(result, target: "#7", baseline: nil).dropFirst(2)
            .map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(rows == ["L0 attn 0.75", "L0 MLP 0.25", "embed 0"])
    }
}
