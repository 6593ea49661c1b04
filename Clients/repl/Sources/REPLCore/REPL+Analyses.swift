import Foundation
import LMDebugProtocol

/// The analysis commands: `layers`, `attribute`, `sweep`, `steer`, `sae`.
extension REPL {
    func layers(prompt: String?, positions: [Int]?, k: Int?) throws {
        let result = try connection.request(LogitLensRequest(prompt: analysedPrompt(prompt), positions: positions, k: k ?? 1)).response
        console.lines(Display.logitLens(result))
    }

    func attribute(_ target: TokenArgument, baseline: TokenArgument?, position: Int?, prompt: String?) throws {
        let token = try tokenID(target), other = try baseline.map(tokenID)
        let result = try connection.request(AttributionRequest(prompt: analysedPrompt(prompt), position: position, token: token.id,
                                                               baseline: other?.id)).response
        console.lines(Display.attribution(result, target: token.label, baseline: other?.label))
    }

    func sweep(_ command: SweepCommand) throws {
        let metric: SweepMetric = switch command.metric {
        case .logitDifference(let a, let b): SweepMetric(kind: .logitDifference, token: try tokenID(a).id, baseline: try tokenID(b).id)
        case .probability(let a): SweepMetric(kind: .probability, token: try tokenID(a).id)
        case .klDivergence: SweepMetric(kind: .klDivergence)
        }
        let request = PatchSweepRequest(clean: command.clean, corrupted: command.corrupted, site: command.site, metric: metric,
                                        direction: command.direction, positions: command.positions,
                                        workDoneToken: .string("sweep-\(UUID().uuidString.prefix(8))"))
        console.lines(Display.sweep(try connection.request(request).response))
    }

    func steer(_ command: SteerCommand) throws {
        let layer = Int(command.layerOrHook)
        let result = try connection.request(SteerFromContrastRequest(
            pairs: command.pairs, layer: layer, hook: layer == nil ? command.layerOrHook : nil, reduction: command.reduction,
            apply: command.application, scale: command.scale)).response
        var line = "direction at \(result.hook), norm \(Display.number(result.norm, significant: 4))"
        if let patch = result.patch {
            line += "; patch \(patch.id): \(patch.hook) \(Display.operation(patch.spec))"
        }
        console.line(line)
    }

    func sae(_ command: SAECommand) throws {
        switch command {
        case .load(let path):
            let info = try connection.request(LoadSAERequest(path: path)).response
            console.line("SAE \(info.id) (\(info.name)) reads \(info.hook): \(info.architecture.rawValue)"
                         + (info.k.map { " k=\($0)" } ?? "") + ", \(info.dIn) → \(info.dSae) features")
        case .features(let k, let sae):
            console.lines(Display.features(try connection.request(SAEFeaturesRequest(sae: sae, k: k ?? 5)).response))
        }
    }

    /// A token's id and how to show it: `' Paris'` for a text, `#7042` for an id.
    private func tokenID(_ argument: TokenArgument) throws -> (id: Int, label: String) {
        switch argument {
        case .id(let id): return (id, "#\(id)")
        case .text(let text):
            let tokens = try connection.request(TokenizeRequest(text: text, addSpecialTokens: false)).response.tokens
            guard tokens.count == 1 else {
                throw REPLError("\(Display.quoted(text)) is \(tokens.count) tokens; give one token, or an id like #7042")
            }
            return (tokens[0], Display.quoted(text))
        }
    }
}

extension Display {
    /// The lens table: per position, a row per layer with the best tokens of resid_pre, resid_mid and
    /// resid_post, then the output.
    static func logitLens(_ result: LogitLensResult) -> [String] {
        func cell(_ row: LensRow?) -> String {
            (row?.top ?? []).map { "\(quoted($0.piece)) \(number($0.probability, significant: 2))" }.joined(separator: ", ")
        }
        let positions = result.rows.compactMap(\.position).reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }
        var lines: [String] = []
        for position in positions {
            let rows = result.rows.filter { $0.position == position }
            func at(_ hook: String) -> LensRow? { rows.first { $0.hook == hook } }
            let layers = rows.compactMap { $0.hook.flatMap(layer) }.reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }
            lines.append("position \(position)" + (result.tokens.map { " (token \($0.indices.contains(position) ? String($0[position]) : "?"))" } ?? ""))
            lines += table(header: ["layer", "resid_pre", "resid_mid", "resid_post"], rows: layers.map { layer in
                ["\(layer)", cell(at("blocks.\(layer).hook_resid_pre")), cell(at("blocks.\(layer).hook_resid_mid")),
                 cell(at("blocks.\(layer).hook_resid_post"))]
            } + [["output", cell(at("logits")), "", ""]], rightAligned: [0])
        }
        return lines
    }

    /// The layer of `blocks.L.…`.
    private static func layer(_ hook: String) -> Int? {
        guard hook.hasPrefix("blocks.") else { return nil }
        return Int(hook.dropFirst("blocks.".count).prefix { $0.isNumber })
    }

    /// The logit, then the components that move it most.
    static func attribution(_ result: AttributionResult, target: String, baseline: String?, shown: Int = 12) -> [String] {
        let what = "logit " + target + (baseline.map { " − " + $0 } ?? "")
        var components = [("embed", result.embed)] + (result.posEmbed.map { [("pos_embed", $0)] } ?? [])
        for (layer, heads) in result.heads.enumerated() {
            if heads.isEmpty {
                components.append(("L\(layer) attn", result.attention[layer]))
            } else {
                components += heads.enumerated().map { ("L\(layer) H\($0)", $1) }
                let bias = result.attention[layer] - heads.reduce(0, +)
                if abs(bias) > 1e-6 * max(1, abs(result.attention[layer])) { components.append(("L\(layer) attn bias", bias)) }
            }
            components.append(("L\(layer) MLP", result.mlp[layer]))
        }
        if let constant = result.constant { components.append(("final norm bias", constant)) }
        let largest = components.sorted { abs($0.1) > abs($1.1) }.prefix(shown)
        let attentionTotal = result.attention.reduce(0, +), mlpTotal = result.mlp.reduce(0, +)
        var parts = "embed \(number(result.embed, significant: 3))"
        if let posEmbed = result.posEmbed { parts += ", pos_embed \(number(posEmbed, significant: 3))" }
        parts += ", attention \(number(attentionTotal, significant: 3)), MLPs \(number(mlpTotal, significant: 3))"
        if let constant = result.constant { parts += ", final norm bias \(number(constant, significant: 3))" }
        return ["\(what) at position \(result.position): \(number(result.logit, significant: 4)) "
                + "(parts sum to \(number(result.total, significant: 4)): \(parts); "
                + "final norm scale \(number(result.finalScale, significant: 4)))"]
            + table(header: ["component", "adds"], rows: largest.map { [$0.0, number($0.1, significant: 4)] }, rightAligned: [1])
    }

    /// The normalised grid as one character per cell (▁ 0 = corrupted … █ 1 = clean), a row per layer, and
    /// the cells that matter most.
    static func sweep(_ result: PatchSweepResult, shown: Int = 5) -> [String] {
        let axis = result.columnAxis == "head" ? "head" : "pos"
        let site = ["residPre": "resid_pre", "attnOut": "attn_out", "mlpOut": "mlp_out", "headZ": "head_z"][result.site.rawValue]!
        var lines = ["sweep \(site) (\(result.direction.rawValue)): clean \(number(result.clean, significant: 4)), "
                     + "corrupted \(number(result.corrupted, significant: 4)); "
                     + (result.cancelled ? "cancelled after \(result.completed) of \(result.total) cells" : "\(result.total) cells"),
                     (axis == "head" ? "heads " : "positions ") + result.columns.map(String.init).joined(separator: ","),
                     "shade: (value − corrupted) / (clean − corrupted), ▁ 0 … █ 1; · not computed"]
        for (layer, row) in result.normalised.enumerated() {
            let cells = row.map { value -> Character in
                guard let value else { return "·" }
                return Character(Sparkline.render([Float(value)], low: 0, high: 1))
            }
            lines.append("L" + String(layer).padding(toLength: 3, withPad: " ", startingAt: 0) + String(cells))
        }
        let cells = result.normalised.enumerated().flatMap { layer, row in
            row.enumerated().compactMap { column, value in value.map { (layer, result.columns[column], $0) } }
        }
        let top = cells.sorted { abs($0.2) > abs($1.2) }.prefix(shown)
        lines.append("largest: " + top.map { "L\($0.0) \(axis) \($0.1) \(number($0.2, significant: 3))" }.joined(separator: ", "))
        return lines
    }

    /// Per position: its most active features, how many are active, and the reconstruction error.
    static func features(_ result: SAEFeaturesResult) -> [String] {
        ["SAE \(result.sae) at \(result.hook)"]
            + table(header: ["pos", "L0", "rel. error", "features"], rows: result.rows.map { row in
                ["\(row.position)", "\(row.l0)", number(row.relativeError, significant: 3),
                 row.features.map { "#\($0.feature) \(number($0.activation, significant: 3))" }.joined(separator: ", ")]
            }, rightAligned: [0, 1, 2])
    }
}
