import Testing
import Tensors
import Transformer
@testable import Analyses

/// Activation-patching sweeps against HF transformers' naive one-forward-per-cell grids.
struct PatchingSweepTests {
    struct Setting {
        let model: LanguageModel
        let clean: [Int32]
        let corrupted: [Int32]
        let answer: Int32
        let wrong: Int32

        init() throws {
            model = try SmolLM2.model()
            let settings = try References.settings("sweep")
            clean = model.tokenizer.encode(settings["clean"] as! String)
            corrupted = model.tokenizer.encode(settings["corrupted"] as! String)
            answer = model.token(settings["answer"] as! String)
            wrong = model.token(settings["wrong"] as! String)
        }

        func sweep(_ site: PatchSite, _ metric: PatchMetric, direction: PatchDirection = .denoise,
                   positions: [Int]? = nil, stacked: Bool = true) throws -> PatchingSweepResult {
            try model.patchingSweep(PatchingSweepSpec(clean: clean, corrupted: corrupted, site: site, metric: metric,
                                                      direction: direction, positions: positions),
                                    stacked: stacked, progress: { _ in }, isCancelled: { false })
        }
    }

    static let references: [(PatchSite, String)] = [(.residPre, "resid_pre"), (.attnOut, "attn_out"), (.mlpOut, "mlp_out"), (.headZ, "z")]

    /// Both ways of running the cells: stacked by layer, and one engine pass each.
    @Test(arguments: references, [true, false])
    func logitDifferenceGrid(_ reference: (PatchSite, String), stacked: Bool) throws {
        let (site, name) = reference
        let setting = try Setting()
        let result = try setting.sweep(site, .logitDifference(setting.answer, setting.wrong), stacked: stacked)
        // Reference: [metric (logit difference, probability, KL), layer, column].
        let reference = try References.tensor("sweep.\(name)")
        let layers = setting.model.config.layerCount, columns = reference.shape[2]
        #expect(result.columns.count == columns && result.values.count == layers)
        #expect(result.completed == result.total && !result.cancelled)
        let values = result.values.joined().map { $0! }
        #expect(maxDifference(values, reference.data[0 ..< layers * columns]) < 1e-3)
        let baselines = try References.tensor("sweep.clean").data[0], corrupted = try References.tensor("sweep.corrupted").data[0]
        #expect(abs(result.clean - baselines) < 1e-3 && abs(result.corrupted - corrupted) < 1e-3)
    }

    @Test func probabilityAndKLGrids() throws {
        let setting = try Setting()
        let reference = try References.tensor("sweep.resid_pre")
        let cells = reference.shape[1] * reference.shape[2]
        let probability = try setting.sweep(.residPre, .probability(setting.answer))
        #expect(maxDifference(probability.values.joined().map { $0! }, reference.data[cells ..< 2 * cells]) < 1e-4)
        let kl = try setting.sweep(.residPre, .klDivergence)
        #expect(maxDifference(kl.values.joined().map { $0! }, reference.data[2 * cells ..< 3 * cells]) < 1e-3)
        #expect(kl.clean == 0)
        #expect(abs(kl.corrupted - (try References.tensor("sweep.corrupted").data[2])) < 1e-3)
    }

    /// The prompts differ only at one position: patching its resid_pre at layer 0 swaps the whole run.
    @Test(arguments: PatchDirection.allCases)
    func patchingTheOnlyDifferenceSwapsTheRun(_ direction: PatchDirection) throws {
        let setting = try Setting()
        let differing = zip(setting.clean, setting.corrupted).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
        #expect(differing.count == 1)
        let result = try setting.sweep(.residPre, .logitDifference(setting.answer, setting.wrong), direction: direction,
                                       positions: differing)
        let swapped = direction == .denoise ? result.clean : result.corrupted
        #expect(abs(result.values[0][0]! - swapped) < 1e-4)
        #expect(abs(result.normalised[0][0]! - (direction == .denoise ? 1 : 0)) < 1e-4)
        // Patching a position the prompts share changes nothing.
        let same = try setting.sweep(.residPre, .logitDifference(setting.answer, setting.wrong), direction: direction, positions: [0])
        let unpatched = direction == .denoise ? same.corrupted : same.clean
        #expect(same.values.allSatisfy { abs($0[0]! - unpatched) < 1e-4 })
    }

    @Test func cancellationReturnsTheCellsDoneSoFar() throws {
        let setting = try Setting()
        var reported: [Double] = []
        let result = try setting.model.patchingSweep(
            PatchingSweepSpec(clean: setting.clean, corrupted: setting.corrupted, site: .mlpOut,
                              metric: .logitDifference(setting.answer, setting.wrong)),
            progress: { reported.append($0) }, isCancelled: { reported.count >= 3 })
        #expect(result.cancelled && result.total == setting.model.config.layerCount * setting.clean.count)
        #expect(result.completed > 0 && result.values.joined().compactMap { $0 }.count == result.completed)
        #expect(reported.count == 3 && reported.last == Double(result.completed) / Double(result.total))
        #expect(reported == reported.sorted() && Set(reported).count == 3)
    }

    /// Noising, a head grid over some positions, and a probability metric: stacked and one-by-one agree.
    @Test func stackedAndOneByOneAgree() throws {
        let setting = try Setting()
        for (site, positions) in [(PatchSite.headZ, [5, 7, 11]), (.attnOut, [1, 7, 9])] {
            let stacked = try setting.sweep(site, .probability(setting.wrong), direction: .noise, positions: positions)
            let single = try setting.sweep(site, .probability(setting.wrong), direction: .noise, positions: positions,
                                           stacked: false)
            #expect(maxDifference(stacked.values.joined().map { $0! }, single.values.joined().map { $0! }) < 1e-5)
            #expect(stacked.clean == single.clean && stacked.corrupted == single.corrupted)
        }
    }

    @Test func resumingWithAnUneditedResidualReproducesTheForward() throws {
        let model = try SmolLM2.model()
        let tokens = model.tokenizer.encode("The quick brown fox jumps over the lazy dog")
        let capture = HookCapture([.block(7, .residPre)])
        let cache = model.makeCache()
        let logits = try model.forward(tokens, cache: cache, observer: capture)
        cache.truncate(to: 3)
        let resumed = model.forward(resumingAt: 7, residual: LanguageModel.rows(capture[.block(7, .residPre)], Array(3..<tokens.count)),
                                    cache: cache)
        #expect(cache.count == tokens.count)
        #expect(resumed.shape == [tokens.count - 3, model.config.vocabularySize])
        #expect(maxDifference(resumed.data, logits.data[(3 * model.config.vocabularySize)...]) < 1e-3)
    }

    @Test func rejectsPromptsOfDifferentLengths() throws {
        let setting = try Setting()
        #expect(throws: AnalysisError(field: "corrupted", "has 3 tokens; the clean prompt has \(setting.clean.count)")) {
            try setting.model.patchingSweep(PatchingSweepSpec(clean: setting.clean, corrupted: [1, 2, 3], site: .residPre,
                                                              metric: .klDivergence))
        }
    }
}
