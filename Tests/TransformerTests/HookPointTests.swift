import Testing
@testable import Transformer

struct HookPointTests {
    @Test func namesRoundTrip() {
        let hooks: [HookPoint] = [.embed, .posEmbed, .lnFinalScale, .lnFinalNormalized, .logits]
            + (0..<3).flatMap { layer in HookPoint.BlockHook.allCases.map { HookPoint.block(layer, $0) } }
        for hook in hooks {
            #expect(HookPoint(name: hook.name) == hook)
        }
        #expect(HookPoint.block(12, .residPost).name == "blocks.12.hook_resid_post")
    }

    @Test func rejectsNonHooks() {
        for bad in ["", "blocks", "blocks.x.hook_resid_pre", "blocks.01.hook_resid_pre", "blocks.-1.hook_resid_pre",
                    "blocks.1.hook_nothing", "hook_embed ", "blocks.1."] {
            #expect(HookPoint(name: bad) == nil, "\(bad)")
        }
    }

    @Test func globs() {
        let pattern = HookPattern("blocks.*.hook_resid_post")
        #expect(pattern.matches(.block(0, .residPost)))
        #expect(pattern.matches(.block(29, .residPost)))
        #expect(!pattern.matches(.block(3, .residPre)))
        #expect(HookPattern("*").matches(.logits))
        #expect(HookPattern("blocks.1.attn.*").matches(.block(1, .pattern)))
        #expect(!HookPattern("blocks.1.attn.*").matches(.block(11, .pattern)))
        #expect(HookPattern("logits").matches(.logits))
    }
}
