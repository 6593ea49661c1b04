import Foundation
import Testing
import Tensors
@testable import Transformer

/// Throughput on SmolLM2, printed rather than asserted (timings depend on the machine and its load).
/// Runs only with LMDBG_BENCH set: `prefill`, `decode`, or `1` for both; LMDBG_THREADS sets the
/// thread count (default 2).
struct Benchmarks {
    static let selection = ProcessInfo.processInfo.environment["LMDBG_BENCH"]
    static let enabled = selection != nil

    /// Best of `repeats` wall-clock seconds.
    func seconds(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return best
    }

    final class Everything: HookObserver {
        var sum: Float = 0
        func wants(_ hook: HookPoint) -> Bool { true }
        func observe(_ activation: ActivationView) { sum += activation.data[0] }
    }

    @Test(.enabled(if: enabled)) func throughput() throws {
        Threads.count = Int(ProcessInfo.processInfo.environment["LMDBG_THREADS"] ?? "") ?? 2
        let model = try SmolLM2.model()
        var generator = Xoshiro256(seed: 1)
        let tokens = (0..<512).map { _ in Int32(generator.next() % 49152) }
        for n in [16, 128, 512] where Self.selection != "decode" {
            let prompt = Array(tokens.prefix(n))
            let plain = try seconds(3) { _ = try model.forward(prompt, cache: model.makeCache(), logits: .last) }
            let observed = try seconds(3) {
                _ = try model.forward(prompt, cache: model.makeCache(), observer: Everything(), logits: .last)
            }
            let allLogits = try seconds(2) { _ = try model.forward(prompt, cache: model.makeCache()) }
            print(String(format: "prefill %3d: %6.0f tok/s (all logits %6.0f tok/s); observing every hook %+.1f%%",
                         n, Double(n) / plain, Double(n) / allLogits, (observed / plain - 1) * 100))
        }
        for context in [16, 256] where Self.selection != "prefill" {
            let cache = model.makeCache()
            _ = try model.forward(Array(tokens.prefix(context)), cache: cache, logits: .last)
            let steps = 64
            let time = try seconds(1) {
                for i in 0..<steps { _ = try model.forward([tokens[i]], cache: cache, logits: .last) }
            }
            print(String(format: "decode after %3d: %5.1f tok/s", context, Double(steps) / time))
        }
    }
}
