import ArgumentParser
import Foundation
import Transformer

/// `lmdbg bench`: lmdbg's engine against its peers, side by side in one run, on the same token ids; and the
/// server over its protocol.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark the engine against llama.cpp and HF transformers, side by side, and the server over pipes.",
        discussion: """
        engine: peers run through scripts/bench_peers.py where llama-cpp-python and torch/transformers are installed;
        a missing peer is reported, not fatal. Every engine runs the same token ids on the same threads.
        server: this binary is started as a child `lmdbg serve` and timed over its stdin and stdout, as a client
        would: request round trips, debug/next to debug/stopped, tensor/read throughput, and the cost of
        breakpoints that are armed but never stop.
        sweep: a resid_pre activation-patching sweep on 12-token prompt pairs against the naive one-forward-per-cell
        loop in transformers (scripts/bench_sweep_hf.py); not run by default. --write replaces only the sections that ran.
        """
    )

    @Option(help: "What to measure, comma-separated: engine, server, sweep.")
    var sections = "engine,server"

    @OptionGroup var model: ModelOptions

    @Option(help: "Prompt lengths to prefill, comma-separated.")
    var sizes = "16,128,512"

    @Option(help: "Tokens to decode after a 16-token prompt.")
    var decodeSteps = 32

    @Option(help: "Runs of each measurement; the best counts.")
    var repeats = 3

    @Option(help: "Peers to run (llama.cpp, transformers), comma-separated; empty for none.")
    var peers = "llama.cpp,transformers"

    @Option(help: "Also write the table as markdown to this file.")
    var write: String?

    func validate() throws {
        let chosen = sections.split(separator: ",").map(String.init)
        guard !chosen.isEmpty, chosen.allSatisfy(["engine", "server", "sweep"].contains) else {
            throw ValidationError("--sections takes engine, server and sweep, comma-separated")
        }
    }

    func run() throws {
        let chosen = sections.split(separator: ",").map(String.init)
        var document: [(title: String, body: String)] = []
        if chosen.contains("engine") { document.append(("Engine", try engineTable())) }
        if chosen.contains("server") {
            let benchmark = ServerBenchmark(model: model.model, threads: model.threads)
            document.append(("Server", try benchmark.run().markdown(threads: model.threads, rounds: benchmark.rounds)))
        }
        if chosen.contains("sweep") {
            let sweep = SweepBenchmark(model: try model.load(), modelPath: try model.resolvedPath(), threads: model.threads,
                                       repeats: repeats, runsPeer: peers.contains("transformers"))
            document.append(("Activation-patching sweep, \(model.threads) thread\(model.threads == 1 ? "" : "s")", try sweep.run()))
        }
        print(document.map { "## \($0.title)\n\n\($0.body)" }.joined(separator: "\n"))
        if let write {
            try BenchmarkDocument.update(at: write, with: document)
            writeStderr("wrote \(write)\n")
        }
    }

    /// The engine's tokens per second against its peers, as markdown.
    private func engineTable() throws -> String {
        let lm = try model.load()
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

        return BenchmarkTable(results: results, threads: model.threads).markdown
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

    /// Runs each peer in its own process, so a peer that crashes is reported without losing the others.
    private func runPeers() throws -> [Measurement] {
        var results: [Measurement] = []
        for peer in peers.split(separator: ",").map(String.init) {
            let (data, status) = try runPythonScript("bench_peers.py", [
                "--model", try model.resolvedPath(), "--sizes", sizes, "--decode-steps", String(decodeSteps),
                "--repeats", String(repeats), "--threads", String(model.threads), "--peers", peer])
            if status != 0 {
                writeStderr("peer \(peer) failed (exit status \(status)); its rows are missing\n")
            }
            for line in data.split(separator: UInt8(ascii: "\n")) {
                guard let row = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                      let name = row["peer"] as? String else { continue }
                if let reason = row["skipped"] as? String {
                    writeStderr("peer \(name) skipped: \(reason)\n")
                } else if let metric = row["metric"] as? String, let tokens = row["tokens"] as? Int,
                          let rate = row["tokens_per_second"] as? Double {
                    results.append(Measurement(engine: name == "transformers" ? "transformers, every hook captured" : name,
                                               metric: metric, tokens: tokens, rate: rate))
                }
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

/// docs/benchmarks.md: a title, then one `## ` section per kind of benchmark.
enum BenchmarkDocument {
    /// Replaces the given sections of the file (adding those it lacks), keeping the others.
    static func update(at path: String, with sections: [(title: String, body: String)]) throws {
        let existing = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "# Benchmarks\n"
        var parts = existing.components(separatedBy: "\n## ")
        for section in sections {
            let text = "\(section.title)\n\n\(section.body)"
            if let index = parts.indices.dropFirst().first(where: { parts[$0].hasPrefix(section.title + "\n") }) {
                parts[index] = text
            } else {
                parts.append(text)
            }
        }
        // Each part ends with a newline, so that a blank line stands before every `## `.
        let joined = parts.map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.joined(separator: "\n## ")
        try joined.write(toFile: path, atomically: true, encoding: .utf8)
    }
}

/// Runs `scripts/NAME` of this checkout with python3 and returns what it printed on stdout (its stderr passes
/// through) and its exit status.
func runPythonScript(_ name: String, _ arguments: [String]) throws -> (output: Data, status: Int32) {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../scripts/\(name)").standardized
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script.path] + arguments
    let output = Pipe()
    process.standardOutput = output
    writeStderr("running \(script.path)…\n")
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (data, process.terminationStatus)
}
