import LMDebugProtocol
import Testing
@testable import REPLCore

private func parse(_ line: String) throws -> Command? {
    try CommandParser.parse(line)
}

/// The error message a line gives, or nil when it parses.
private func failure(_ line: String) -> String? {
    do {
        _ = try CommandParser.parse(line)
        return nil
    } catch {
        return error.message
    }
}

@Suite struct CommandParserTests {
    @Test func blankLinesAndCommentsAreNoCommand() throws {
        #expect(try parse("") == nil)
        #expect(try parse("   \t ") == nil)
        #expect(try parse("# a comment") == nil)
    }

    @Test func load() throws {
        #expect(try parse("load SmolLM2-135M-Instruct.Q4_1") == .load("SmolLM2-135M-Instruct.Q4_1"))
        #expect(try parse("load  /models/my model.gguf ") == .load("/models/my model.gguf"))
        #expect(failure("load") == "usage: load MODEL")
    }

    @Test func runAndStart() throws {
        #expect(try parse("run The capital of France is") == .run(prompt: "The capital of France is", maxNewTokens: nil, stopOnEntry: false))
        #expect(try parse("r") == .run(prompt: nil, maxNewTokens: nil, stopOnEntry: false))
        #expect(try parse("run -n 5 Hello") == .run(prompt: "Hello", maxNewTokens: 5, stopOnEntry: false))
        #expect(try parse("run -n 3") == .run(prompt: nil, maxNewTokens: 3, stopOnEntry: false))
        #expect(try parse(#"run "  two\nlines ""#) == .run(prompt: "  two\nlines ", maxNewTokens: nil, stopOnEntry: false))
        #expect(try parse("start Hi") == .run(prompt: "Hi", maxNewTokens: nil, stopOnEntry: true))
        #expect(failure("run -n many words") == "-n needs a number of tokens ≥ 0")
        #expect(failure("run -n -1 x") == "-n needs a number of tokens ≥ 0")
        #expect(try parse("restart") == .restart)
        #expect(failure("restart now") == "restart takes no arguments (got 'now')")
    }

    @Test func breakpoints() throws {
        #expect(try parse("break blocks.3.hook_resid_post") == .setBreakpoint(SourceBreakpoint(hook: "blocks.3.hook_resid_post")))
        #expect(try parse("b blocks.*.hook_resid_post if x.norm() > 100 and layer > 2")
                == .setBreakpoint(SourceBreakpoint(hook: "blocks.*.hook_resid_post", condition: "x.norm() > 100 and layer > 2")))
        #expect(try parse("break blocks.1.attn.hook_pattern log max={x.max()} at {layer}")
                == .setBreakpoint(SourceBreakpoint(hook: "blocks.1.attn.hook_pattern", logMessage: "max={x.max()} at {layer}")))
        #expect(try parse("break hook_embed hits 3") == .setBreakpoint(SourceBreakpoint(hook: "hook_embed", hitCondition: "3")))
        #expect(try parse("break hook_embed hits >= 2 if layer == 1")
                == .setBreakpoint(SourceBreakpoint(hook: "hook_embed", condition: "layer == 1", hitCondition: ">= 2")))
        #expect(try parse("break x hits %2 log hi") == .setBreakpoint(SourceBreakpoint(hook: "x", hitCondition: "%2", logMessage: "hi")))
    }

    @Test func breakpointErrors() {
        #expect(failure("break") == "usage: break HOOK [hits N] [if COND | log MESSAGE]")
        #expect(failure("break if x") == "usage: break HOOK [hits N] [if COND | log MESSAGE]")
        #expect(failure("break h if") == "if needs a condition, e.g. if x.norm() > 100")
        #expect(failure("break h log") == "log needs a message, e.g. log norm={x.norm()}")
        #expect(failure("break h hits") == "hits needs N, >= N, > N, <= N, < N or % N (got '')")
        #expect(failure("break h hits often") == "hits needs N, >= N, > N, <= N, < N or % N (got 'often')")
        #expect(failure("break h when x") == "expected hits, if or log after the hook, not 'when'")
    }

    @Test func hitConditions() {
        for valid in ["5", ">= 3", ">3", "<= 10", "< 2", "== 4", "% 2", "%2"] { #expect(CommandParser.isHitCondition(valid), "\(valid)") }
        for invalid in ["", ">=", "x", "3x", "=> 3", "-1", "% -2"] { #expect(!CommandParser.isHitCondition(invalid), "\(invalid)") }
    }

    @Test func delete() throws {
        #expect(try parse("delete") == .delete([]))
        #expect(try parse("d 2 5") == .delete([2, 5]))
        #expect(failure("delete two") == "bad breakpoint number 'two'")
    }

    @Test func info() throws {
        #expect(try parse("info breakpoints") == .info(.breakpoints))
        #expect(try parse("i b") == .info(.breakpoints))
        #expect(try parse("info patches") == .info(.patches))
        #expect(try parse("info model") == .info(.model))
        #expect(try parse("info catch") == .info(.catchpoints))
        #expect(try parse("info hooks") == .info(.hooks(pattern: nil)))
        #expect(try parse("info hooks blocks.0.*") == .info(.hooks(pattern: "blocks.0.*")))
        #expect(failure("info") == "usage: info breakpoints|patches|model|hooks [GLOB]|catch")
        #expect(failure("info weather") == "bad info topic 'weather'; expected breakpoints, patches, model, hooks, catch")
        #expect(failure("info model now") == "info model takes no arguments (got 'now')")
    }

    @Test func execution() throws {
        #expect(try parse("continue") == .resume(.continueRun))
        #expect(try parse("c") == .resume(.continueRun))
        #expect(try parse("cont") == .resume(.continueRun))
        #expect(try parse("next") == .resume(.next(.hook)))
        #expect(try parse("n layer") == .resume(.next(.layer)))
        #expect(try parse("next t") == .resume(.next(.token)))
        #expect(try parse("step") == .resume(.stepIn))
        #expect(try parse("s") == .resume(.stepIn))
        #expect(try parse("finish") == .resume(.stepOut))
        #expect(try parse("back") == .resume(.stepBack))
        #expect(failure("next block") == "bad granularity 'block'; expected hook, layer, token")
        #expect(failure("next layer 2") == "next takes no arguments (got '2')")
        #expect(failure("step 2") == "step takes no arguments (got '2')")
    }

    @Test func inspection() throws {
        #expect(try parse("print x.norm()") == .print("x.norm()"))
        #expect(try parse("p  x[-1, :10] ") == .print("x[-1, :10]"))
        #expect(failure("print") == "usage: print EXPR")
        #expect(try parse("lens") == .lens(nil))
        #expect(try parse("lens x[2]") == .lens("x[2]"))
        #expect(try parse("bt") == .backtrace)
        #expect(try parse("where") == .backtrace)
        #expect(try parse("tokenize Hello world") == .tokenize("Hello world"))
        #expect(failure("tokenize") == "usage: tokenize TEXT")
    }

    @Test func patches() throws {
        #expect(try parse("patch blocks.3.hook_resid_post zero") == .patch(PatchCommand(hook: "blocks.3.hook_resid_post", action: .zero)))
        #expect(try parse("patch h mean") == .patch(PatchCommand(hook: "h", action: .mean)))
        #expect(try parse("patch h scale 0.5") == .patch(PatchCommand(hook: "h", action: .scale(0.5))))
        #expect(try parse("patch h at 0,3:5 heads 4,1 zero")
                == .patch(PatchCommand(hook: "h", positions: .list([0, 3, 4]), heads: [1, 4], action: .zero)))
        #expect(try parse("patch h at prompt scale 2") == .patch(PatchCommand(hook: "h", positions: .prompt, action: .scale(2))))
        #expect(try parse("patch h at generated mean") == .patch(PatchCommand(hook: "h", positions: .generated, action: .mean)))
        #expect(try parse("patch h add [1, 0, -2.5]") == .patch(PatchCommand(hook: "h", action: .add(.literal(shape: [3], values: [1, 0, -2.5])))))
        #expect(try parse("patch h set [[1, 2], [3, 4]]")
                == .patch(PatchCommand(hook: "h", action: .set(.literal(shape: [2, 2], values: [1, 2, 3, 4])))))
        #expect(try parse("patch h add 4 * (x[-1] - x[0])") == .patch(PatchCommand(hook: "h", action: .add(.expression("4 * (x[-1] - x[0])")))))
        #expect(try parse("patch h add [x[0]]") == .patch(PatchCommand(hook: "h", action: .add(.expression("[x[0]]")))))
        #expect(try parse("patch h project-out x[-1]") == .patch(PatchCommand(hook: "h", action: .projectOut(.expression("x[-1]")))))
        #expect(try parse("patch h resample The capital of Italy is")
                == .patch(PatchCommand(hook: "h", action: .resample(prompt: "The capital of Italy is"))))
        #expect(try parse("patch clear") == .clearPatches([]))
        #expect(try parse("patch clear 1 3") == .clearPatches([1, 3]))
    }

    @Test func patchErrors() {
        #expect(failure("patch")?.hasPrefix("usage: patch HOOK") == true)
        #expect(failure("patch h")?.hasPrefix("usage: patch HOOK") == true)
        #expect(failure("patch h explode") == "unknown patch operation 'explode'; use zero, mean, scale, add, set, project-out, resample, ablate-features or steer-features")
        #expect(failure("patch h scale") == "scale needs a factor, e.g. scale 0.5")
        #expect(failure("patch h scale lots") == "scale needs a factor, e.g. scale 0.5")
        #expect(failure("patch h add") == "add needs a tensor: numbers like [1, 0, -2] or an expression")
        #expect(failure("patch h resample") == "resample needs a prompt")
        #expect(failure("patch h at zero") == "bad position 'zero': expected a number ≥ 0 or a range like 2:5")
        #expect(failure("patch h at 5:2 zero") == "bad position range '5:2': expected START:END with END > START")
        #expect(failure("patch h heads zero") == "bad head 'zero': expected a number ≥ 0 or a range like 2:5")
        #expect(failure("patch h zero now") == "patch … zero takes no arguments (got 'now')")
        #expect(failure("patch clear all") == "bad patch id 'all'")
    }

    @Test func exceptionFilters() throws {
        #expect(try parse("catch") == .exceptionFilters(.show))
        #expect(try parse("catch nan") == .exceptionFilters(.add(.nan, threshold: nil)))
        #expect(try parse("catch inf") == .exceptionFilters(.add(.inf, threshold: nil)))
        #expect(try parse("catch massive 1e3") == .exceptionFilters(.add(.massive, threshold: 1000)))
        #expect(try parse("catch clear") == .exceptionFilters(.clear))
        #expect(failure("catch nan 5") == "only catch massive takes a threshold")
        #expect(failure("catch massive -4") == "the threshold must be a positive number, not '-4'")
        #expect(failure("catch overflow") == "bad exception filter (or clear) 'overflow'; expected nan, inf, massive")
    }

    @Test func helpAndQuit() throws {
        #expect(try parse("help") == .help(nil))
        #expect(try parse("help break") == .help("break"))
        #expect(try parse("quit") == .quit)
        #expect(try parse("q") == .quit)
        #expect(failure("quit now") == "quit takes no arguments (got 'now')")
    }

    @Test func unknownAndAmbiguousCommands() throws {
        #expect(failure("frobnicate") == "unknown command 'frobnicate'; try 'help'")
        #expect(failure("st x") == "ambiguous command 'st': start, step, steer")
        #expect(try parse("re") == .restart)
        #expect(try parse("b h") == .setBreakpoint(SourceBreakpoint(hook: "h")))
    }

    @Test func everyCommandHasHelpAndAUniqueName() {
        var names = Set<String>()
        for command in CommandParser.commands {
            #expect(!command.summary.isEmpty && command.usage.hasPrefix(command.name), "\(command.name)")
            for name in [command.name] + command.aliases { #expect(names.insert(name).inserted, "\(name) is used twice") }
        }
    }
}
