import Foundation
import Testing
import Tensors
@testable import Transformer

struct ProfileTmp {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["LMDBG_PROFILE"] != nil)) func profile() throws {
        Threads.count = 1
        let model = try SmolLM2.model()
        let mode = ProcessInfo.processInfo.environment["LMDBG_PROFILE"]!
        var generator = Xoshiro256(seed: 1)
        let tokens = (0..<512).map { _ in Int32(generator.next() % 49152) }
        var cpu = timespec(); clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu)
        let start = Double(cpu.tv_sec) + Double(cpu.tv_nsec) * 1e-9
        if mode == "prefill" {
            for _ in 0..<3 { _ = try model.forward(Array(tokens.prefix(128)), cache: model.makeCache(), logits: .last) }
        } else {
            let cache = model.makeCache()
            for i in 0..<32 { _ = try model.forward([tokens[i]], cache: cache, logits: .last) }
        }
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu)
        print("cpu seconds:", Double(cpu.tv_sec) + Double(cpu.tv_nsec) * 1e-9 - start)
    }
}
