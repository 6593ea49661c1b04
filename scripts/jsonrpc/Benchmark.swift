// Micro-benchmark: one small request, bytes → message → bytes, through lmdbg's JSONRPC module and
// through Foundation. Built by scripts/bench-jsonrpc together with Sources/JSONRPC into one module.
import Foundation

private let requestText = #"{"jsonrpc":"2.0","id":1,"method":"debug/evaluate","params":{"expression":"resid[-1].norm()","frameId":3}}"#

private struct EvaluateParams: Codable {
    var expression: String
    var frameId: Int
}

private struct EvaluateRequest: Codable {
    var jsonrpc: String
    var id: Int
    var method: String
    var params: EvaluateParams
}

/// Only benchmarks whose names contain the first argument run.
private let filter = CommandLine.arguments.dropFirst().first ?? ""

/// This thread's CPU time in nanoseconds: unlike wall time, it does not count time spent waiting for a
/// core, so numbers stay comparable on a busy machine.
private func threadCPUTime() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) * 1e9 + Double(time.tv_nsec)
}

/// Best of `rounds` timings of `iterations` calls, in CPU nanoseconds per call.
private func measure(_ name: String, iterations: Int = 100_000, rounds: Int = 7, _ body: () throws -> Int) rethrows {
    guard filter.isEmpty || name.contains(filter) else { return }
    var best = Double.infinity
    var checksum = 0
    for _ in 0..<rounds {
        let start = threadCPUTime()
        for _ in 0..<iterations { checksum &+= try body() }
        best = min(best, (threadCPUTime() - start) / Double(iterations))
    }
    print(name.padding(toLength: 60, withPad: " ", startingAt: 0), String(format: "%7.0f ns", best), checksum == 0 ? "" : "")
}

@main
struct JSONRPCBenchmark {
    static func main() throws {
        let bytes = Array(requestText.utf8)
        let data = Data(bytes)

        try measure("JSONRPC: parse + classify + serialise") {
            let message = try JSONRPCMessage(parsing: bytes)
            return try message.serialized().count
        }
        try measure("JSONRPC: same, plus params → struct → JSONValue (typed)") {
            guard case .request(_, _, let params?) = try JSONRPCMessage(parsing: bytes) else { return 0 }
            let typed = try JSONValueDecoder().decode(EvaluateParams.self, from: params)
            let result = try JSONValueEncoder().encode(typed)
            return try JSONRPCMessage.response(id: .integer(1), result: result).serialized().count
        }
        try measure("JSONRPC: framer + parse + serialise + frame") {
            var framer = MessageFramer()
            framer.append(MessageFramer.frame(body: bytes))
            let message = try JSONRPCMessage(parsing: framer.nextBody()!)
            return MessageFramer.frame(body: try message.serialized()).count
        }
        try measure("Foundation: JSONSerialization parse + serialise (sorted)") {
            let object = try JSONSerialization.jsonObject(with: data)
            return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).count
        }
        try measure("Foundation: JSONSerialization parse + serialise") {
            let object = try JSONSerialization.jsonObject(with: data)
            return try JSONSerialization.data(withJSONObject: object).count
        }
        let decoder = JSONDecoder()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try measure("Foundation: JSONDecoder + JSONEncoder (Codable struct)") {
            let request = try decoder.decode(EvaluateRequest.self, from: data)
            return try encoder.encode(request).count
        }
    }
}
