import Testing
import Tensors
@testable import Transformer

/// Largest |a − b| over the largest |b|, where -inf in one must be -inf in the other.
func hookError(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    var scale: Float = .leastNormalMagnitude, worst: Float = 0
    for (x, y) in zip(a, b) {
        if y.isInfinite || x.isInfinite {
            if x != y { return .infinity }
            continue
        }
        scale = max(scale, abs(y))
        worst = max(worst, abs(x - y))
    }
    return worst / scale
}

/// The forward pass on small random models (LLaMA, and Gemma 3 with a sliding window of 4), checked
/// against `referenceForward`.
struct ForwardTests {
    let model = randomModel()
    let gemma = randomModel(gemma: true)
    let tokens: [Int32] = [3, 17, 42, 0, 9, 9, 31, 5, 49, 12, 7]

    /// 150 tokens take prefill's blocked causal attention through several row blocks.
    static let longTokens: [Int32] = (0..<150).map { Int32(($0 * 37 + 11) % 50) }

    @Test(arguments: [false, true], [false, true])
    func everyHookMatchesReference(long: Bool, gemma: Bool) throws {
        let tokens = long ? Self.longTokens : tokens, model = gemma ? self.gemma : model
        let recorder = Recorder()
        let logits = try model.forward(tokens, cache: model.makeCache(), observer: recorder)
        let reference = referenceForward(model, tokens: tokens)
        #expect(recorder.order == model.hookPoints)
        for hook in model.hookPoints {
            let found = try #require(recorder.recorded[hook], "\(hook)")
            #expect(found.shape == model.hookShape(hook, tokens: tokens.count), "\(hook)")
            #expect(hookError(found.data, reference.hooks[hook]!) < 1e-5, "\(hook)")
            #expect(recorder.positions[hook] == 0..<tokens.count)
        }
        #expect(logits.shape == [tokens.count, model.config.vocabularySize])
        #expect(hookError(logits.data, reference.logits) < 1e-5)
    }

    @Test func observingDoesNotChangeTheResult() throws {
        let plain = try model.forward(tokens, cache: model.makeCache())
        let observed = try model.forward(tokens, cache: model.makeCache(), observer: Recorder())
        #expect(plain == observed)
        // Observing only the pattern (not the scores) takes the other attention path.
        let patternOnly = Recorder { if case .block(_, .pattern) = $0 { true } else { false } }
        #expect(try model.forward(tokens, cache: model.makeCache(), observer: patternOnly) == plain)
        let everything = Recorder()
        _ = try model.forward(tokens, cache: model.makeCache(), observer: everything)
        #expect(patternOnly.recorded[.block(1, .pattern)] == everything.recorded[.block(1, .pattern)])
    }

    @Test func lastRowOnly() throws {
        let all = try model.forward(tokens, cache: model.makeCache())
        let recorder = Recorder()
        let last = try model.forward(tokens, cache: model.makeCache(), observer: recorder, logits: .last)
        let vocab = model.config.vocabularySize
        #expect(last.shape == [1, vocab])
        let lastRow = Array(all.data[(tokens.count - 1) * vocab ..< tokens.count * vocab])
        #expect(hookError(last.data, lastRow) < 1e-6) // gemv for one row, gemm for several
        #expect(recorder.recorded[.lnFinalScale]?.shape == [1, 1])
        #expect(recorder.positions[.logits] == tokens.count - 1 ..< tokens.count)
    }

    /// Decoding in chunks with the cache gives the rows of one full pass, and the hooks of the later
    /// chunks are the full pass's rows (scores and patterns over all positions so far).
    @Test(arguments: [[4, 1, 1, 3, 2], [70, 1, 79]], [false, true])
    func cacheMatchesFullRecomputation(chunks: [Int], gemma: Bool) throws {
        let tokens = chunks.reduce(0, +) == Self.longTokens.count ? Self.longTokens : tokens
        let model = gemma ? self.gemma : model
        let full = Recorder()
        let fullLogits = try model.forward(tokens, cache: model.makeCache(), observer: full)
        let vocab = model.config.vocabularySize, heads = model.config.headCount, T = tokens.count
        let cache = model.makeCache(capacity: 2)
        var start = 0
        for chunk in chunks {
            let recorder = Recorder()
            let logits = try model.forward(Array(tokens[start..<start + chunk]), cache: cache, observer: recorder)
            #expect(cache.count == start + chunk)
            #expect(hookError(logits.data, Array(fullLogits.data[start * vocab..<(start + chunk) * vocab])) < 1e-5)
            let total = start + chunk
            let pattern = try #require(recorder.recorded[.block(1, .pattern)])
            #expect(pattern.shape == [heads, chunk, total])
            #expect(recorder.positions[.block(1, .pattern)] == start..<total)
            let fullPattern = full.recorded[.block(1, .pattern)]!.data
            var expected: [Float] = []
            for h in 0..<heads {
                for i in start..<total {
                    let row = (h * T + i) * T
                    expected += fullPattern[row..<row + total]
                }
            }
            #expect(hookError(pattern.data, expected) < 1e-5)
            let width = model.config.kvDim
            #expect(hookError(recorder.recorded[.block(0, .rotK)]!.data,
                              Array(full.recorded[.block(0, .rotK)]!.data[start * width..<total * width])) < 1e-5)
            start = total
        }
        #expect(hookError(cache.keys(layer: 1).data, full.recorded[.block(1, .rotK)]!.data) < 1e-6)
        #expect(hookError(cache.values(layer: 0).data, full.recorded[.block(0, .v)]!.data) < 1e-6)
    }

    /// An edit at any hook point carries through the rest of the pass exactly as in the reference.
    @Test(arguments: HookPoint.BlockHook.allCases, [false, true])
    func patchCarriesThrough(_ blockHook: HookPoint.BlockHook, gemma: Bool) throws {
        try checkPatch(at: .block(1, blockHook), gemma: gemma)
        try checkPatch(at: .block(0, blockHook), gemma: gemma)
    }

    @Test(arguments: [false, true])
    func patchAtGlobalHooks(gemma: Bool) throws {
        for hook: HookPoint in [.embed, .lnFinalScale, .lnFinalNormalized, .logits] {
            try checkPatch(at: hook, gemma: gemma)
        }
    }

    private func checkPatch(at target: HookPoint, gemma: Bool) throws {
        let model = gemma ? self.gemma : model
        // Scales finite entries by a position-dependent factor and shifts them (-inf stays -inf).
        func edit(_ hook: HookPoint, _ data: UnsafeMutableBufferPointer<Float>) {
            guard hook == target else { return }
            for i in data.indices where data[i].isFinite { data[i] = data[i] * Float(i % 3) * 0.7 + 0.05 }
        }
        let plain = try model.forward(tokens, cache: model.makeCache())
        let patched = try model.forward(tokens, cache: model.makeCache(), observer: Recorder(wanted: { $0 == target }, edit: edit))
        let reference = referenceForward(model, tokens: tokens) { hook, value in
            value.withUnsafeMutableBufferPointer { edit(hook, $0) }
        }
        // Some edits shrink norm scales to 0.05, which amplifies rounding; wrong patching is off by O(1).
        #expect(hookError(patched.data, reference.logits) < 1e-4, "\(target)")
        #expect(hookError(patched.data, plain.data) > 1e-3, "\(target) changed nothing")
    }

    @Test func rejectsTokensOutsideTheVocabulary() {
        #expect(throws: TransformerError.tokenOutOfRange(token: 50, vocabularySize: 50)) {
            try model.forward([1, 50], cache: model.makeCache())
        }
        #expect(throws: TransformerError.tokenOutOfRange(token: -1, vocabularySize: 50)) {
            try model.forward([-1], cache: model.makeCache())
        }
    }

    @Test func hookShapes() {
        #expect(model.hookShape(.block(1, .attnScores), tokens: 3, cached: 5) == [4, 3, 8])
        #expect(model.hookShape(.block(0, .k), tokens: 3) == [3, 2, 8])
        #expect(model.hookShape(.block(2, .k), tokens: 3) == nil)
        #expect(model.hookShape(.posEmbed, tokens: 3) == nil)
        #expect(model.hookPoints.count == 1 + 2 * 20 + 3)
    }
}
