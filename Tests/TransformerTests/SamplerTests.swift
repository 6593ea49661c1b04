import Foundation
import Testing
import Tensors
@testable import Transformer

struct SamplerTests {
    let logits: [Float] = randomFloats(200, seed: 99, scale: 4)

    func draw(_ sampler: Sampler, _ n: Int, logits: [Float]? = nil) -> [Int32] {
        var sampler = sampler
        let row = logits ?? self.logits
        return row.withUnsafeBufferPointer { row in (0..<n).map { _ in sampler.sample(row) } }
    }

    @Test func generatorIsReproducible() {
        var a = Xoshiro256(seed: 7), b = Xoshiro256(seed: 7), c = Xoshiro256(seed: 8)
        let first = (0..<5).map { _ in a.next() }
        #expect(first == (0..<5).map { _ in b.next() })
        #expect(first != (0..<5).map { _ in c.next() })
        var unit = Xoshiro256(seed: 1)
        #expect((0..<1000).allSatisfy { _ in (0..<1).contains(unit.nextUnit()) })
    }

    @Test func sameSeedSameTokens() {
        let sampler = Sampler(temperature: 1.2, topK: 50, topP: 0.9, seed: 1234)
        #expect(draw(sampler, 100) == draw(sampler, 100))
        #expect(draw(sampler, 100) != draw(Sampler(temperature: 1.2, topK: 50, topP: 0.9, seed: 1235), 100))
    }

    @Test func greedyIsArgmax() {
        let best = Int32(logits.indices.max { logits[$0] < logits[$1] }!)
        #expect(draw(.greedy, 3) == [best, best, best])
        #expect(draw(Sampler(temperature: 0.8, topK: 1, seed: 5), 10) == Array(repeating: best, count: 10))
        // Ties go to the first index, as torch.argmax.
        #expect(draw(.greedy, 1, logits: [0, 3, 1, 3]) == [1])
    }

    @Test func topKAndTopPKeepOnlyTheHead() {
        let order = logits.indices.sorted { logits[$0] > logits[$1] }
        let top5 = Set(order.prefix(5).map(Int32.init))
        #expect(Set(draw(Sampler(temperature: 1, topK: 5, seed: 3), 2000)).isSubset(of: top5))

        // Nucleus: the smallest head whose probability reaches p.
        let probabilities = softmax(logits)
        var cumulative: Float = 0
        var nucleus: Set<Int32> = []
        for index in order where cumulative < 0.5 {
            cumulative += probabilities[index]
            nucleus.insert(Int32(index))
        }
        let drawn = Set(draw(Sampler(temperature: 1, topP: 0.5, seed: 4), 3000))
        #expect(drawn == nucleus)
    }

    /// Frequencies follow softmax(logits / temperature).
    @Test func distributionFollowsSoftmax() {
        let logits: [Float] = [2, 1, 0, -1, 0.5]
        for temperature: Float in [1, 0.5, 2] {
            let n = 40_000
            let counts = draw(Sampler(temperature: temperature, seed: 11), n, logits: logits)
                .reduce(into: [Int](repeating: 0, count: logits.count)) { $0[Int($1)] += 1 }
            let expected = softmax(logits.map { $0 / temperature })
            for i in logits.indices {
                let p = Double(expected[i]), observed = Double(counts[i]) / Double(n)
                let sigma = (p * (1 - p) / Double(n)).squareRoot()
                #expect(abs(observed - p) < 5 * sigma + 1e-4, "temperature \(temperature) token \(i)")
            }
        }
    }

    private func softmax(_ x: [Float]) -> [Float] {
        let m = x.max()!
        let e = x.map { Foundation.exp(Double($0 - m)) }
        let s = e.reduce(0, +)
        return e.map { Float($0 / s) }
    }
}
