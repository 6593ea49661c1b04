/// Reads a command's arguments: words separated by blanks, or the rest of the line.
struct ArgumentScanner {
    private var remaining: Substring

    init(_ text: Substring) {
        remaining = text
        skipBlanks()
    }

    var isAtEnd: Bool { remaining.isEmpty }

    /// The next word without consuming it.
    var peek: String? {
        var copy = self
        return copy.word()
    }

    /// The next blank-separated word.
    mutating func word() -> String? {
        guard !remaining.isEmpty else { return nil }
        let end = remaining.firstIndex(where: \.isWhitespace) ?? remaining.endIndex
        let word = String(remaining[..<end])
        remaining = remaining[end...]
        skipBlanks()
        return word
    }

    /// The next word, or the next double-quoted text (unquoted, with its escapes resolved, blanks kept).
    mutating func text() -> String? {
        guard remaining.first == "\"" else { return word() }
        var escaping = false
        for index in remaining.indices.dropFirst() {
            let character = remaining[index]
            if escaping { escaping = false; continue }
            if character == "\\" { escaping = true; continue }
            guard character == "\"" else { continue }
            let end = remaining.index(after: index)
            guard let text = unquoted(remaining[..<end]) else { return nil }
            remaining = remaining[end...]
            skipBlanks()
            return text
        }
        return nil
    }

    /// Everything left, without surrounding blanks; a text wholly in double quotes is unquoted
    /// (`\n`, `\t`, `\"` and `\\` escapes).
    mutating func rest() -> String {
        var text = remaining
        while let last = text.last, last.isWhitespace { text.removeLast() }
        remaining = remaining[remaining.endIndex...]
        return unquoted(text) ?? String(text)
    }

    private mutating func skipBlanks() {
        remaining = remaining.drop(while: \.isWhitespace)
    }
}

/// The text inside `"…"` with its escapes resolved, or nil when `text` is not one quoted string.
func unquoted(_ text: Substring) -> String? {
    guard text.count >= 2, text.first == "\"", text.last == "\"" else { return nil }
    var result = ""
    var escaping = false
    for character in text.dropFirst().dropLast() {
        if escaping {
            switch character {
            case "n": result.append("\n")
            case "t": result.append("\t")
            default: result.append(character)
            }
            escaping = false
        } else if character == "\\" {
            escaping = true
        } else if character == "\"" {
            return nil
        } else {
            result.append(character)
        }
    }
    return escaping ? nil : result
}
