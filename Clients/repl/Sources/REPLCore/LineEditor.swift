/// A key press, as the line editor sees it.
public enum Key: Equatable, Sendable {
    case character(Character)
    case enter, tab, backspace, delete
    case left, right, home, end, up, down
    case wordLeft, wordRight
    /// Ctrl and a letter, for those without a meaning above (Ctrl-A is `.control("a")`).
    case control(Character)
}

/// Turns terminal input bytes into keys: UTF-8 text, control characters and the usual escape sequences
/// (arrows, Home/End, Delete, Ctrl-arrows, Alt-b/f). Feed one byte at a time.
public struct KeyDecoder: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    /// The key completed by `byte`, or nil while a sequence is incomplete (or was not understood).
    public mutating func feed(_ byte: UInt8) -> Key? {
        pending.append(byte)
        let bytes = pending
        if bytes[0] == 0x1B { return escape(bytes) }
        if bytes[0] >= 0x80 { return utf8(bytes) }
        pending = []
        switch byte {
        case 0x0D, 0x0A: return .enter
        case 0x09: return .tab
        case 0x7F, 0x08: return .backspace
        case 0x02: return .left
        case 0x06: return .right
        case 0x10: return .up
        case 0x0E: return .down
        case 0x01...0x1A: return .control(Character(Unicode.Scalar(byte + 0x60)))
        case 0x20...0x7E: return .character(Character(Unicode.Scalar(byte)))
        default: return nil
        }
    }

    private mutating func escape(_ bytes: [UInt8]) -> Key? {
        guard bytes.count >= 2 else { return nil }
        if bytes[1] != UInt8(ascii: "[") && bytes[1] != UInt8(ascii: "O") {
            pending = []
            switch bytes[1] {
            case UInt8(ascii: "b"): return .wordLeft
            case UInt8(ascii: "f"): return .wordRight
            case 0x7F: return .control("w")
            default: return nil
            }
        }
        guard bytes.count >= 3 else { return nil }
        let last = bytes[bytes.count - 1]
        // Parameters and intermediates are 0x20…0x3F; a final byte 0x40…0x7E ends the sequence.
        guard (0x40...0x7E).contains(last) else {
            if bytes.count > 16 { pending = [] }
            return nil
        }
        pending = []
        let parameters = String(decoding: bytes[2..<bytes.count - 1], as: UTF8.self)
        let modified = parameters.hasSuffix(";5") || parameters.hasSuffix(";3")
        switch last {
        case UInt8(ascii: "A"): return .up
        case UInt8(ascii: "B"): return .down
        case UInt8(ascii: "C"): return modified ? .wordRight : .right
        case UInt8(ascii: "D"): return modified ? .wordLeft : .left
        case UInt8(ascii: "H"): return .home
        case UInt8(ascii: "F"): return .end
        case UInt8(ascii: "~"):
            switch parameters {
            case "1", "7": return .home
            case "4", "8": return .end
            case "3": return .delete
            default: return nil
            }
        default: return nil
        }
    }

    private mutating func utf8(_ bytes: [UInt8]) -> Key? {
        let expected = bytes[0] >= 0xF0 ? 4 : bytes[0] >= 0xE0 ? 3 : bytes[0] >= 0xC0 ? 2 : 1
        guard bytes.count >= expected else { return nil }
        pending = []
        guard let text = String(validating: bytes, as: UTF8.self), let character = text.first else { return nil }
        return .character(character)
    }
}

/// What the caller does after a key.
public enum EditResult: Equatable, Sendable {
    /// Redraw the line.
    case edited
    /// The line is done (Enter).
    case submit(String)
    /// Ctrl-D on an empty line.
    case endOfInput
    /// Ctrl-C: the line is dropped.
    case cancel
    /// Tab: complete at the cursor.
    case complete
    /// Ctrl-L.
    case clearScreen
}

/// The line being edited, its cursor, and the walk through the history (Up/Down). Pure state: the
/// terminal side reads keys and draws `render`.
public struct LineEditor: Sendable {
    public private(set) var text: [Character] = []
    public private(set) var cursor = 0
    private let history: [String]
    /// Where Up/Down are in `history`; nil while editing a new line.
    private var historyIndex: Int?
    /// The new line, kept while walking the history.
    private var draft: [Character] = []

    public init(history: [String]) {
        self.history = history
    }

    public var line: String { String(text) }

    public mutating func handle(_ key: Key) -> EditResult {
        switch key {
        case .character(let character):
            text.insert(character, at: cursor)
            cursor += 1
        case .enter: return .submit(line)
        case .tab: return .complete
        case .backspace:
            guard cursor > 0 else { break }
            cursor -= 1
            text.remove(at: cursor)
        case .delete:
            if cursor < text.count { text.remove(at: cursor) }
        case .left: cursor = max(cursor - 1, 0)
        case .right: cursor = min(cursor + 1, text.count)
        case .home: cursor = 0
        case .end: cursor = text.count
        case .wordLeft: cursor = startOfWord(before: cursor)
        case .wordRight:
            while cursor < text.count, text[cursor].isWhitespace { cursor += 1 }
            while cursor < text.count, !text[cursor].isWhitespace { cursor += 1 }
        case .up: recall(historyIndex.map { $0 - 1 } ?? history.count - 1)
        case .down: if let index = historyIndex { recall(index + 1) }
        case .control(let letter):
            switch letter {
            case "a": cursor = 0
            case "e": cursor = text.count
            case "k": text.removeSubrange(cursor...)
            case "u":
                text.removeSubrange(..<cursor)
                cursor = 0
            case "w":
                let start = startOfWord(before: cursor)
                text.removeSubrange(start..<cursor)
                cursor = start
            case "d":
                if text.isEmpty { return .endOfInput }
                if cursor < text.count { text.remove(at: cursor) }
            case "c": return .cancel
            case "l": return .clearScreen
            default: break
            }
        }
        return .edited
    }

    /// Replaces the characters from `start` to the cursor with `replacement`; the cursor ends after it.
    public mutating func replace(from start: Int, with replacement: String) {
        let start = min(max(start, 0), cursor)
        text.replaceSubrange(start..<cursor, with: Array(replacement))
        cursor = start + replacement.count
    }

    /// The prompt and the line from the start of the terminal row, the rest of the row cleared, the cursor
    /// put back in place. Assumes one column per character.
    public func render(prompt: String) -> String {
        let back = text.count - cursor
        return "\r" + prompt + line + "\u{1B}[K" + (back > 0 ? "\u{1B}[\(back)D" : "")
    }

    private func startOfWord(before position: Int) -> Int {
        var start = position
        while start > 0, text[start - 1].isWhitespace { start -= 1 }
        while start > 0, !text[start - 1].isWhitespace { start -= 1 }
        return start
    }

    private mutating func recall(_ index: Int) {
        guard index >= 0, !history.isEmpty || historyIndex != nil else { return }
        if historyIndex == nil { draft = text }
        if index >= history.count {
            historyIndex = nil
            text = draft
        } else {
            historyIndex = index
            text = Array(history[index])
        }
        cursor = text.count
    }
}
