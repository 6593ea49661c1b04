import Tensors
import Transformer

/// One continuation of a recorded run, resumed at some layer: the run's positions `first…` with their own
/// residual entering that layer, and an optional edit of an activation at that layer. Positions before
/// `first` are the recorded run's: their keys and values come from its cache.
struct Lane {
    let first: Int
    /// [T − first, d_model]
    var residual: [Float]
    /// Writes the patch at its hook (`attn.hook_z`, `hook_attn_out` or `hook_mlp_out` of the resumed layer).
    let edit: RowWriter?
}

extension LanguageModel {
    /// Whether `resumeLanes` can run this model: it implements the plain LLaMA block (RMSNorm, RoPE on every
    /// layer, SiLU-gated MLP, no biases, no QK-norm or post-sublayer norms, no sliding window).
    var resumesLanes: Bool { config.isPlainLlama && weights.hasNoBiases }

    /// Resumes several lanes of one recorded run at block `layer` together and returns each lane's last
    /// position's logits, [lanes, vocab]. The lanes' rows are stacked, so that every weight matrix is read
    /// once per layer for all of them; attention stays within each lane (its own rows, after the recorded
    /// keys and values of its earlier positions). `keys` and `values` are the recorded run's cache, per layer
    /// [T, n_kv_heads · d_head]. The same arithmetic as the engine's forward pass, row for row.
    func resumeLanes(_ lanes: [Lane], at layer: Int, count: Int, keys: [Tensor], values: [Tensor]) -> Tensor {
        precondition(resumesLanes, "resumeLanes implements the LLaMA block only")
        let c = config, d = c.modelDim, hd = c.headDim, half = hd / 2
        let rowCounts = lanes.map { count - $0.first }
        let offsets = rowCounts.reduce(into: [0]) { $0.append($0.last! + $1) }
        let rows = offsets.last!

        // Scratch buffers, freed on return.
        var buffers: [UnsafeMutablePointer<Float>] = []
        defer { buffers.forEach { $0.deallocate() } }
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
            pointer.initialize(repeating: 0, count: max(1, count))
            buffers.append(pointer)
            return pointer
        }
        let residual = buffer(rows * d), normalized = buffer(rows * d), scale = buffer(rows)
        let query = buffer(rows * c.qDim), newKeys = buffer(rows * c.kvDim), newValues = buffer(rows * c.kvDim)
        let z = buffer(rows * c.qDim), output = buffer(rows * d)
        let gate = buffer(rows * c.mlpDim), up = buffer(rows * c.mlpDim), hidden = buffer(rows * c.mlpDim)
        let laneKeys = buffer(count * c.kvDim), laneValues = buffer(count * c.kvDim), scores = buffer(count * count)
        for (index, lane) in lanes.enumerated() {
            (residual + offsets[index] * d).update(from: lane.residual, count: rowCounts[index] * d)
        }

        // Each row's RoPE angles, by its absolute position.
        let table = RotaryTable(positions: 0..<count, dim: hd, base: c.ropeBase)
        var cos: [Float] = [], sin: [Float] = []
        for lane in lanes {
            cos += table.cos[lane.first * half ..< count * half]
            sin += table.sin[lane.first * half ..< count * half]
        }

        func edit(_ hook: HookPoint, _ data: UnsafeMutablePointer<Float>, width: Int) {
            for (index, lane) in lanes.enumerated() where lane.edit?.hook == hook {
                lane.edit!.write(into: data + offsets[index] * width, firstPosition: lane.first)
            }
        }
        func norm(_ weight: Parameter) {
            Kernels.rmsScale(residual, rows: rows, dim: d, epsilon: c.normEpsilon, into: scale)
            Kernels.divideRows(residual, by: scale, rows: rows, dim: d, weight: weight.pointer, into: normalized)
        }

        for l in layer..<c.layerCount {
            let w = weights.layers[l]
            // Attention: q, k, v of the stacked rows, rotated by their positions.
            norm(w.attentionNorm)
            w.query.linear(normalized, rows: rows, into: query)
            w.key.linear(normalized, rows: rows, into: newKeys)
            w.value.linear(normalized, rows: rows, into: newValues)
            Kernels.rotateHalf(query, rows: rows, heads: c.headCount, headDim: hd, cos: cos, sin: sin)
            Kernels.rotateHalf(newKeys, rows: rows, heads: c.kvHeadCount, headDim: hd, cos: cos, sin: sin)

            // Each lane attends to the recorded keys and values before its first position, then to its own.
            for (index, lane) in lanes.enumerated() {
                let n = rowCounts[index], offset = offsets[index], recorded = lane.first * c.kvDim
                keys[l].data.withUnsafeBufferPointer { laneKeys.update(from: $0.baseAddress!, count: recorded) }
                values[l].data.withUnsafeBufferPointer { laneValues.update(from: $0.baseAddress!, count: recorded) }
                (laneKeys + recorded).update(from: newKeys + offset * c.kvDim, count: n * c.kvDim)
                (laneValues + recorded).update(from: newValues + offset * c.kvDim, count: n * c.kvDim)
                for h in 0..<c.headCount {
                    let group = (h / c.groupSize) * hd
                    BLAS.gemm(transposeB: true, m: n, n: count, k: hd, alpha: c.attentionScale,
                              a: query + offset * c.qDim + h * hd, lda: c.qDim, b: laneKeys + group, ldb: c.kvDim,
                              c: scores, ldc: count)
                    for i in 0..<n {
                        let visible = lane.first + i + 1, row = scores + i * count
                        Kernels.softmax(row, count: visible)
                        (row + visible).update(repeating: 0, count: count - visible)
                    }
                    BLAS.gemm(m: n, n: hd, k: count, a: scores, lda: count, b: laneValues + group, ldb: c.kvDim,
                              c: z + offset * c.qDim + h * hd, ldc: c.qDim)
                }
            }
            edit(.block(l, .z), z, width: c.qDim)
            w.output.linear(z, rows: rows, into: output)
            edit(.block(l, .attnOut), output, width: d)
            Kernels.add(output, to: residual, count: rows * d)

            // The SiLU-gated MLP.
            norm(w.mlpNorm)
            w.gate.linear(normalized, rows: rows, into: gate)
            w.up!.linear(normalized, rows: rows, into: up)
            Kernels.siluMultiply(gate: gate, up: up, into: hidden, count: rows * c.mlpDim)
            w.down.linear(hidden, rows: rows, into: output)
            edit(.block(l, .mlpOut), output, width: d)
            Kernels.add(output, to: residual, count: rows * d)
        }

        // The last row of each lane through the final norm and the unembedding.
        let last = offsets.dropFirst().map { $0 - 1 }
        return logitLens(Tensor(shape: [lanes.count, d], data: last.flatMap { Array(UnsafeBufferPointer(start: residual + $0 * d, count: d)) }))
    }
}

extension ModelConfig {
    /// LLaMA's block exactly: what `resumeLanes` assumes.
    var isPlainLlama: Bool {
        architecture == .llama && normalization == .rms && rotary && !positionEmbedding && gatedMLP
            && gateActivation == .silu && !queryKeyNorm && !postSublayerNorm && slidingWindow == nil
    }
}

extension ModelWeights {
    /// No layer has a bias, and the final norm has none.
    var hasNoBiases: Bool {
        finalNormBias == nil && layers.allSatisfy { w in
            [w.attentionNormBias, w.queryBias, w.keyBias, w.valueBias, w.outputBias, w.mlpNormBias, w.gateBias, w.downBias]
                .allSatisfy { $0 == nil }
        }
    }
}
