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

    /// Best of `repeats` runs: wall-clock seconds, and CPU seconds of the whole process (all threads).
    /// On a shared machine the CPU time shows the work done; wall time also shows the waiting.
    func seconds(_ repeats: Int, _ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
        func cpuNow() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }
        var best = (wall: Double.infinity, cpu: Double.infinity)
        for _ in 0..<repeats {
            let wall = DispatchTime.now().uptimeNanoseconds, cpu = cpuNow()
            try body()
            best.wall = min(best.wall, Double(DispatchTime.now().uptimeNanoseconds - wall) / 1e9)
            best.cpu = min(best.cpu, cpuNow() - cpu)
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
            print(String(format: "prefill %3d: %5.0f tok/s wall, %5.0f tok per CPU-second (all logits: %5.0f wall, %5.0f per CPU-s); observing every hook: %+.1f%% CPU, %+.1f%% wall",
                         n, Double(n) / plain.wall, Double(n) / plain.cpu, Double(n) / allLogits.wall, Double(n) / allLogits.cpu,
                         (observed.cpu / plain.cpu - 1) * 100, (observed.wall / plain.wall - 1) * 100))
        }
        for context in [16, 256] where Self.selection != "prefill" {
            let cache = model.makeCache()
            _ = try model.forward(Array(tokens.prefix(context)), cache: cache, logits: .last)
            let steps = 64
            var step = 0
            let time = try seconds(1) {
                for _ in 0..<steps {
                    _ = try model.forward([tokens[step]], cache: cache, logits: .last)
                    step += 1
                }
            }
            print(String(format: "decode after %3d: %5.1f tok/s wall, %5.1f tok per CPU-second",
                         context, Double(steps) / time.wall, Double(steps) / time.cpu))
        }
    }
}
