import Testing
import Tensors
import Transformer
@testable import Analyses

/// The logit lens over every layer, against HF transformers' (scripts/make_analysis_references.py).
struct LogitLensTests {
    @Test func everyLayerMatchesTheReference() throws {
        let model = try SmolLM2.model()
        let settings = try References.settings("lens")
        let positions = settings["positions"] as! [Int], k = settings["k"] as! Int
        let table = try model.logitLensTable(tokens: model.tokenizer.encode(settings["prompt"] as! String),
                                             positions: positions, k: k)
        let layers = model.config.layerCount
        #expect(table.entries.count == (layers * 3 + 1) * positions.count)
        // Reference: [layer, site, position, k + 1] tokens and probabilities, best first.
        let tokens = try References.integers("lens.tokens"), probabilities = try References.tensor("lens.probs").data
        var checked = 0
        for layer in 0..<layers {
            for (s, site) in LensSite.allCases.enumerated() {
                for (p, position) in positions.enumerated() {
                    let entry = table.entries[(layer * 3 + s) * positions.count + p]
                    #expect(entry.hook == .block(layer, site.blockHook) && entry.position == position)
                    let base = ((layer * 3 + s) * positions.count + p) * (k + 1)
                    for rank in 0..<k {
                        let expected = probabilities[base + rank]
                        #expect(abs(entry.top[rank].probability - expected) < 1e-4, "\(entry.hook) at \(position), rank \(rank)")
                        // Tokens must agree unless the reference's neighbours are tied.
                        let tied = abs(expected - probabilities[base + rank + 1]) < 1e-4
                            || (rank > 0 && abs(expected - probabilities[base + rank - 1]) < 1e-4)
                        if !tied {
                            #expect(entry.top[rank].token == tokens[base + rank], "\(entry.hook) at \(position), rank \(rank)")
                            checked += 1
                        }
                    }
                }
            }
        }
        #expect(checked > layers * 3 * positions.count * k * 9 / 10)
        let finalTokens = try References.integers("lens.final.tokens"), finalProbabilities = try References.tensor("lens.final.probs").data
        for (p, entry) in table.entries.suffix(positions.count).enumerated() {
            #expect(entry.hook == .logits)
            #expect(entry.top[0].token == finalTokens[p * (k + 1)])
            #expect(abs(entry.top[0].probability - finalProbabilities[p * (k + 1)]) < 1e-4)
        }
    }

    @Test func theLastResidPostIsTheModelsOutput() throws {
        let model = try SmolLM2.model()
        let table = try model.logitLensTable(tokens: model.tokenizer.encode("def square(x):"), positions: [-1, 0], k: 3)
        let lastLayer = table.entries.filter { $0.hook == .block(model.config.layerCount - 1, .residPost) }
        let output = table.entries.filter { $0.hook == .logits }
        #expect(table.positions == [table.tokens.count - 1, 0])
        for (lens, logits) in zip(lastLayer, output) {
            #expect(lens.top.map(\.token) == logits.top.map(\.token))
            #expect(maxDifference(lens.top.map(\.logit), logits.top.map(\.logit)) < 1e-3)
        }
    }

    @Test func anyTensorsRows() throws {
        let model = try SmolLM2.model()
        let capture = HookCapture([.block(3, .residMid)])
        let tokens = model.tokenizer.encode("The capital of France is")
        _ = try model.forward(tokens, cache: model.makeCache(), observer: capture)
        let rows = try model.logitLensTop(capture[.block(3, .residMid)], k: 4)
        let table = try model.logitLensTable(tokens: tokens, positions: Array(0..<tokens.count), k: 4, sites: [.residMid])
        let expected = table.entries.filter { $0.hook == .block(3, .residMid) }.map(\.top)
        #expect(rows.count == tokens.count && expected.count == tokens.count)
        for (row, reference) in zip(rows, expected) {
            #expect(row.map(\.token) == reference.map(\.token))
            #expect(maxDifference(row.map(\.logit), reference.map(\.logit)) < 1e-4)
        }
        #expect(throws: AnalysisError.self) { try model.logitLensTop(Tensor(zeros: [3, 5]), k: 4) }
        #expect(throws: AnalysisError.self) { try model.logitLensTable(tokens: tokens, positions: [5], k: 4) }
    }
}
