import Foundation

/// The REPL's output, shared by the command loop and the thread that receives notifications.
///
/// On a terminal it keeps one transient line (a progress line, or the prompt being edited) at the bottom:
/// other output is written above it and the line is drawn again.
public final class Console: @unchecked Sendable {
    private let write: @Sendable (String) -> Void
    public let isTerminal: Bool
    private let lock = NSLock()
    private var atLineStart = true
    /// The transient line as last drawn (terminals only).
    private var transient: String?

    public init(isTerminal: Bool, write: @escaping @Sendable (String) -> Void) {
        self.isTerminal = isTerminal
        self.write = write
    }

    /// Writes to standard output, unbuffered.
    public static func standardOutput(isTerminal: Bool) -> Console {
        Console(isTerminal: isTerminal) { text in
            var bytes = Array(text.utf8)[...]
            while !bytes.isEmpty {
                let written = bytes.withUnsafeBytes { Foundation.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                bytes = bytes.dropFirst(written)
            }
        }
    }

    /// A whole line, started on a new line if text without a newline came before.
    public func line(_ text: String) {
        lines([text])
    }

    public func lines(_ texts: [String]) {
        guard !texts.isEmpty else { return }
        locked {
            var output = clearTransient()
            if !atLineStart { output += "\n" }
            output += texts.map { $0 + "\n" }.joined()
            atLineStart = true
            write(output + redrawTransient())
        }
    }

    /// Text as it comes, such as generated tokens; no newline is added.
    public func stream(_ text: String) {
        guard !text.isEmpty else { return }
        locked {
            if transient != nil {
                // A prompt or progress line owns the bottom row: keep the text on rows of its own.
                var output = clearTransient() + (atLineStart ? "" : "\n") + text
                if !text.hasSuffix("\n") { output += "\n" }
                atLineStart = true
                write(output + redrawTransient())
            } else {
                write(text)
                atLineStart = text.hasSuffix("\n")
            }
        }
    }

    /// Shows (or replaces) the transient line; ignored unless on a terminal.
    public func setTransient(_ rendered: String) {
        guard isTerminal else { return }
        locked {
            var output = ""
            if transient == nil, !atLineStart {
                output += "\n"
                atLineStart = true
            }
            transient = rendered
            write(output + rendered)
        }
    }

    /// Ends the transient line: `keep` leaves it on screen (an entered command), otherwise it is erased.
    public func endTransient(keep: Bool) {
        guard isTerminal else { return }
        locked {
            guard transient != nil else { return }
            transient = nil
            write(keep ? "\n" : "\r\u{1B}[K")
        }
    }

    /// Clears the screen (terminals only) and draws the transient line at the top.
    public func clearScreen() {
        guard isTerminal else { return }
        locked {
            atLineStart = true
            write("\u{1B}[H\u{1B}[2J" + redrawTransient())
        }
    }

    private func clearTransient() -> String {
        transient == nil ? "" : "\r\u{1B}[K"
    }

    private func redrawTransient() -> String {
        transient ?? ""
    }

    private func locked(_ body: () -> Void) {
        lock.lock()
        defer { lock.unlock() }
        body()
    }
}
