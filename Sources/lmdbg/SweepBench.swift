import Analyses
import Foundation
import Transformer

/// `lmdbg bench --sweep`: a full resid_pre [layer × position] activation-patching sweep on a 12-token prompt
/// pair, lmdbg's (which reuses work across cells) against the naive one-forward-per-cell loop in HF
/// transformers (scripts/bench_sweep_hf.py), side by side in one run, on the same token ids.
struct SweepBenchmark {
    static let clean = "When John and Mary went home, John gave a drink to"
    static let corrupted = "When John and Mary went home, Mary gave a drink to"

    let model: LanguageModel
    let modelPath: String
    let threads: Int
    let repeats: Int
    let runsPeer: Bool

    func run() throws -> String {
        let clean = model.tokenizer.encode(Self.clean), corrupted = model.tokenizer.encode(Self.corrupted)
        let answer = model.tokenizer.encode(" Mary")[0], wrong = model.tokenizer.encode(" John")[0]
        let spec = PatchingSweepSpec(clean: clean, corrupted: corrupted, site: .residPre, metric: .logitDifference(answer, wrong))
        var best = Double.infinity
        var grid: [[Float?]] = []
        for run in 0...repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            grid = try model.patchingSweep(spec).values
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if run > 0 { best = min(best, seconds) }
        }
        writeStderr("lmdbg sweep: \(String(format: "%.3f", best)) s\n")
        let cells = grid.count * clean.count
        var lines = [
            "Activation-patching sweep, resid_pre [\(grid.count) layers × \(clean.count) positions] = \(cells) cells,",
            "logit difference ' Mary' − ' John', \(threads) threads, one run of `lmdbg bench --sweep`.",
            "",
            "| engine | seconds per sweep | cells per second |",
            "|---|---:|---:|",
            String(format: "| lmdbg (resume from layer L, cached keys/values; best of %d) | %.3f | %.0f |", repeats, best, Double(cells) / best),
        ]
        guard runsPeer, let peer = try runPeer(clean: clean, corrupted: corrupted, answer: answer, wrong: wrong) else {
            return lines.joined(separator: "\n") + "\n"
        }
        let difference = zip(grid.joined(), peer.grid.joined()).map { abs(Double($0!) - $1) }.max() ?? .nan
        lines.append(String(format: "| transformers, naive (one forward per cell, %d threads) | %.3f | %.0f |",
                            peer.threads, peer.seconds, Double(cells) / peer.seconds))
        lines += ["", String(format: "lmdbg is **%.1f×** faster; the grids agree within %.1e.", peer.seconds / best, difference)]
        return lines.joined(separator: "\n") + "\n"
    }

    private struct Peer {
        let seconds: Double
        let threads: Int
        let grid: [[Double]]
    }

    private func runPeer(clean: [Int32], corrupted: [Int32], answer: Int32, wrong: Int32) throws -> Peer? {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../scripts/bench_sweep_hf.py").standardized
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        func list(_ tokens: [Int32]) -> String { tokens.map(String.init).joined(separator: ",") }
        process.arguments = ["python3", script.path, "--model", modelPath, "--clean", list(clean), "--corrupted", list(corrupted),
                             "--answer", String(answer), "--wrong", String(wrong), "--threads", String(threads)]
        let output = Pipe()
        process.standardOutput = output
        writeStderr("running the naive sweep in transformers through \(script.path)…\n")
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard let row = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            writeStderr("transformers sweep: no result\n")
            return nil
        }
        if let reason = row["skipped"] as? String {
            writeStderr("transformers sweep skipped: \(reason)\n")
            return nil
        }
        guard let seconds = row["seconds"] as? Double, let grid = row["grid"] as? [[Double]] else { return nil }
        writeStderr("transformers sweep: \(String(format: "%.3f", seconds)) s\n")
        return Peer(seconds: seconds, threads: threads, grid: grid)
    }
}

/// A markdown file made of sections that different runs rewrite, each between `<!-- name -->` and
/// `<!-- /name -->`: writing one section keeps the others.
enum MarkdownSections {
    static func write(_ markdown: String, section: String, to path: String) throws {
        let open = "<!-- \(section) -->", close = "<!-- /\(section) -->"
        let block = "\(open)\n\(markdown)\(close)\n"
        var text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "# Benchmarks\n\n"
        if let start = text.range(of: open), let end = text.range(of: close, range: start.upperBound..<text.endIndex) {
            let lineEnd = text[end.upperBound...].hasPrefix("\n") ? text.index(after: end.upperBound) : end.upperBound
            text.replaceSubrange(start.lowerBound..<lineEnd, with: block)
        } else {
            text += (text.hasSuffix("\n\n") ? "" : "\n") + block
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        writeStderr("wrote the \(section) section of \(path)\n")
    }
}
