import Foundation
import LMDebugProtocol
import Testing
@testable import REPLCore

/// The analysis commands: parsing, and a script against the real server on SmolLM2.
@Suite struct AnalysisCommandParserTests {
    func parse(_ line: String) throws -> Command? { try CommandParser.parse(line) }

    func failure(_ line: String) -> String? {
        do {
            _ = try CommandParser.parse(line)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func layersAndAttribute() throws {
        #expect(try parse("layers") == .layers(prompt: nil, positions: nil, k: nil))
        #expect(try parse("layers -k 3 at 0,-1 The city of") == .layers(prompt: "The city of", positions: [0, -1], k: 3))
        #expect(try parse(#"attribute " Paris" vs #7268 at 4 The Eiffel Tower is in"#)
                == .attribute(target: .text(" Paris"), baseline: .id(7268), position: 4, prompt: "The Eiffel Tower is in"))
        #expect(try parse("attribute #12") == .attribute(target: .id(12), baseline: nil, position: nil, prompt: nil))
        #expect(failure("layers -k 0") == "-k needs a number ≥ 1")
        #expect(failure("attribute") == "usage: attribute TOKEN [vs TOKEN] [at POSITION] [PROMPT]")
        #expect(failure("attribute #x") == "bad token id '#x'")
    }

    @Test func sweeps() throws {
        #expect(try parse(#"sweep head_z logitdiff " Mary" " John" noise at 7 "a b c" "a d c""#) == .sweep(SweepCommand(
            site: .headZ, metric: .logitDifference(.text(" Mary"), .text(" John")), direction: .noise, positions: [7],
            clean: "a b c", corrupted: "a d c")))
        #expect(try parse(#"sweep resid_pre kl "x \"y\"" z"#) == .sweep(SweepCommand(
            site: .residPre, metric: .klDivergence, direction: .denoise, positions: nil, clean: #"x "y""#, corrupted: "z")))
        #expect(failure("sweep resid_mid kl a b") == "bad site 'resid_mid'; expected resid_pre, attn_out, mlp_out or head_z")
        #expect(failure(#"sweep mlp_out prob " Mary" "only one""#) == "sweep needs two quoted prompts, clean then corrupted")
    }

    @Test func steeringAndSAEs() throws {
        #expect(try parse(#"steer 8 scale 4 mean "I love it" "I hate it""#) == .steer(SteerCommand(
            layerOrHook: "8", scale: 4, reduction: .meanOverPositions, application: .add,
            pairs: [ContrastPromptPair(positive: "I love it", negative: "I hate it")])))
        #expect(try parse(#"steer blocks.3.hook_resid_post ablate a b c d"#) == .steer(SteerCommand(
            layerOrHook: "blocks.3.hook_resid_post", scale: nil, reduction: .lastPosition, application: .ablate,
            pairs: [ContrastPromptPair(positive: "a", negative: "b"), ContrastPromptPair(positive: "c", negative: "d")])))
        #expect(failure("steer 8 a b c") == "steer needs pairs of prompts: POSITIVE NEGATIVE [POSITIVE NEGATIVE …]")
        #expect(try parse("sae load Tests/Fixtures/sae/x") == .sae(.load(path: "Tests/Fixtures/sae/x")))
        #expect(try parse("sae features 3 sae 2") == .sae(.features(k: 3, sae: 2)))
        #expect(try parse("patch blocks.8.hook_resid_pre at 2 steer-features 4,9 scale 3") == .patch(PatchCommand(
            hook: "blocks.8.hook_resid_pre", positions: .list([2]), action: .steerFeatures([4, 9], scale: 3, sae: nil))))
        #expect(try parse("patch blocks.8.hook_resid_pre ablate-features 4 sae 1")
                == .patch(PatchCommand(hook: "blocks.8.hook_resid_pre", action: .ablateFeatures([4], sae: 1))))
        #expect(failure("patch blocks.8.hook_resid_pre ablate-features 4 scale 2") == "unexpected 'scale' after ablate-features")
    }
}

@Suite(.serialized, .enabled(if: Products.modelExists, "needs SmolLM2-135M-Instruct.Q4_1.gguf in ~/.cache/lmdbg/models"))
struct AnalysisCommandEndToEndTests {
    static let sae = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tests/Fixtures/sae/smollm2-resid8-relu512").path

    @Test func aScriptOfAnalyses() throws {
        let run = try runREPL(["--model", Products.model], input: """
            layers The Eiffel Tower is in the city of
            attribute " Paris" vs " Rome" The Eiffel Tower is in the city of
            sweep resid_pre logitdiff " Mary" " John" at 6,7 "When John and Mary went home, John gave a drink to" "When John and Mary went home, Mary gave a drink to"
            steer 8 scale 2 "I love this" "I hate this"
            info patches
            sae load \(Self.sae)
            break blocks.8.hook_resid_pre
            run The Eiffel Tower is in Paris
            sae features 2
            patch blocks.8.hook_resid_pre ablate-features 3,4
            """)
        #expect(run.status == 0, "\(run.output)")
        let lens = try #require(run.lines.firstIndex(of: "(lmdbg) layers The Eiffel Tower is in the city of"))
        #expect(run.lines[lens + 1] == "position 8 (token 282)", "\(run.output)")
        #expect(run.lines[lens + 2].split(separator: " ") == ["layer", "resid_pre", "resid_mid", "resid_post"])
        #expect(run.lines[lens + 3].hasPrefix("     0  ") && run.lines[lens + 33].hasPrefix("output  ' Paris' "), "\(run.output)")
        #expect(run.answer(to: #"attribute " Paris" vs " Rome" The Eiffel Tower is in the city of"#)?
            .hasPrefix("logit ' Paris' − ' Rome' at position 8: ") == true, "\(run.output)")
        // After the progress's first and last line: positions 6 and 7 differ only in 7, which restores the clean run.
        let sweep = try #require(run.lines.firstIndex { $0.hasPrefix("sweep resid_pre (denoise): clean ") })
        #expect(run.lines[sweep].hasSuffix("; 60 cells") && run.lines[sweep + 1] == "positions 6,7", "\(run.output)")
        #expect(run.lines[sweep + 3] == "L0  ▁█" && run.lines[sweep + 33].hasPrefix("largest: L0 pos 7 1"), "\(run.output)")
        #expect(run.answer(to: #"steer 8 scale 2 "I love this" "I hate this""#)?
            .hasPrefix("direction at blocks.8.hook_resid_pre, norm ") == true, "\(run.output)")
        #expect(run.answer(to: "sae load \(Self.sae)") == "SAE 1 (smollm2-resid8-relu512) reads blocks.8.hook_resid_pre: relu, 576 → 512 features")
        let features = try #require(run.lines.firstIndex(of: "(lmdbg) sae features 2"))
        #expect(run.lines[features + 1] == "SAE 1 at blocks.8.hook_resid_pre" && run.lines[features + 2].hasPrefix("pos"))
        #expect(run.answer(to: "patch blocks.8.hook_resid_pre ablate-features 3,4")?.hasSuffix("ablate-features #3,#4") == true,
                "\(run.output)")
    }
}
