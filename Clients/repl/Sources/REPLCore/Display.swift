import Foundation
import LMDebugProtocol

/// How the REPL writes values, stops and tables: pure functions from protocol values to lines.
public enum Display {
    // MARK: Numbers and text

    /// `significant` significant digits, integers without a fraction, `nan`, `inf`, `-inf`.
    public static func number(_ value: Double, significant: Int = 5) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.\(significant)g", value)
    }

    /// The text in single quotes, with quotes, backslashes and control characters escaped: `' Paris'`, `'\n'`.
    public static func quoted(_ text: String) -> String {
        var result = "'"
        for scalar in text.unicodeScalars {
            switch scalar {
            case "'": result += "\\'"
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f:
                result += String(format: "\\x%02x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "'"
    }

    /// `[6, 576]`.
    public static func shape(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }

    // MARK: Tensors

    /// How wide a sparkline row is drawn.
    public static let sparklineWidth = 64
    /// Rows of a sparkline shown before the middle ones are elided.
    public static let sparklineRows = 8
    /// Tensors with at most this many elements are written out in full.
    public static let fullPrintLimit = 8

    /// A tensor in a few lines: its shape and statistics, its largest elements, and a sparkline of each row
    /// (rows are the last axis; the middle rows are elided when there are many), each row scaled to its own
    /// range, which follows it. `summary` comes from the server; without it the statistics are computed
    /// from `values`. Without values, no sparkline.
    public static func tensor(shape: [Int], summary: TensorSummary?, values: [Float]?) -> [String] {
        let count = shape.reduce(1, *)
        if let values, values.count == count, count <= fullPrintLimit {
            return ["tensor" + self.shape(shape) + " = " + nested(values[...], shape: shape[...])]
        }
        var header = "tensor" + self.shape(shape)
        if let statistics = summary.map(Statistics.init) ?? values.map(Statistics.init) {
            header += "  norm=\(number(statistics.norm)) mean=\(number(statistics.mean))"
            header += " min=\(number(statistics.min)) max=\(number(statistics.max))"
            if statistics.nanCount > 0 { header += " nan=\(statistics.nanCount)" }
            if statistics.infCount > 0 { header += " inf=\(statistics.infCount)" }
        }
        var lines = [header]
        if let topDims = summary?.topDims, !topDims.isEmpty {
            lines.append("  largest: " + topDims.map { self.shape($0.index) + " " + number($0.value.value) }.joined(separator: ", "))
        }
        guard let values, values.count == count, count > 0 else { return lines }
        let rowLength = shape.last ?? 1
        let rowCount = count / rowLength
        let shown = rowCount <= sparklineRows
            ? Array(0..<rowCount)
            : Array(0..<sparklineRows / 2) + Array(rowCount - sparklineRows / 2..<rowCount)
        let labels = shown.map { shape.count > 1 ? self.shape(index(ofRow: $0, shape: shape)) : "" }
        let labelWidth = labels.map(\.count).max() ?? 0
        for (offset, row) in shown.enumerated() {
            if offset > 0, row != shown[offset - 1] + 1 {
                lines.append("  " + String(repeating: " ", count: labelWidth) + " ⋮ \(row - shown[offset - 1] - 1) more rows")
            }
            let slice = Array(values[row * rowLength..<(row + 1) * rowLength])
            let range = Statistics(slice)
            let line = Sparkline.render(Sparkline.downsample(slice, to: sparklineWidth), low: Float(range.min), high: Float(range.max))
            let label = labels[offset].padding(toLength: labelWidth, withPad: " ", startingAt: 0)
            lines.append("  " + label + (label.isEmpty ? "" : " ") + line
                         + "  \(number(range.min, significant: 3)) … \(number(range.max, significant: 3))")
        }
        if rowLength > sparklineWidth {
            lines.append("  (\(rowLength) values per row; each column shows the largest magnitude among its values)")
        }
        return lines
    }

    /// The leading indices of a row: row 7 of shape [3, 4, 10] is [1, 3].
    static func index(ofRow row: Int, shape: [Int]) -> [Int] {
        var remainder = row
        var index: [Int] = []
        for size in shape.dropLast().reversed() {
            index.insert(remainder % size, at: 0)
            remainder /= size
        }
        return index
    }

    /// `[[1, 2], [3, 4]]`.
    private static func nested(_ values: ArraySlice<Float>, shape: ArraySlice<Int>) -> String {
        guard let first = shape.first else { return number(Double(values[values.startIndex])) }
        let stride = shape.dropFirst().reduce(1, *)
        let parts = (0..<first).map { row in
            let start = values.startIndex + row * stride
            return nested(values[start..<start + stride], shape: shape.dropFirst())
        }
        return "[" + parts.joined(separator: ", ") + "]"
    }

    /// Norm, mean, min and max over the finite elements, and how many are not finite.
    struct Statistics {
        var norm: Double, mean: Double, min: Double, max: Double
        var nanCount = 0, infCount = 0

        init(_ summary: TensorSummary) {
            norm = summary.norm.value
            mean = summary.mean.value
            min = summary.min.value
            max = summary.max.value
            nanCount = summary.nanCount ?? 0
            infCount = summary.infCount ?? 0
        }

        init(_ values: [Float]) {
            var sum = 0.0, squares = 0.0, finite = 0
            min = .infinity
            max = -.infinity
            for value in values {
                if value.isNaN { nanCount += 1; continue }
                if value.isInfinite { infCount += 1; continue }
                let element = Double(value)
                sum += element
                squares += element * element
                min = Swift.min(min, element)
                max = Swift.max(max, element)
                finite += 1
            }
            norm = squares.squareRoot()
            mean = finite > 0 ? sum / Double(finite) : .nan
            if finite == 0 { min = .nan; max = .nan }
        }
    }

    // MARK: Token tables

    /// One row of a token table.
    public struct TokenRow: Equatable, Sendable {
        public var token: Int
        /// Nil when unknown.
        public var piece: String?
        /// One per table column (probability, logit, score …); nil when unknown.
        public var scores: [Double?]

        public init(token: Int, piece: String?, scores: [Double?]) {
            self.token = token
            self.piece = piece
            self.scores = scores
        }
    }

    /// A table: rank, token id, quoted piece (blank when unknown), then one column per score, right-aligned
    /// numbers.
    public static func tokenTable(_ rows: [TokenRow], columns: [String]) -> [String] {
        let header = ["rank", "token", "piece"] + columns
        let body = rows.enumerated().map { rank, row in
            ["\(rank + 1)", "\(row.token)", row.piece.map(quoted) ?? ""]
                + columns.indices.map { column in
                    row.scores.indices.contains(column) ? row.scores[column].map { number($0, significant: 4) } ?? "-" : "-"
                }
        }
        let table = [header] + body
        let widths = header.indices.map { column in table.map { $0[column].count }.max() ?? 0 }
        return table.map { cells in
            cells.indices.map { column in
                let cell = cells[column]
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return column == 2 ? cell + padding : padding + cell
            }.joined(separator: "  ").trimmingTrailingBlanks()
        }
    }

    /// Reads the server's one-line token list, `' Paris' 0.43, #12 0.1, …`, into pieces (nil for `#id`
    /// entries) and scores. Stops at `…` or at anything it does not understand.
    public static func parseTokenList(_ text: String) -> [(piece: String?, score: Double)] {
        var entries: [(piece: String?, score: Double)] = []
        var rest = Substring(text)
        while true {
            rest = rest.drop { $0 == " " || $0 == "," }
            let piece: String?
            if rest.first == "'" {
                guard let (text, after) = unquote(rest) else { break }
                piece = text
                rest = after
            } else if rest.first == "#" {
                rest = rest.dropFirst().drop(while: \.isNumber)
                piece = nil
            } else {
                break
            }
            rest = rest.drop { $0 == " " }
            let number = rest.prefix { !($0 == "," || $0 == " ") }
            guard let score = Double(number) ?? special(number) else { break }
            entries.append((piece, score))
            rest = rest.dropFirst(number.count)
        }
        return entries
    }

    private static func special(_ text: Substring) -> Double? {
        switch text {
        case "nan": .nan
        case "inf": .infinity
        case "-inf": -.infinity
        default: nil
        }
    }

    /// A single-quoted string at the start of `text` (the escapes `quoted` writes), and what follows it.
    private static func unquote(_ text: Substring) -> (String, Substring)? {
        var result = String.UnicodeScalarView()
        var scalars = text.unicodeScalars.dropFirst()
        while let scalar = scalars.popFirst() {
            if scalar == "'" { return (String(result), Substring(scalars)) }
            guard scalar == "\\" else { result.append(scalar); continue }
            guard let escaped = scalars.popFirst() else { return nil }
            switch escaped {
            case "n": result.append("\n")
            case "t": result.append("\t")
            case "r": result.append("\r")
            case "x":
                let hex = String(String.UnicodeScalarView(scalars.prefix(2)))
                guard hex.count == 2, let value = UInt32(hex, radix: 16), let decoded = Unicode.Scalar(value) else { return nil }
                result.append(decoded)
                scalars = scalars.dropFirst(2)
            default: result.append(escaped)
            }
        }
        return nil
    }

    // MARK: Events

    /// `stopped at blocks.3.hook_resid_post (layer 3, token step 0, positions 0..<6): breakpoint 1`.
    /// `breakpoints` are the REPL's numbers for the stop's breakpoint ids.
    public static func stop(_ event: StoppedNotification, breakpoints: [Int]) -> String {
        var place: [String] = []
        if let layer = event.layer { place.append("layer \(layer)") }
        place.append("token step \(event.tokenStep)")
        place.append("positions \(event.positions.start)..<\(event.positions.end)")
        let location = event.hook.map { "at \($0)" } ?? "on entry"
        var reason: String
        switch event.reason {
        case .breakpoint:
            reason = breakpoints.count <= 1 ? "breakpoint" + (breakpoints.first.map { " \($0)" } ?? "")
                : "breakpoints " + breakpoints.map(String.init).joined(separator: ", ")
        case .step: reason = "step"
        case .pause: reason = "paused"
        case .entry: reason = "entry"
        case .exception: reason = "exception" + (event.exceptionFilter.map { " \($0.rawValue)" } ?? "")
        }
        if event.reason != .breakpoint || breakpoints.isEmpty, let description = event.description, !description.isEmpty {
            reason += " (\(description))"
        }
        let recorded = event.recorded == true ? " [recorded]" : ""
        return "stopped \(location) (\(place.joined(separator: ", "))): \(reason)\(recorded)"
    }

    /// `run 2 ended (maxNewTokens): 5 tokens generated: ' Paris. The'`.
    public static func termination(_ event: TerminatedNotification) -> String {
        let run = "run \(event.sessionId)"
        switch event.reason {
        case .superseded: return "\(run) ended (superseded)"
        case .error: return "\(run) failed: \(event.message ?? "error")"
        case .endOfSequence, .maxNewTokens:
            let generated = event.tokens.isEmpty ? "no tokens generated"
                : "\(event.tokens.count) token\(event.tokens.count == 1 ? "" : "s") generated: \(quoted(event.text))"
            let patches = event.activePatches.isEmpty ? ""
                : "; patches " + event.activePatches.map(String.init).joined(separator: ", ") + " applied"
            return "\(run) ended (\(event.reason.rawValue)): \(generated)\(patches)"
        }
    }

    /// `loading SmolLM2-135M-Instruct.Q4_1.gguf  42%  blk.3.attn_q.weight`; nil for an end without news.
    public static func progress(title: String, _ value: WorkDoneProgress) -> String {
        switch value {
        case .begin(let begin):
            return [begin.title, begin.percentage.map { "\($0)%" }, begin.message].compactMap { $0 }.joined(separator: "  ")
        case .report(let report):
            return [title, report.percentage.map { "\($0)%" }, report.message].compactMap { $0 }.joined(separator: "  ")
        case .end(let end):
            return [title, end.message ?? "done"].joined(separator: "  ")
        }
    }

    // MARK: Tables

    /// A breakpoint the REPL holds: its number, what was asked, and what the server made of it.
    public struct BreakpointEntry: Equatable, Sendable {
        public var number: Int
        public var spec: SourceBreakpoint
        public var status: Breakpoint?

        public init(number: Int, spec: SourceBreakpoint, status: Breakpoint?) {
            self.number = number
            self.spec = spec
            self.status = status
        }
    }

    public static func breakpoints(_ entries: [BreakpointEntry]) -> [String] {
        guard !entries.isEmpty else { return ["no breakpoints"] }
        let rows = entries.map { entry -> [String] in
            var what: [String] = []
            if let hits = entry.spec.hitCondition { what.append("hits \(hits)") }
            if let condition = entry.spec.condition { what.append("if \(condition)") }
            if let message = entry.spec.logMessage { what.append("log \(message)") }
            if let status = entry.status, !status.verified { what.append("(not set: \(status.message ?? "unverified"))") }
            return ["\(entry.number)", entry.spec.hook, entry.status.map { "\($0.hooks)" } ?? "?", what.joined(separator: " ")]
        }
        return table(header: ["num", "hook", "hooks", ""], rows: rows, rightAligned: [0, 2])
    }

    public static func patches(_ patches: [Patch]) -> [String] {
        guard !patches.isEmpty else { return ["no patches"] }
        let rows = patches.map { patch -> [String] in
            let heads = patch.heads.map { $0.map(String.init).joined(separator: ",") } ?? "all"
            return ["\(patch.id)", patch.hook, "\(patch.hooks)", positions(patch.positions), heads, operation(patch.spec)]
        }
        return table(header: ["id", "hook", "hooks", "positions", "heads", "operation"], rows: rows, rightAligned: [0, 2])
    }

    public static func positions(_ positions: PatchPositions) -> String {
        switch positions {
        case .all: "all"
        case .prompt: "prompt"
        case .generated: "generated"
        case .list(let list): list.map(String.init).joined(separator: ",")
        }
    }

    /// `zero`, `scale 0.5`, `add [576] ×2`, `resample 'The capital of Italy is'`.
    public static func operation(_ spec: PatchSpec) -> String {
        switch spec.op {
        case .zero, .mean: spec.op.rawValue
        case .scale: "scale \(number(spec.scale ?? 1))"
        case .add: "add " + (spec.vector.map { shape($0.shape) } ?? "?") + (spec.scale.map { $0 == 1 ? "" : " ×\(number($0))" } ?? "")
        case .set: "set " + (spec.value.map { shape($0.shape) } ?? "?")
        case .projectOut: "project-out " + (spec.vector.map { shape($0.shape) } ?? "?")
        case .resample: "resample " + quoted(spec.source ?? "")
        case .ablateFeatures: "ablate-features " + features(spec)
        case .steerFeatures: "steer-features " + features(spec) + (spec.scale.map { $0 == 1 ? "" : " ×\(number($0))" } ?? "")
        }
    }

    /// `#12,#40` and the SAE when named: `#12,#40 (SAE 2)`.
    private static func features(_ spec: PatchSpec) -> String {
        (spec.features ?? []).map { "#\($0)" }.joined(separator: ",") + (spec.sae.map { " (SAE \($0))" } ?? "")
    }

    public static func model(_ info: ModelInfo) -> [String] {
        let config = info.config
        return [
            "\(info.name) (\(info.architecture)) from \(info.path)",
            "  \(config.nLayers) layers, d_model \(config.dModel), \(config.nHeads) heads (\(config.nKVHeads) KV) of \(config.dHead),"
                + " d_mlp \(config.dMLP), vocabulary \(config.vocabSize), context \(config.contextLength)",
            "  \(info.hookPoints.count) hook points (info hooks [GLOB] lists them)",
        ]
    }

    public static func hooks(_ hooks: [HookPointInfo]) -> [String] {
        let width = hooks.map(\.name.count).max() ?? 0
        return hooks.map { hook in
            hook.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  [" + hook.shape.map(\.description).joined(separator: ", ") + "]"
        }
    }

    public static func frames(_ frames: [StackFrame]) -> [String] {
        frames.enumerated().map { index, frame in
            let kind = frame.kind == .token ? "token step \(frame.tokenStep)" : frame.kind.rawValue
            return "#\(index)  \(frame.name)  (\(kind))"
        }
    }

    /// Columns padded to their widest cell; numbers right-aligned where asked.
    static func table(header: [String], rows: [[String]], rightAligned: Set<Int>) -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { cells in
            cells.indices.map { column in
                let padding = String(repeating: " ", count: widths[column] - cells[column].count)
                return rightAligned.contains(column) ? padding + cells[column] : cells[column] + padding
            }.joined(separator: "  ").trimmingTrailingBlanks()
        }
    }
}

extension String {
    func trimmingTrailingBlanks() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
