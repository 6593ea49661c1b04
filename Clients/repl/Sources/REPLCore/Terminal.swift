import Foundation

/// The terminal on standard input, switched to raw mode while a line is edited.
///
/// Raw mode here: no echo, no line buffering, no signals from Ctrl-C (it arrives as a byte), no flow
/// control and no CR→NL translation on input; output processing stays on, so `\n` still starts a new row.
public final class Terminal: @unchecked Sendable {
    private let descriptor: Int32
    private let original: termios

    /// Nil when `descriptor` is not a terminal.
    public init?(descriptor: Int32 = STDIN_FILENO) {
        var settings = termios()
        guard isatty(descriptor) == 1, tcgetattr(descriptor, &settings) == 0 else { return nil }
        self.descriptor = descriptor
        original = settings
    }

    public func enableRawMode() {
        var raw = original
        raw.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG | IEXTEN)
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL | BRKINT | INPCK | ISTRIP)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        tcsetattr(descriptor, TCSADRAIN, &raw)
    }

    public func restore() {
        var settings = original
        tcsetattr(descriptor, TCSADRAIN, &settings)
    }

    /// The next input byte; nil at end of input.
    public func readByte() -> UInt8? {
        var byte: UInt8 = 0
        while true {
            let count = read(descriptor, &byte, 1)
            if count == 1 { return byte }
            if count < 0 && errno == EINTR { continue }
            return nil
        }
    }

    /// The terminal's width in columns (80 if unknown).
    public var columns: Int {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }
}

/// Reads lines from the terminal with the line editor: history, completion, Ctrl-C to drop a line.
public final class InteractiveInput {
    private let terminal: Terminal
    private let console: Console
    private var history: History
    private let completer: () -> Completer
    public let prompt: String

    public init(terminal: Terminal, console: Console, history: History, prompt: String,
                completer: @escaping () -> Completer) {
        self.terminal = terminal
        self.console = console
        self.history = history
        self.prompt = prompt
        self.completer = completer
    }

    /// The next line entered; nil at Ctrl-D on an empty line or end of input.
    public func readLine() -> String? {
        terminal.enableRawMode()
        defer { terminal.restore() }
        var editor = LineEditor(history: history.entries)
        var decoder = KeyDecoder()
        console.setTransient(editor.render(prompt: prompt))
        while let byte = terminal.readByte() {
            guard let key = decoder.feed(byte) else { continue }
            switch editor.handle(key) {
            case .edited:
                break
            case .submit(let line):
                console.endTransient(keep: true)
                history.add(line)
                return line
            case .endOfInput:
                console.endTransient(keep: true)
                return nil
            case .cancel:
                console.setTransient(editor.render(prompt: prompt) + "^C")
                console.endTransient(keep: true)
                editor = LineEditor(history: history.entries)
            case .complete:
                complete(&editor)
            case .clearScreen:
                console.clearScreen()
            }
            console.setTransient(editor.render(prompt: prompt))
        }
        console.endTransient(keep: true)
        return nil
    }

    private func complete(_ editor: inout LineEditor) {
        let completion = completer().complete(editor.line, cursor: editor.cursor)
        guard let replacement = completion.replacement else { return }
        let word = String(editor.text[completion.start..<editor.cursor])
        if replacement.count > word.count {
            editor.replace(from: completion.start, with: replacement)
        } else if completion.candidates.count > 1 {
            console.lines(columns(completion.candidates, width: terminal.columns))
        }
    }

    /// Candidates in columns across the terminal.
    private func columns(_ items: [String], width: Int) -> [String] {
        let cell = (items.map(\.count).max() ?? 0) + 2
        let perRow = max(width / cell, 1)
        return stride(from: 0, to: items.count, by: perRow).map { start in
            items[start..<min(start + perRow, items.count)]
                .map { $0.padding(toLength: cell, withPad: " ", startingAt: 0) }.joined().trimmingTrailingBlanks()
        }
    }
}
