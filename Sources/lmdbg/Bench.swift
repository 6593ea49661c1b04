import ArgumentParser
import Foundation
import Transformer

/// `lmdbg bench`: lmdbg's engine against its peers, side by side in one run, on the same token ids.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark the engine against llama.cpp and HF transformers, side by side.",
        discussion: """
        Peers run through scripts/bench_peers.py where llama-cpp-python and torch/transformers are installed;
        a missing peer is reported, not fatal. Every engine runs the same token ids on the same threads.
        """
    )

    @OptionGroup var model: ModelOptions

    @Option(help: "Prompt lengths to prefill, comma-separated.")
    var sizes = "16,128,512"

    @Option(help: "Tokens to decode after a 16-token prompt.")
    var decodeSteps = 32

    @Option(help: "Runs of each measurement; the best counts.")
    var repeats = 3

    @Option(help: "Peers to run (llama.cpp, transformers), comma-separated; empty for none.")
    var peers = "llama.cpp,transformers"

    @Option(help: "Also write the table as markdown to this file (its own section; other sections are kept).")
    var write: String?

    @Flag(help: "Instead, benchmark a resid_pre activation-patching sweep against the naive loop in transformers.")
    var sweep = false

    func run() throws {
        let lm = try model.load()
        if sweep {
            let table = try SweepBenchmark(model: lm, modelPath: try model.resolvedPath(), threads: model.threads,
                                           repeats: repeats, runsPeer: peers.contains("transformers")).run()
            print(table)
            if let write { try MarkdownSections.write(table, section: "sweep-\(model.threads)-threads", to: write) }
            return
        }
        let lengths = sizes.split(separator: ",").compactMap { Int($0) }
        var results: [Measurement] = []
        for n in lengths {
            let tokens = Self.benchTokens(n)
            results.append(Measurement(engine: "lmdbg", metric: "prefill", tokens: n, rate: try rate(n) {
                _ = try lm.forward(tokens, cache: lm.makeCache(capacity: n), logits: .last)
            }))
            results.append(Measurement(engine: "lmdbg, no hooks, all logits", metric: "prefill", tokens: n, rate: try rate(n) {
                _ = try lm.forward(tokens, cache: lm.makeCache(capacity: n), logits: .all)
            }))
            results.append(Measurement(engine: "lmdbg, every hook captured", metric: "prefill", tokens: n, rate: try rate(n) {
                _ = try lm.forward(tokens, cache: lm.makeCache(capacity: n),
                                   observer: ActivationRecorder(patterns: [HookPattern("*")]), logits: .all)
            }))
            writeStderr("lmdbg prefill \(n): done\n")
        }
        let prompt = Self.benchTokens(16)
        let steps = (0..<decodeSteps).map { Self.benchTokens(17 + $0).last! }
        results.append(Measurement(engine: "lmdbg", metric: "decode", tokens: decodeSteps, rate: try rate(decodeSteps, setUp: {
            let cache = lm.makeCache(capacity: 16 + decodeSteps)
            _ = try lm.forward(prompt, cache: cache, logits: .last)
            return cache
        }) { cache in
            for token in steps { _ = try lm.forward([token], cache: cache, logits: .last) }
        }))
        writeStderr("lmdbg decode: done\n")
        results += try runPeers()

        let table = BenchmarkTable(results: results, threads: model.threads).markdown
        print(table)
        if let write { try MarkdownSections.write(table, section: "engine", to: write) }
    }

    /// The token ids every engine runs (scripts/bench_peers.py makes the same).
    static func benchTokens(_ n: Int) -> [Int32] { (0..<n).map { Int32(($0 * 7919) % 40000 + 100) } }

    /// Tokens per second of the best of `repeats` runs of `body`, after one warm-up run.
    private func rate(_ tokens: Int, _ body: () throws -> Void) throws -> Double {
        try rate(tokens, setUp: {}) { _ in try body() }
    }

    private func rate<State>(_ tokens: Int, setUp: () throws -> State, _ body: (State) throws -> Void) throws -> Double {
        var best = Double.infinity
        for run in 0...repeats {
            let state = try setUp()
            let start = DispatchTime.now().uptimeNanoseconds
            try body(state)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if run > 0 { best = min(best, seconds) }
        }
        return Double(tokens) / best
    }

    private func runPeers() throws -> [Measurement] {
        guard !peers.isEmpty else { return [] }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../scripts/bench_peers.py").standardized
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--model", try model.resolvedPath(), "--sizes", sizes,
                             "--decode-steps", String(decodeSteps), "--repeats", String(repeats),
                             "--threads", String(model.threads), "--peers", peers]
        let output = Pipe()
        process.standardOutput = output
        writeStderr("running peers (\(peers)) through \(script.path)…\n")
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var results: [Measurement] = []
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let row = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  let peer = row["peer"] as? String else { continue }
            if let reason = row["skipped"] as? String {
                writeStderr("peer \(peer) skipped: \(reason)\n")
            } else if let metric = row["metric"] as? String, let tokens = row["tokens"] as? Int,
                      let rate = row["tokens_per_second"] as? Double {
                results.append(Measurement(engine: peer == "transformers" ? "transformers, every hook captured" : peer,
                                           metric: metric, tokens: tokens, rate: rate))
            }
        }
        return results
    }
}

/// One line of the benchmark: tokens per second of an engine at a metric and size.
struct Measurement {
    let engine: String
    let metric: String
    let tokens: Int
    let rate: Double
}

/// The benchmark as a markdown table, with the ratios the targets are stated in.
struct BenchmarkTable {
    let results: [Measurement]
    let threads: Int

    private func rate(_ engine: String, _ metric: String, _ tokens: Int) -> Double? {
        results.first { $0.engine == engine && $0.metric == metric && $0.tokens == tokens }?.rate
    }

    private func ratio(_ a: Double?, _ b: Double?) -> String {
        guard let a, let b, b > 0 else { return "–" }
        return String(format: "%.2f×", a / b)
    }

    var markdown: String {
        let engines = results.reduce(into: [String]()) { if !$0.contains($1.engine) { $0.append($1.engine) } }
        let columns = results.reduce(into: [(String, Int)]()) { list, m in
            if !list.contains(where: { $0 == (m.metric, m.tokens) }) { list.append((m.metric, m.tokens)) }
        }
        var lines = ["Tokens per second, \(threads) threads, best of several runs, one machine, one run of `lmdbg bench`.", ""]
        lines.append("| engine | " + columns.map { "\($0.0) \($0.1)" }.joined(separator: " | ") + " |")
        lines.append("|---|" + columns.map { _ in "---:|" }.joined())
        for engine in engines {
            lines.append("| \(engine) | " + columns.map { column in
                rate(engine, column.0, column.1).map { String(format: "%.1f", $0) } ?? "–"
            }.joined(separator: " | ") + " |")
        }
        lines += ["", "| ratio | " + columns.map { "\($0.0) \($0.1)" }.joined(separator: " | ") + " |",
                  "|---|" + columns.map { _ in "---:|" }.joined()]
        let ratios: [(String, String, String)] = [
            ("lmdbg / llama.cpp", "lmdbg", "llama.cpp"),
            ("lmdbg every hook / transformers every hook", "lmdbg, every hook captured", "transformers, every hook captured"),
            ("every hook captured / no hooks (all logits)", "lmdbg, every hook captured", "lmdbg, no hooks, all logits"),
        ]
        for (title, a, b) in ratios {
            lines.append("| \(title) | " + columns.map { ratio(rate(a, $0.0, $0.1), rate(b, $0.0, $0.1)) }.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
