import Analyses
import Foundation
import Transformer

/// `lmdbg bench --sections sweep`: a full resid_pre [layer × position] activation-patching sweep on 12-token prompt
/// pairs, lmdbg's (which reuses work across cells) against the naive one-forward-per-cell loop in HF
/// transformers (scripts/bench_sweep_hf.py), side by side in one run, on the same token ids.
struct SweepBenchmark {
    /// A prompt pair: the clean prompt, the corrupted one, and what sets them apart.
    struct Pair {
        let clean: String
        let corrupted: String
        let difference: String
    }

    /// Both IOI-style, answer ' Mary' against ' John'. The first differs in one late token, so the cells
    /// before it need no pass; the second swaps the names throughout, so nearly every cell needs one.
    static let pairs = [
        Pair(clean: "When John and Mary went home, John gave a drink to",
             corrupted: "When John and Mary went home, Mary gave a drink to", difference: "position 7 only"),
        Pair(clean: "When John and Mary went home, John gave a drink to",
             corrupted: "When Mary and John went home, Mary gave a drink to", difference: "positions 1, 3 and 7"),
    ]

    let model: LanguageModel
    let modelPath: String
    let threads: Int
    let repeats: Int
    let runsPeer: Bool

    func run() throws -> String {
        let answer = model.tokenizer.encode(" Mary")[0], wrong = model.tokenizer.encode(" John")[0]
        var rows: [(pair: Pair, seconds: Double, grid: [[Float?]])] = []
        for pair in Self.pairs {
            let spec = PatchingSweepSpec(clean: model.tokenizer.encode(pair.clean), corrupted: model.tokenizer.encode(pair.corrupted),
                                         site: .residPre, metric: .logitDifference(answer, wrong))
            var best = Double.infinity
            var grid: [[Float?]] = []
            for run in 0...repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                grid = try model.patchingSweep(spec).values
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                if run > 0 { best = min(best, seconds) }
            }
            writeStderr("lmdbg sweep (\(pair.difference)): \(String(format: "%.3f", best)) s\n")
            rows.append((pair, best, grid))
        }
        let first = Self.pairs[0]
        let tokens = model.tokenizer.encode(first.clean)
        let cells = rows[0].grid.count * tokens.count
        let peer = runsPeer
            ? try runPeer(clean: tokens, corrupted: model.tokenizer.encode(first.corrupted), answer: answer, wrong: wrong) : nil
        var lines = [
            "Activation-patching sweep, resid_pre [\(rows[0].grid.count) layers × \(tokens.count) positions] = \(cells) cells,",
            "logit difference ' Mary' − ' John', \(threads) thread\(threads == 1 ? "" : "s"), best of \(repeats) (transformers: one run), one run of",
            "`lmdbg bench --sections sweep`. The naive loop costs the same for any pair of this length. The first pair",
            "differs in one token, so the cells before it need no pass (their activations are the same in both runs); the",
            "second differs from position 1 on, so nearly every cell runs, each from its layer and position only, with the",
            "cells of a layer stacked into one pass (docs/analyses.md).",
            "",
            "| engine | prompts differ at | seconds per sweep | cells per second | speed-up |",
            "|---|---|---:|---:|---:|",
        ]
        for row in rows {
            let speedUp = peer.map { String(format: "%.1f×", $0.seconds / row.seconds) } ?? "–"
            lines.append(String(format: "| lmdbg (skips unchanged cells, stacks a layer's cells, resumes at the layer) | %@ | %.3f | %.0f | %@ |",
                                row.pair.difference, row.seconds, Double(cells) / row.seconds, speedUp))
        }
        if let peer {
            let difference = zip(rows[0].grid.joined(), peer.grid.joined()).map { abs(Double($0!) - $1) }.max() ?? .nan
            lines.append(String(format: "| transformers, naive (one forward per cell) | %@ | %.3f | %.1f | 1× |",
                                first.difference, peer.seconds, Double(cells) / peer.seconds))
            lines += ["", String(format: "On the first pair the two grids agree within %.1e.", difference)]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private struct Peer {
        let seconds: Double
        let grid: [[Double]]
    }

    private func runPeer(clean: [Int32], corrupted: [Int32], answer: Int32, wrong: Int32) throws -> Peer? {
        func list(_ tokens: [Int32]) -> String { tokens.map(String.init).joined(separator: ",") }
        let (data, _) = try runPythonScript("bench_sweep_hf.py", [
            "--model", modelPath, "--clean", list(clean), "--corrupted", list(corrupted), "--answer", String(answer),
            "--wrong", String(wrong), "--threads", String(threads)])
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
        return Peer(seconds: seconds, grid: grid)
    }
}
