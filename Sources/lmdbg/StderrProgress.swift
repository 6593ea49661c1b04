import Foundation

/// A one-line progress bar on stderr, redrawn in place when stderr is a terminal and
/// printed every tenth otherwise.
final class StderrProgress: @unchecked Sendable {
    private let title: String
    private let start = Date()
    private let interactive = isatty(2) != 0
    private var lastTenth = -1

    init(title: String) { self.title = title }

    func report(_ fraction: Double, _ detail: String) {
        let percent = Int((fraction * 100).rounded(.down))
        if interactive {
            let width = 30
            let filled = min(width, Int(fraction * Double(width)))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            writeStderr("\r\(title) \(bar) \(percent)% \(detail.prefix(32))\u{1B}[K")
        } else if percent / 10 > lastTenth {
            lastTenth = percent / 10
            writeStderr("\(title): \(percent)%\n")
        }
    }

    /// Clears the bar after a failure, so that the error is the last word.
    func abandon() {
        if interactive { writeStderr("\r\u{1B}[K") }
    }

    func finish() {
        let seconds = String(format: "%.2f", Date().timeIntervalSince(start))
        writeStderr(interactive ? "\r\(title): done in \(seconds) s\u{1B}[K\n" : "\(title): done in \(seconds) s\n")
    }
}

func writeStderr(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}
