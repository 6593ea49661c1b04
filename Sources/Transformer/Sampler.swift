import Foundation
import Tensors

/// xoshiro256** (Blackman & Vigna), seeded through SplitMix64: a small, fast, reproducible generator.
/// The same seed gives the same stream on every machine and run.
public struct Xoshiro256: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (next(), next(), next(), next())
    }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotateLeft(s.3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

/// Picks the next token from a row of logits: greedy (temperature 0), or sampled after temperature,
/// top-k and top-p (nucleus) filtering, in HF's order. Deterministic for a given seed.
public struct Sampler: Sendable {
    /// 0 means greedy.
    public var temperature: Float
    /// Keep only the k most likely tokens; 0 keeps all.
    public var topK: Int
    /// Keep the smallest set of most likely tokens whose probability reaches p; 1 keeps all.
    public var topP: Float
    private var generator: Xoshiro256

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        generator = Xoshiro256(seed: seed)
    }

    public static var greedy: Sampler { Sampler() }

    /// The next token for a `[vocab]` row of logits.
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        if temperature <= 0 || topK == 1 { return Int32(Self.argmax(logits)) }

        // Candidates, most likely first when filtering needs an order.
        var candidates = Array(0..<logits.count)
        if topK > 0 || topP < 1 {
            candidates.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
            if topK > 0 { candidates.removeLast(max(0, candidates.count - topK)) }
        }

        // Softmax of logits / temperature over the candidates, in double precision.
        let maximum = candidates.map { logits[$0] }.max() ?? 0
        var probabilities = candidates.map { Foundation.exp(Double(logits[$0] - maximum) / Double(temperature)) }
        var total = probabilities.reduce(0, +)

        if topP < 1 {
            var cumulative = 0.0
            var kept = 0
            while kept < probabilities.count {
                cumulative += probabilities[kept] / total
                kept += 1
                if cumulative >= Double(topP) { break }
            }
            probabilities.removeLast(probabilities.count - kept)
            total = probabilities.reduce(0, +)
        }

        var threshold = generator.nextUnit() * total
        for (index, probability) in probabilities.enumerated() {
            threshold -= probability
            if threshold < 0 { return Int32(candidates[index]) }
        }
        return Int32(candidates[probabilities.count - 1])
    }

    /// The next token from the last row of a `[rows, vocab]` logits tensor.
    public mutating func sample(lastRowOf logits: Tensor) -> Int32 {
        let vocab = logits.shape.last ?? 0
        return logits.data.withUnsafeBufferPointer { all in
            sample(UnsafeBufferPointer(rebasing: all[(all.count - vocab)...]))
        }
    }

    /// The first index of the largest value, as torch.argmax.
    public static func argmax(_ values: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }
}
