import Foundation
import Testing
@testable import REPLCore

private let hooks = ["hook_embed", "blocks.0.hook_resid_pre", "blocks.0.attn.hook_pattern", "blocks.0.hook_resid_post",
                     "blocks.1.hook_resid_pre", "blocks.1.attn.hook_pattern", "blocks.1.hook_resid_post", "ln_final.hook_normalized", "logits"]

@Suite struct CompletionTests {
    let completer = Completer(hookNames: hooks)

    private func complete(_ line: String) -> Completion {
        completer.complete(line, cursor: line.count)
    }

    @Test func commandNames() {
        #expect(complete("") == Completion(start: 0, candidates: CommandParser.commands.map(\.name)))
        #expect(complete("co") == Completion(start: 0, candidates: ["continue"]))
        #expect(complete("co").replacement == "continue ")
        #expect(complete("st").candidates == ["start", "step", "steer"])
        #expect(complete("st").replacement == "st")
        #expect(complete("zz").candidates.isEmpty && complete("zz").replacement == nil)
    }

    @Test func hookNamesAndGlobs() {
        #expect(complete("break blocks.1.hook_r") == Completion(start: 6, candidates: ["blocks.1.hook_resid_pre", "blocks.1.hook_resid_post"]))
        #expect(complete("break blocks.1.hook_r").replacement == "blocks.1.hook_resid_p")
        #expect(complete("b blocks.*.at").candidates == ["blocks.*.attn.hook_pattern"])
        #expect(complete("break blocks.").candidates.contains("blocks.*.hook_resid_post"))
        #expect(complete("break lo").replacement == "logits ")
        #expect(complete("patch ").candidates.first == "clear")
        #expect(complete("info hooks blocks.0.a").candidates == ["blocks.0.attn.hook_pattern"])
    }

    @Test func globsComeAfterNamesWithoutDuplicates() {
        let candidates = completer.hookCandidates
        #expect(candidates.prefix(hooks.count) == hooks[...])
        #expect(Array(candidates.dropFirst(hooks.count)) == ["blocks.*.hook_resid_pre", "blocks.*.attn.hook_pattern", "blocks.*.hook_resid_post"])
    }

    @Test func keywordsOfEachCommand() {
        #expect(complete("next l").candidates == ["layer"])
        #expect(complete("n ").candidates == ["hook", "layer", "token"])
        #expect(complete("info p").candidates == ["patches"])
        #expect(complete("catch m").candidates == ["massive"])
        #expect(complete("help fi").candidates == ["finish"])
        #expect(complete("break logits ").candidates == ["hits", "if", "log"])
        #expect(complete("patch logits at p").candidates == ["prompt"])
        #expect(complete("patch logits s").candidates == ["scale", "set"])
        #expect(complete("patch logits at 0 ").candidates == ["heads", "zero", "mean", "scale", "add", "set", "project-out", "resample"])
        #expect(complete("step ").candidates.isEmpty)
        #expect(complete("frob ").candidates.isEmpty)
    }

    @Test func expressions() {
        #expect(complete("print blocks.0.hook_resid_p").candidates == ["blocks.0.hook_resid_pre", "blocks.0.hook_resid_post"])
        #expect(complete("p x.no") == Completion(start: 2, candidates: ["x.norm("]))
        #expect(complete("p x[-1].no") == Completion(start: 7, candidates: [".norm("]))
        #expect(complete("p soft").candidates == ["softmax("])
        #expect(complete("p (lay").candidates == ["layer"])
        #expect(complete("break logits if x.norm() > 1 and tok").candidates == ["tokenStep", "tokens", "token(", "tokens("])
        // After a call's parenthesis any name may follow: everything is offered, nothing is filled in.
        #expect(complete("p x.norm(").replacement == "" && complete("p x.norm(").candidates.contains("x"))
    }

    @Test func completionAtTheCursorIgnoresTheRest() {
        #expect(completer.complete("break blocks.1.hook_resid_post if x", cursor: 7).candidates.count == 9)
    }
}

@Suite struct KeyDecoderTests {
    private func keys(_ bytes: [UInt8]) -> [Key] {
        var decoder = KeyDecoder()
        return bytes.compactMap { decoder.feed($0) }
    }

    @Test func textAndControlKeys() {
        #expect(keys(Array("ab ".utf8)) == [.character("a"), .character("b"), .character(" ")])
        #expect(keys([0x0D, 0x09, 0x7F, 0x01, 0x05, 0x0B, 0x15, 0x17, 0x03, 0x04, 0x0C])
                == [.enter, .tab, .backspace, .control("a"), .control("e"), .control("k"), .control("u"), .control("w"),
                    .control("c"), .control("d"), .control("l")])
        #expect(keys([0x02, 0x06, 0x10, 0x0E]) == [.left, .right, .up, .down])
    }

    @Test func utf8ArrivesWhole() {
        #expect(keys(Array("é▁😀".utf8)) == [.character("é"), .character("▁"), .character("😀")])
    }

    @Test func escapeSequences() {
        let esc: UInt8 = 0x1B
        func sequence(_ text: String) -> [UInt8] { [esc] + Array(text.utf8) }
        #expect(keys(sequence("[A") + sequence("[B") + sequence("[C") + sequence("[D")) == [.up, .down, .right, .left])
        #expect(keys(sequence("[H") + sequence("[F") + sequence("OH") + sequence("OF")) == [.home, .end, .home, .end])
        #expect(keys(sequence("[1~") + sequence("[4~") + sequence("[3~") + sequence("[7~")) == [.home, .end, .delete, .home])
        #expect(keys(sequence("[1;5C") + sequence("[1;5D") + sequence("b") + sequence("f")) == [.wordRight, .wordLeft, .wordLeft, .wordRight])
        #expect(keys(sequence("[5~") + Array("x".utf8)) == [.character("x")])
    }
}

@Suite struct LineEditorTests {
    private func edit(_ keys: [Key], history: [String] = []) -> LineEditor {
        var editor = LineEditor(history: history)
        for key in keys { _ = editor.handle(key) }
        return editor
    }

    private func typing(_ text: String) -> [Key] { text.map { .character($0) } }

    @Test func insertingAndMoving() {
        let editor = edit(typing("prnt") + [.left, .left, .character("i")])
        #expect(editor.line == "print" && editor.cursor == 3)
        #expect(edit(typing("abc") + [.home, .character(">")]).line == ">abc")
        #expect(edit(typing("abc") + [.home, .end, .character("!")]).line == "abc!")
        #expect(edit(typing("abc") + [.control("a"), .right, .control("e"), .left]).cursor == 2)
        #expect(edit([.left, .right, .right]).cursor == 0)
    }

    @Test func deleting() {
        #expect(edit(typing("abc") + [.backspace]).line == "ab")
        #expect(edit(typing("abc") + [.home, .backspace, .delete]).line == "bc")
        #expect(edit(typing("abc") + [.left, .control("d")]).line == "ab")
        #expect(edit(typing("print x.norm()") + [.left, .left, .control("k")]).line == "print x.norm")
        let killedStart = edit(typing("print x") + [.left, .control("u")])
        #expect(killedStart.line == "x" && killedStart.cursor == 0)
        #expect(edit(typing("break  blocks.1 ") + [.control("w")]).line == "break  ")
        #expect(edit(typing("a b") + [.wordLeft, .control("w")]).line == "b")
    }

    @Test func words() {
        #expect(edit(typing("one two three") + [.wordLeft, .wordLeft]).cursor == 4)
        #expect(edit(typing("one two three") + [.home, .wordRight, .wordRight]).cursor == 7)
    }

    @Test func results() {
        var editor = LineEditor(history: [])
        #expect(editor.handle(.control("d")) == .endOfInput)
        _ = editor.handle(.character("x"))
        #expect(editor.handle(.control("d")) == .edited)
        #expect(editor.handle(.tab) == .complete)
        #expect(editor.handle(.control("c")) == .cancel)
        #expect(editor.handle(.control("l")) == .clearScreen)
        #expect(editor.handle(.enter) == .submit("x"))
    }

    @Test func historyWalkKeepsTheDraft() {
        var editor = edit(typing("dra"), history: ["run Hello", "next"])
        _ = editor.handle(.up)
        #expect(editor.line == "next")
        _ = editor.handle(.up)
        #expect(editor.line == "run Hello" && editor.cursor == 9)
        _ = editor.handle(.up)
        #expect(editor.line == "run Hello")
        _ = editor.handle(.down)
        _ = editor.handle(.down)
        #expect(editor.line == "dra")
        _ = editor.handle(.down)
        #expect(editor.line == "dra")
        #expect(edit([.up, .down], history: []).line == "")
    }

    @Test func completionReplacesTheWord() {
        var editor = edit(typing("break blocks.1.hook_r"))
        editor.replace(from: 6, with: "blocks.1.hook_resid_p")
        #expect(editor.line == "break blocks.1.hook_resid_p" && editor.cursor == editor.text.count)
    }

    @Test func rendering() {
        let editor = edit(typing("abc") + [.left])
        #expect(editor.render(prompt: "(lmdbg) ") == "\r(lmdbg) abc\u{1B}[K\u{1B}[1D")
        #expect(edit(typing("ab")).render(prompt: "> ") == "\r> ab\u{1B}[K")
    }
}

@Suite struct HistoryTests {
    private func temporaryFile() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("lmdbg-history-\(UUID().uuidString)")
    }

    @Test func skipsBlanksAndRepeats() {
        var history = History(file: nil)
        let added = ["next", "next", "   ", "print x", "next"].map { history.add($0) }
        #expect(added == [true, false, false, true, true])
        #expect(history.entries == ["next", "print x", "next"])
    }

    @Test func keepsTheNewestWithinTheLimit() {
        var history = History(file: nil, limit: 3)
        for index in 0..<5 { history.add("p \(index)") }
        #expect(history.entries == ["p 2", "p 3", "p 4"])
    }

    @Test func persistsAcrossSessions() throws {
        let file = temporaryFile()
        defer { try? FileManager.default.removeItem(at: file) }
        var first = History(file: file)
        first.add("load SmolLM2")
        first.add("break logits")
        #expect(History(file: file).entries == ["load SmolLM2", "break logits"])
        var second = History(file: file)
        second.add("run Hi")
        #expect(try String(contentsOf: file, encoding: .utf8) == "load SmolLM2\nbreak logits\nrun Hi\n")
    }

    @Test func aLongFileIsCutBackWhenLoaded() throws {
        let file = temporaryFile()
        defer { try? FileManager.default.removeItem(at: file) }
        try (0..<10).map { "c \($0)\n" }.joined().write(to: file, atomically: true, encoding: .utf8)
        let history = History(file: file, limit: 4)
        #expect(history.entries == ["c 6", "c 7", "c 8", "c 9"])
        #expect(try String(contentsOf: file, encoding: .utf8) == "c 6\nc 7\nc 8\nc 9\n")
    }

    @Test func theFileComesFromTheEnvironment() {
        #expect(History.defaultFile(environment: ["LMDBG_HISTORY": "/tmp/h", "HOME": "/home/u"]).path == "/tmp/h")
        #expect(History.defaultFile(environment: ["HOME": "/home/u"]).path == "/home/u/.lmdbg_history")
    }
}

@Suite struct LaunchOptionsTests {
    @Test func options() throws {
        #expect(try LaunchOptions.parse([]) == LaunchOptions())
        #expect(try LaunchOptions.parse(["--model", "SmolLM2", "--server=/bin/lmdbg", "-x", "s.lmdbg", "--prompt", "Hi there"])
                == LaunchOptions(model: "SmolLM2", server: "/bin/lmdbg", script: "s.lmdbg", prompt: "Hi there"))
        #expect(try LaunchOptions.parse(["-h"]).showHelp)
        #expect(try LaunchOptions.parse(["--ex", "break logits", "--ex=run"]).startCommands == ["break logits", "run"])
    }

    @Test func errors() {
        #expect(throws: CommandError("unknown option '--modle'")) { try LaunchOptions.parse(["--modle", "x"]) }
        #expect(throws: CommandError("--model needs a value")) { try LaunchOptions.parse(["--model"]) }
    }

    @Test func locatingTheServer() throws {
        #expect(ServerProcess.locate(explicit: "/opt/lmdbg") == "/opt/lmdbg")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lmdbg-path-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = directory.appendingPathComponent("my-lmdbg")
        _ = FileManager.default.createFile(atPath: server.path, contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755])
        #expect(ServerProcess.locate(explicit: "my-lmdbg", environment: ["PATH": "/nonexistent:\(directory.path)"]) == server.path)
        #expect(ServerProcess.locate(explicit: "other", environment: ["PATH": directory.path]) == nil)
    }
}
