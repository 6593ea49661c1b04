import Tensors
import Tokenizers
@testable import Transformer

/// A plain forward pass from scratch, built on the reference kernels and written independently of the
/// engine's: whole sequence, no cache, no buffers shared between steps. It records every hook point and
/// lets `edit` change each activation the way an observer would, so patched runs can be checked too.
func referenceForward(
    _ model: LanguageModel, tokens: [Int32], edit: (HookPoint, inout [Float]) -> Void = { _, _ in }
) -> (logits: [Float], hooks: [HookPoint: [Float]]) {
    let c = model.config, w = model.weights
    let T = tokens.count, d = c.modelDim, heads = c.headCount, kvHeads = c.kvHeadCount, headDim = c.headDim
    var hooks: [HookPoint: [Float]] = [:]
    func hook(_ point: HookPoint, _ value: inout [Float]) {
        edit(point, &value)
        hooks[point] = value
    }
    func linear(_ x: [Float], _ weight: Parameter) -> [Float] {
        let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
        var y = [Float](repeating: 0, count: x.count / inFeatures * outFeatures)
        ReferenceBLAS.linear(x, rows: x.count / inFeatures, inFeatures: inFeatures,
                             weight: weight.pointer, outFeatures: outFeatures, into: &y)
        return y
    }
    /// RMSNorm over rows of `dim` with no hooks (QK-norm, post-sublayer norms).
    func plainNorm(_ x: [Float], _ weight: Parameter, dim: Int) -> [Float] {
        var scale = [Float](repeating: 0, count: x.count / dim), out = x
        ReferenceKernels.rmsScale(x, rows: x.count / dim, dim: dim, epsilon: c.normEpsilon, into: &scale)
        ReferenceKernels.divideRows(x, by: scale, rows: x.count / dim, dim: dim, weight: weight.pointer, into: &out)
        return out
    }
    func rmsNorm(_ x: [Float], _ weight: Parameter, _ scaleHook: HookPoint, _ normalizedHook: HookPoint) -> [Float] {
        let rows = x.count / d
        var scale = [Float](repeating: 0, count: rows)
        ReferenceKernels.rmsScale(x, rows: rows, dim: d, epsilon: c.normEpsilon, into: &scale)
        hook(scaleHook, &scale)
        var normalized = [Float](repeating: 0, count: x.count)
        ReferenceKernels.divideRows(x, by: scale, rows: rows, dim: d, weight: nil, into: &normalized)
        hook(normalizedHook, &normalized)
        ReferenceKernels.multiplyColumns(&normalized, rows: rows, dim: d, by: weight.pointer)
        return normalized
    }

    var x = tokens.flatMap { Array(UnsafeBufferPointer(start: w.tokenEmbedding.pointer + Int($0) * d, count: d)) }
        .map { $0 * c.embeddingScale }
    hook(.embed, &x)
    for l in 0..<c.layerCount {
        let layer = w.layers[l]
        hook(.block(l, .residPre), &x)
        let attnIn = rmsNorm(x, layer.attentionNorm, .block(l, .ln1Scale), .block(l, .ln1Normalized))
        var q = linear(attnIn, layer.query), k = linear(attnIn, layer.key), v = linear(attnIn, layer.value)
        hook(.block(l, .q), &q)
        hook(.block(l, .k), &k)
        hook(.block(l, .v), &v)
        if let queryNorm = layer.queryNorm, let keyNorm = layer.keyNorm {
            q = plainNorm(q, queryNorm, dim: headDim)
            k = plainNorm(k, keyNorm, dim: headDim)
        }
        let sliding = c.slidingWindow != nil && (l + 1) % c.slidingWindowPattern != 0
        let table = RotaryTable(positions: 0..<T, dim: headDim, base: sliding ? c.localRopeBase : c.ropeBase)
        ReferenceKernels.rotateHalf(&q, rows: T, heads: heads, headDim: headDim, cos: table.cos, sin: table.sin)
        ReferenceKernels.rotateHalf(&k, rows: T, heads: kvHeads, headDim: headDim, cos: table.cos, sin: table.sin)
        hook(.block(l, .rotQ), &q)
        hook(.block(l, .rotK), &k)

        var scores = [Float](repeating: -.infinity, count: heads * T * T)
        for h in 0..<heads {
            let g = h * kvHeads / heads
            for i in 0..<T {
                for j in 0...i where !sliding || j > i - c.slidingWindow! {
                    var dot: Float = 0
                    for e in 0..<headDim { dot += q[(i * heads + h) * headDim + e] * k[(j * kvHeads + g) * headDim + e] }
                    scores[(h * T + i) * T + j] = dot * c.attentionScale
                }
            }
        }
        hook(.block(l, .attnScores), &scores)
        var pattern = scores
        for row in 0..<heads * T {
            pattern.withUnsafeMutableBufferPointer { ReferenceKernels.softmax($0.baseAddress! + row * T, count: T) }
        }
        hook(.block(l, .pattern), &pattern)
        var z = [Float](repeating: 0, count: T * heads * headDim)
        for h in 0..<heads {
            let g = h * kvHeads / heads
            for i in 0..<T {
                for j in 0..<T {
                    let p = pattern[(h * T + i) * T + j]
                    for e in 0..<headDim { z[(i * heads + h) * headDim + e] += p * v[(j * kvHeads + g) * headDim + e] }
                }
            }
        }
        hook(.block(l, .z), &z)
        var attnOut = linear(z, layer.output)
        if let norm = layer.postAttentionNorm { attnOut = plainNorm(attnOut, norm, dim: d) }
        hook(.block(l, .attnOut), &attnOut)
        x = zip(x, attnOut).map(+)
        hook(.block(l, .residMid), &x)

        let mlpIn = rmsNorm(x, layer.mlpNorm, .block(l, .ln2Scale), .block(l, .ln2Normalized))
        var pre = linear(mlpIn, layer.gate), preLinear = linear(mlpIn, layer.up!)
        hook(.block(l, .mlpPre), &pre)
        hook(.block(l, .mlpPreLinear), &preLinear)
        var post = [Float](repeating: 0, count: pre.count)
        if c.gateActivation == .silu {
            ReferenceKernels.siluMultiply(gate: pre, up: preLinear, into: &post, count: pre.count)
        } else {
            ReferenceKernels.geluTanhMultiply(gate: pre, up: preLinear, into: &post, count: pre.count)
        }
        hook(.block(l, .mlpPost), &post)
        var mlpOut = linear(post, layer.down)
        if let norm = layer.postMLPNorm { mlpOut = plainNorm(mlpOut, norm, dim: d) }
        hook(.block(l, .mlpOut), &mlpOut)
        x = zip(x, mlpOut).map(+)
        hook(.block(l, .residPost), &x)
    }
    let finalIn = rmsNorm(x, w.finalNorm, .lnFinalScale, .lnFinalNormalized)
    var logits = linear(finalIn, w.unembedding)
    hook(.logits, &logits)
    return (logits, hooks)
}

/// A small model with random weights: two layers, grouped-query attention with 2 query heads per KV head.
/// `gemma`: three layers with Gemma 3's features, a sliding window of 4 on layers 0 and 1 (pattern 3).
func randomModel(seed: UInt64 = 42, gemma: Bool = false) -> LanguageModel {
    let config = gemma
        ? ModelConfig(
            architecture: .gemma3, layerCount: 3, modelDim: 32, headCount: 4, kvHeadCount: 2, headDim: 8,
            mlpDim: 48, vocabularySize: 50, contextLength: 128, ropeBase: 1e6, normEpsilon: 1e-6,
            attentionScale: 0.3, embeddingScale: Float(32.0.squareRoot()), slidingWindow: 4, slidingWindowPattern: 3,
            localRopeBase: 100, queryKeyNorm: true, postSublayerNorm: true, gateActivation: .geluTanh)
        : ModelConfig(
            architecture: .llama, layerCount: 2, modelDim: 32, headCount: 4, kvHeadCount: 2, headDim: 8,
            mlpDim: 48, vocabularySize: 50, contextLength: 128, ropeBase: 10000, normEpsilon: 1e-5)
    var seed = seed
    func parameter(_ shape: [Int], scale: Float = 0.3, offset: Float = 0) -> Parameter {
        seed += 1
        return Parameter(Tensor(shape: shape, data: randomFloats(shape.reduce(1, *), seed: seed, scale: scale).map { $0 + offset }))
    }
    let c = config
    let layers = (0..<c.layerCount).map { _ in
        LayerWeights(
            attentionNorm: parameter([c.modelDim], offset: 1), query: parameter([c.qDim, c.modelDim]),
            key: parameter([c.kvDim, c.modelDim]), value: parameter([c.kvDim, c.modelDim]),
            output: parameter([c.modelDim, c.qDim]), mlpNorm: parameter([c.modelDim], offset: 1),
            gate: parameter([c.mlpDim, c.modelDim]), up: parameter([c.mlpDim, c.modelDim]),
            down: parameter([c.modelDim, c.mlpDim]),
            queryNorm: gemma ? parameter([c.headDim], offset: 1) : nil,
            keyNorm: gemma ? parameter([c.headDim], offset: 1) : nil,
            postAttentionNorm: gemma ? parameter([c.modelDim], offset: 1) : nil,
            postMLPNorm: gemma ? parameter([c.modelDim], offset: 1) : nil)
    }
    let embedding = parameter([c.vocabularySize, c.modelDim], scale: 1)
    let weights = ModelWeights(tokenEmbedding: embedding, layers: layers,
                               finalNorm: parameter([c.modelDim], offset: 1), unembedding: embedding)
    let tokenizer = try! Tokenizer(vocabulary: TokenizerVocabulary(model: "gpt2", tokens: (0..<50).map { "t\($0)" }))
    return LanguageModel(config: config, weights: weights, tokenizer: tokenizer)
}

/// Records copies of the activations it is shown, and optionally edits them first.
final class Recorder: HookObserver {
    let wanted: (HookPoint) -> Bool
    let edit: (HookPoint, UnsafeMutableBufferPointer<Float>) -> Void
    private(set) var positions: [HookPoint: Range<Int>] = [:]
    private(set) var recorded: [HookPoint: Tensor] = [:]
    private(set) var order: [HookPoint] = []

    init(wanted: @escaping (HookPoint) -> Bool = { _ in true },
         edit: @escaping (HookPoint, UnsafeMutableBufferPointer<Float>) -> Void = { _, _ in }) {
        self.wanted = wanted
        self.edit = edit
    }

    func wants(_ hook: HookPoint) -> Bool { wanted(hook) }

    func observe(_ activation: ActivationView) {
        edit(activation.hook, activation.data)
        recorded[activation.hook] = activation.copy()
        order.append(activation.hook)
        positions[activation.hook] = activation.positions
    }
}
