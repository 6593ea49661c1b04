/// One lexical token and the character offset where it starts.
struct Token {
    enum Kind: Equatable {
        case number(Double)
        case string(String)
        /// A name with its dot-separated segments: `x`, `blocks.3.hook_resid_post`, `x.norm`.
        case name([Segment])
        case symbol(Symbol)
        case end
    }

    /// One part of a dotted name and where it starts.
    struct Segment: Equatable {
        let text: String
        let position: Int
    }

    enum Symbol: String, CaseIterable {
        case power = "**", lessEqual = "<=", greaterEqual = ">=", equal = "==", notEqual = "!=", ellipsis = "..."
        case plus = "+", minus = "-", star = "*", slash = "/", percent = "%", at = "@"
        case less = "<", greater = ">", assign = "="
        case leftParen = "(", rightParen = ")", leftBracket = "[", rightBracket = "]"
        case comma = ",", colon = ":", dot = "."
    }

    let kind: Kind
    let position: Int
    /// The source text of the token, for messages.
    let text: String

    /// How a message names this token: `']'`, `'blocks.3'`, or `end of expression`.
    var quotedText: String { kind == .end ? "end of expression" : "'\(text)'" }

    /// The name's text when it is a single plain word such as `and` or `true`.
    var word: String? {
        if case .name(let segments) = kind, segments.count == 1 { return segments[0].text }
        return nil
    }
}

/// Splits an expression into tokens.
///
/// A name swallows the dots that are directly followed by a letter, digit or underscore, so
/// `blocks.3.hook_resid_post` and `x.norm` are each one name token; the parser decides which
/// segments are a variable and which are members.
struct Lexer {
    private let characters: [Character]
    private var offset = 0
    private var previous: Token.Kind?

    init(_ source: String) {
        characters = Array(source)
    }

    static func tokens(of source: String) throws(LocatedError) -> [Token] {
        var lexer = Lexer(source)
        var tokens: [Token] = []
        while true {
            let token = try lexer.next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    private mutating func next() throws(LocatedError) -> Token {
        while offset < characters.count, characters[offset].isWhitespace { offset += 1 }
        let start = offset
        guard offset < characters.count else { return Token(kind: .end, position: start, text: "") }
        let character = characters[offset]
        let kind: Token.Kind
        if isNameStart(character) {
            kind = .name(lexName())
        } else if character.isASCII, character.isNumber || (character == "." && startsFraction) {
            kind = .number(try lexNumber())
        } else if character == "'" || character == "\"" {
            kind = .string(try lexString())
        } else {
            kind = .symbol(try lexSymbol())
        }
        previous = kind
        return Token(kind: kind, position: start, text: String(characters[start..<offset]))
    }

    /// A `.` starts a number like `.5` only where an operand may begin (not after `x`, `]` or `)`).
    private var startsFraction: Bool {
        guard let digit = peek(1), digit.isASCII, digit.isNumber else { return false }
        switch previous {
        case .name?, .number?, .string?, .symbol(.rightParen)?, .symbol(.rightBracket)?: return false
        default: return true
        }
    }

    private func peek(_ distance: Int) -> Character? {
        offset + distance < characters.count ? characters[offset + distance] : nil
    }

    private func isNameStart(_ character: Character) -> Bool {
        character == "_" || (character.isASCII && character.isLetter)
    }

    private func isNamePart(_ character: Character?) -> Bool {
        guard let character else { return false }
        return character == "_" || (character.isASCII && (character.isLetter || character.isNumber))
    }

    private mutating func lexName() -> [Token.Segment] {
        var segments: [Token.Segment] = []
        repeat {
            if characters[offset] == "." { offset += 1 }
            let start = offset
            while isNamePart(peek(0)) { offset += 1 }
            segments.append(Token.Segment(text: String(characters[start..<offset]), position: start))
        } while peek(0) == "." && isNamePart(peek(1))
        return segments
    }

    private mutating func lexNumber() throws(LocatedError) -> Double {
        let start = offset
        skipDigits()
        if peek(0) == ".", peek(1) != "." {
            offset += 1
            skipDigits()
        }
        if let e = peek(0), e == "e" || e == "E" {
            let signed = peek(1) == "+" || peek(1) == "-"
            if let digit = peek(signed ? 2 : 1), digit.isASCII, digit.isNumber {
                offset += signed ? 2 : 1
                skipDigits()
            }
        }
        let text = String(characters[start..<offset])
        guard let value = Double(text) else { throw LocatedError("malformed number '\(text)'", at: start) }
        return value
    }

    private mutating func skipDigits() {
        while let digit = peek(0), digit.isASCII, digit.isNumber { offset += 1 }
    }

    private mutating func lexString() throws(LocatedError) -> String {
        let start = offset
        let quote = characters[offset]
        offset += 1
        var text = ""
        while let character = peek(0) {
            offset += 1
            if character == quote { return text }
            guard character == "\\" else { text.append(character); continue }
            guard let escaped = peek(0) else { break }
            offset += 1
            switch escaped {
            case "n": text.append("\n")
            case "t": text.append("\t")
            case "r": text.append("\r")
            case "\\", "'", "\"": text.append(escaped)
            default: throw LocatedError("unknown escape '\\\(escaped)' in string", at: offset - 2)
            }
        }
        throw LocatedError("unterminated string", at: start)
    }

    private mutating func lexSymbol() throws(LocatedError) -> Token.Symbol {
        let start = offset
        for symbol in Token.Symbol.allCases {
            let text = Array(symbol.rawValue)
            if characters[offset...].starts(with: text) {
                offset += text.count
                return symbol
            }
        }
        let pair = String(characters[offset..<min(offset + 2, characters.count)])
        switch pair {
        case "&&": throw LocatedError("'&&' is not an operator", at: start, hint: "use 'and'")
        case "||": throw LocatedError("'||' is not an operator", at: start, hint: "use 'or'")
        default: break
        }
        switch characters[offset] {
        case "!": throw LocatedError("'!' is not an operator", at: start, hint: "use 'not' or '!='")
        case "^": throw LocatedError("'^' is not an operator", at: start, hint: "use '**' for powers")
        case "&": throw LocatedError("'&' is not an operator", at: start, hint: "use 'and'")
        case "|": throw LocatedError("'|' is not an operator", at: start, hint: "use 'or'")
        default: throw LocatedError("unexpected character '\(characters[offset])'", at: start)
        }
    }
}
