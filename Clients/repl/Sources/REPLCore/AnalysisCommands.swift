import LMDebugProtocol

/// A token as a command names it: `#7042`, or a text that is one token (`" Paris"`).
public enum TokenArgument: Equatable, Sendable {
    case id(Int)
    case text(String)
}

/// `sweep SITE METRIC [noise] [at POSITIONS] CLEAN CORRUPTED`.
public struct SweepCommand: Equatable, Sendable {
    public enum Metric: Equatable, Sendable {
        case logitDifference(TokenArgument, TokenArgument)
        case probability(TokenArgument)
        case klDivergence
    }

    public var site: SweepSite
    public var metric: Metric
    public var direction: SweepDirection
    public var positions: [Int]?
    public var clean: String
    public var corrupted: String
}

/// `steer LAYER|HOOK [scale K] [mean] [ablate|only] POSITIVE NEGATIVE [POSITIVE NEGATIVE …]`.
public struct SteerCommand: Equatable, Sendable {
    /// A layer number (its resid_pre) or a hook name.
    public var layerOrHook: String
    public var scale: Double?
    public var reduction: ContrastReductionKind
    public var application: SteeringApplication
    public var pairs: [ContrastPromptPair]
}

public enum SAECommand: Equatable, Sendable {
    /// `sae load PATH`
    case load(path: String)
    /// `sae features [K] [sae ID]`
    case features(k: Int?, sae: Int?)
}

extension CommandParser {
    /// The analyses' commands, listed by `help` after `lens`.
    static let analysisCommands: [CommandInfo] = [
        CommandInfo(name: "layers", aliases: [], usage: "layers [-k K] [at POSITIONS] [PROMPT]",
                    summary: "logit lens of every layer's resid_pre, resid_mid and resid_post, then the output",
                    details: ["Runs PROMPT (default: the last run's tokens, or --prompt before a run) on its own, unpatched.",
                              "POSITIONS are token positions, negative from the end: -1 (the default), 0,4,-1.",
                              "-k K shows the K best tokens of each (default 1)."]) { args throws(CommandError) in
            try parseLayers(&args)
        },
        CommandInfo(name: "attribute", aliases: [], usage: "attribute TOKEN [vs TOKEN] [at POSITION] [PROMPT]",
                    summary: "direct logit attribution: what the embedding, each head (or attention layer) and each MLP add to a logit",
                    details: ["TOKEN is a quoted text that is one token (\" Paris\") or an id (#7042).",
                              "vs TOKEN attributes the difference of the two logits.",
                              "Runs PROMPT (default: the last run's tokens, or --prompt before a run) on its own, unpatched. POSITION defaults to -1."]) { args throws(CommandError) in
            try parseAttribute(&args)
        },
        CommandInfo(name: "sweep", aliases: [], usage: "sweep SITE METRIC [noise] [at POSITIONS] CLEAN CORRUPTED",
                    summary: "activation patching over layers × positions (or heads)",
                    details: ["SITE is resid_pre, attn_out, mlp_out (a layer × position grid) or head_z (layer × head).",
                              "METRIC is logitdiff TOKEN TOKEN, prob TOKEN or kl, read on the last position.",
                              "CLEAN and CORRUPTED are quoted prompts with the same number of tokens. Each cell patches",
                              "a clean activation into the corrupted run (noise: a corrupted one into the clean run);",
                              "the grid shows (value − corrupted) / (clean − corrupted): ▁ 0 (corrupted) … █ 1 (clean).",
                              "Ctrl-C stops the sweep and shows the cells done so far."]) { args throws(CommandError) in
            try parseSweep(&args)
        },
        CommandInfo(name: "steer", aliases: [], usage: "steer LAYER|HOOK [scale K] [mean] [ablate|only] POSITIVE NEGATIVE …",
                    summary: "a steering direction from prompt pairs, added as a patch (or ablated everywhere)",
                    details: ["The direction is the mean of POSITIVE − NEGATIVE at blocks.LAYER.hook_resid_pre (or HOOK),",
                              "at each prompt's last position (mean: averaged over its positions). Quote the prompts.",
                              "scale K multiplies the added direction (default 1); ablate projects it out of every",
                              "residual-stream hook instead; only computes it without patching."]) { args throws(CommandError) in
            try parseSteer(&args)
        },
        CommandInfo(name: "sae", aliases: [], usage: "sae load PATH | sae features [K] [sae ID]",
                    summary: "load a SAELens-format sparse autoencoder, or show its features at the stop",
                    details: ["Once loaded, feature(I) works in expressions (break HOOK if any(feature(12) > 2)), and",
                              "patch HOOK ablate-features I,… | steer-features I,… [scale K] edit features."]) { args throws(CommandError) in
            try parseSAE(&args)
        },
    ]

    private static func parseLayers(_ args: inout ArgumentScanner) throws(CommandError) -> Command {
        var k: Int?, positions: [Int]?
        while let option = args.peek, option == "-k" || option == "at" {
            _ = args.word()
            if option == "-k" {
                guard let word = args.word(), let value = Int(word), value >= 1 else { throw CommandError("-k needs a number ≥ 1") }
                k = value
            } else {
                positions = try signedNumbers(args.word(), what: "position")
            }
        }
        let prompt = args.rest()
        return .layers(prompt: prompt.isEmpty ? nil : prompt, positions: positions, k: k)
    }

    private static func parseAttribute(_ args: inout ArgumentScanner) throws(CommandError) -> Command {
        let usage = "usage: attribute TOKEN [vs TOKEN] [at POSITION] [PROMPT]"
        guard let target = try token(args.text()) else { throw CommandError(usage) }
        var baseline: TokenArgument?, position: Int?
        if args.peek == "vs" {
            _ = args.word()
            guard let token = try token(args.text()) else { throw CommandError("vs needs a token: \" Rome\" or #7268") }
            baseline = token
        }
        if args.peek == "at" {
            _ = args.word()
            guard let word = args.word(), let value = Int(word) else { throw CommandError("at needs a position, e.g. -1") }
            position = value
        }
        let prompt = args.rest()
        return .attribute(target: target, baseline: baseline, position: position, prompt: prompt.isEmpty ? nil : prompt)
    }

    private static func parseSweep(_ args: inout ArgumentScanner) throws(CommandError) -> Command {
        let usage = "usage: sweep resid_pre|attn_out|mlp_out|head_z logitdiff TOKEN TOKEN|prob TOKEN|kl [noise] [at POSITIONS] CLEAN CORRUPTED"
        let sites: [String: SweepSite] = ["resid_pre": .residPre, "attn_out": .attnOut, "mlp_out": .mlpOut, "head_z": .headZ]
        guard let word = args.word() else { throw CommandError(usage) }
        guard let site = sites[word] else { throw CommandError("bad site '\(word)'; expected resid_pre, attn_out, mlp_out or head_z") }
        let metric: SweepCommand.Metric
        switch args.word() {
        case "logitdiff"?:
            guard let a = try token(args.text()), let b = try token(args.text()) else {
                throw CommandError("logitdiff needs two tokens, e.g. logitdiff \" Mary\" \" John\"")
            }
            metric = .logitDifference(a, b)
        case "prob"?:
            guard let a = try token(args.text()) else { throw CommandError("prob needs a token, e.g. prob \" Mary\"") }
            metric = .probability(a)
        case "kl"?: metric = .klDivergence
        default: throw CommandError(usage)
        }
        var direction = SweepDirection.denoise, positions: [Int]?
        while let option = args.peek, option == "noise" || option == "at" {
            _ = args.word()
            if option == "noise" { direction = .noise } else { positions = try signedNumbers(args.word(), what: "position") }
        }
        guard let clean = args.text(), let corrupted = args.text(), args.isAtEnd else {
            throw CommandError("sweep needs two quoted prompts, clean then corrupted")
        }
        return .sweep(SweepCommand(site: site, metric: metric, direction: direction, positions: positions,
                                   clean: clean, corrupted: corrupted))
    }

    private static func parseSteer(_ args: inout ArgumentScanner) throws(CommandError) -> Command {
        guard let target = args.word() else { throw CommandError("usage: steer LAYER|HOOK [scale K] [mean] [ablate|only] POSITIVE NEGATIVE …") }
        var command = SteerCommand(layerOrHook: target, scale: nil, reduction: .lastPosition, application: .add, pairs: [])
        while let option = args.peek, ["scale", "mean", "ablate", "only"].contains(option) {
            _ = args.word()
            switch option {
            case "scale":
                guard let word = args.word(), let value = Double(word), value.isFinite else { throw CommandError("scale needs a number") }
                command.scale = value
            case "mean": command.reduction = .meanOverPositions
            case "ablate": command.application = .ablate
            default: command.application = .directionOnly
            }
        }
        var prompts: [String] = []
        while !args.isAtEnd {
            guard let prompt = args.text() else { throw CommandError("unbalanced quotes in the prompts") }
            prompts.append(prompt)
        }
        guard !prompts.isEmpty, prompts.count % 2 == 0 else {
            throw CommandError("steer needs pairs of prompts: POSITIVE NEGATIVE [POSITIVE NEGATIVE …]")
        }
        command.pairs = stride(from: 0, to: prompts.count, by: 2).map {
            ContrastPromptPair(positive: prompts[$0], negative: prompts[$0 + 1])
        }
        return .steer(command)
    }

    private static func parseSAE(_ args: inout ArgumentScanner) throws(CommandError) -> Command {
        switch args.word() {
        case "load"?:
            let path = args.rest()
            guard !path.isEmpty else { throw CommandError("usage: sae load PATH") }
            return .sae(.load(path: path))
        case "features"?:
            var k: Int?, sae: Int?
            if let word = args.peek, let value = Int(word) {
                _ = args.word()
                guard value >= 1 else { throw CommandError("K must be at least 1") }
                k = value
            }
            if args.peek == "sae" {
                _ = args.word()
                guard let word = args.word(), let value = Int(word) else { throw CommandError("sae needs an id") }
                sae = value
            }
            guard args.isAtEnd else { throw CommandError("usage: sae features [K] [sae ID]") }
            return .sae(.features(k: k, sae: sae))
        default:
            throw CommandError("usage: sae load PATH | sae features [K] [sae ID]")
        }
    }

    /// `#7042` or a text; nil when there is nothing.
    private static func token(_ text: String?) throws(CommandError) -> TokenArgument? {
        guard let text else { return nil }
        guard text.hasPrefix("#") else { return .text(text) }
        guard let id = Int(text.dropFirst()), id >= 0 else { throw CommandError("bad token id '\(text)'") }
        return .id(id)
    }

    /// `0,4,-1`.
    private static func signedNumbers(_ text: String?, what: String) throws(CommandError) -> [Int] {
        guard let text, !text.isEmpty else { throw CommandError("at needs \(what)s, e.g. 0,4,-1") }
        var numbers: [Int] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let number = Int(item) else { throw CommandError("bad \(what) '\(item)'") }
            numbers.append(number)
        }
        return numbers
    }

    /// `ablate-features 3,17 [sae ID]` and `steer-features 3 [scale K] [sae ID]` after `patch HOOK …`.
    static func parseFeaturePatch(_ operation: String, _ args: inout ArgumentScanner) throws(CommandError) -> PatchAction {
        guard let list = args.word() else { throw CommandError("\(operation) needs feature numbers, e.g. \(operation) 3,17") }
        var features: [Int] = []
        for item in list.split(separator: ",") {
            guard let feature = Int(item), feature >= 0 else { throw CommandError("bad feature '\(item)'") }
            features.append(feature)
        }
        var scale: Double?, sae: Int?
        while let option = args.word() {
            guard let word = args.word() else { throw CommandError("\(option) needs a value") }
            switch option {
            case "scale" where operation == "steer-features":
                guard let value = Double(word), value.isFinite else { throw CommandError("scale needs a number") }
                scale = value
            case "sae":
                guard let value = Int(word) else { throw CommandError("sae needs an id") }
                sae = value
            default: throw CommandError("unexpected '\(option)' after \(operation)")
            }
        }
        return operation == "ablate-features" ? .ablateFeatures(features, sae: sae) : .steerFeatures(features, scale: scale, sae: sae)
    }
}
