/// A Pratt parser from tokens to a `Node` tree (the grammar is in `Expression`'s documentation).
struct Parser {
    private let tokens: [Token]
    private var index = 0
    private let maximumDepth: Int
    private var nesting = 0
    private let stack = StackGuard()

    private init(tokens: [Token], maximumDepth: Int) {
        self.tokens = tokens
        self.maximumDepth = maximumDepth
    }

    static func parse(_ source: String, maximumDepth: Int) throws(LocatedError) -> Node {
        var parser = Parser(tokens: try Lexer.tokens(of: source), maximumDepth: maximumDepth)
        let node = try parser.expression()
        guard parser.current.kind == .end else { throw parser.unexpected() }
        return node
    }

    // MARK: Binding powers

    private static let orPower = 1, andPower = 2, notPower = 3, comparisonPower = 4
    private static let additivePower = 5, multiplicativePower = 6, unaryPower = 7, powerPower = 8

    private enum Infix {
        case binary(BinaryOperator), comparison(ComparisonOperator), and, or

        var power: Int {
            switch self {
            case .or: Parser.orPower
            case .and: Parser.andPower
            case .comparison: Parser.comparisonPower
            case .binary(.add), .binary(.subtract): Parser.additivePower
            case .binary(.power): Parser.powerPower
            case .binary: Parser.multiplicativePower
            }
        }
    }

    private var infix: Infix? {
        switch current.kind {
        case .symbol(let symbol):
            if let op = BinaryOperator(rawValue: symbol.rawValue) { return .binary(op) }
            if let op = ComparisonOperator(rawValue: symbol.rawValue) { return .comparison(op) }
            return nil
        case .name:
            switch current.word {
            case "and": return .and
            case "or": return .or
            default: return nil
            }
        default: return nil
        }
    }

    // MARK: Expressions

    /// Parses operators that bind at least as tightly as `minimumPower`.
    private mutating func expression(_ minimumPower: Int = 0) throws(LocatedError) -> Node {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= maximumDepth else { throw tooDeep(at: current.position) }
        guard !stack.isExhausted else { throw LocatedError(StackGuard.exhausted, at: current.position) }
        var left = try prefix(minimumPower)
        while let op = infix, op.power >= minimumPower {
            let position = current.position
            advance()
            switch op {
            case .binary(.power):
                // Right-associative, and its right operand may carry a sign: 2 ** -1.
                left = try node(.binary(.power, left, try expression(Parser.unaryPower)), at: position)
            case .binary(let binary):
                left = try node(.binary(binary, left, try expression(op.power + 1)), at: position)
            case .comparison(let comparison):
                var chain = [(comparison, try expression(op.power + 1), position)]
                while case .comparison(let next)? = infix {
                    let nextPosition = current.position
                    advance()
                    chain.append((next, try expression(op.power + 1), nextPosition))
                }
                left = try node(.comparison(left, chain), at: position)
            case .and:
                left = try node(.and(left, try expression(op.power + 1)), at: position)
            case .or:
                left = try node(.or(left, try expression(op.power + 1)), at: position)
            }
        }
        return left
    }

    private mutating func prefix(_ minimumPower: Int) throws(LocatedError) -> Node {
        let token = current
        switch token.kind {
        case .symbol(.minus):
            advance()
            return try node(.unary(.negate, try expression(Parser.unaryPower)), at: token.position)
        case .symbol(.plus):
            advance()
            return try node(.unary(.plus, try expression(Parser.unaryPower)), at: token.position)
        case .name where token.word == "not":
            guard minimumPower <= Parser.notPower else {
                throw LocatedError("'not' must be in parentheses here", at: token.position)
            }
            advance()
            return try node(.unary(.not, try expression(Parser.notPower)), at: token.position)
        default:
            return try postfix(try primary())
        }
    }

    private mutating func primary() throws(LocatedError) -> Node {
        let token = current
        switch token.kind {
        case .number(let value):
            advance()
            return try node(.number(value), at: token.position)
        case .string(let text):
            advance()
            return try node(.string(text), at: token.position)
        case .symbol(.leftParen):
            advance()
            let inner = try expression()
            try expect(.rightParen)
            return inner
        case .name(let segments):
            advance()
            return try name(segments)
        default:
            throw unexpected()
        }
    }

    /// A name token: a keyword, a constant, a function call, or a variable with members.
    private mutating func name(_ segments: [Token.Segment]) throws(LocatedError) -> Node {
        let first = segments[0]
        if segments.count == 1 {
            switch first.text {
            case "true", "True": return try node(.bool(true), at: first.position)
            case "false", "False": return try node(.bool(false), at: first.position)
            case "nan": return try node(.number(.nan), at: first.position)
            case "inf": return try node(.number(.infinity), at: first.position)
            case "and", "or", "not": throw LocatedError("expected an expression before '\(first.text)'", at: first.position)
            default: break
            }
        }
        guard current.kind == .symbol(.leftParen) else { return try path(segments) }
        let callee = segments[segments.count - 1]
        if segments.count == 1 { return try call(callee, receiver: nil) }
        return try call(callee, receiver: try path(segments.dropLast()))
    }

    /// A variable followed by its trailing property segments: `x.T.shape` is `x`, then `T`, then `shape`.
    private func path(_ segments: some Collection<Token.Segment>) throws(LocatedError) -> Node {
        let segments = Array(segments)
        var variableEnd = segments.count
        while variableEnd > 1, Property(rawValue: segments[variableEnd - 1].text) != nil { variableEnd -= 1 }
        let variable = segments[..<variableEnd].map(\.text).joined(separator: ".")
        var result = try node(.variable(variable), at: segments[0].position)
        for member in segments[variableEnd...] {
            result = try node(.property(result, member.text), at: member.position)
        }
        return result
    }

    /// Members, calls and subscripts after an operand: `x[0]`, `(a + b).norm()`, `x.T`.
    private mutating func postfix(_ base: Node) throws(LocatedError) -> Node {
        var result = base
        while true {
            switch current.kind {
            case .symbol(.leftBracket):
                let position = current.position
                advance()
                result = try node(.index(result, try subscripts()), at: position)
            case .symbol(.dot):
                advance()
                guard case .name(let segments) = current.kind else {
                    throw LocatedError("expected a name after '.', found \(current.quotedText)", at: current.position)
                }
                advance()
                for (offset, member) in segments.enumerated() {
                    if offset == segments.count - 1, current.kind == .symbol(.leftParen) {
                        result = try call(member, receiver: result)
                    } else {
                        result = try node(.property(result, member.text), at: member.position)
                    }
                }
            case .symbol(.leftParen):
                throw LocatedError("only functions can be called", at: current.position)
            default:
                return result
            }
        }
    }

    /// `name(arguments)` with the current token at `(`; a receiver becomes the first argument.
    private mutating func call(_ callee: Token.Segment, receiver: Node?) throws(LocatedError) -> Node {
        advance()
        var arguments = receiver.map { [Argument(label: nil, value: $0, position: $0.position)] } ?? []
        while current.kind != .symbol(.rightParen) {
            let position = current.position
            var label: String?
            if let word = current.word, tokens[index + 1].kind == .symbol(.assign) {
                label = word
                advance()
                advance()
            } else if arguments.contains(where: { $0.label != nil }) {
                throw LocatedError("positional argument after a keyword argument", at: position)
            }
            arguments.append(Argument(label: label, value: try expression(), position: position))
            guard current.kind == .symbol(.comma) else { break }
            advance()
        }
        try expect(.rightParen)
        return try node(.call(callee.text, arguments, isMethod: receiver != nil), at: callee.position)
    }

    /// The entries of `[...]` after the `[`, through the `]`.
    private mutating func subscripts() throws(LocatedError) -> [Subscript] {
        var entries = [try subscriptEntry()]
        while current.kind == .symbol(.comma) {
            advance()
            if current.kind == .symbol(.rightBracket) { break }
            entries.append(try subscriptEntry())
        }
        try expect(.rightBracket)
        return entries
    }

    private mutating func subscriptEntry() throws(LocatedError) -> Subscript {
        let position = current.position
        if current.kind == .symbol(.ellipsis) {
            advance()
            return .ellipsis
        }
        let start = try optionalSliceBound()
        guard current.kind == .symbol(.colon) else {
            guard let start else { throw LocatedError("expected an index, found \(current.quotedText)", at: position) }
            return .index(start)
        }
        advance()
        let stop = try optionalSliceBound()
        var step: Node?
        if current.kind == .symbol(.colon) {
            advance()
            step = try optionalSliceBound()
        }
        return .slice(start: start, stop: stop, step: step)
    }

    private mutating func optionalSliceBound() throws(LocatedError) -> Node? {
        switch current.kind {
        case .symbol(.colon), .symbol(.comma), .symbol(.rightBracket): nil
        default: try expression()
        }
    }

    // MARK: Tokens

    private var current: Token { tokens[index] }

    private mutating func advance() {
        if index < tokens.count - 1 { index += 1 }
    }

    private mutating func expect(_ symbol: Token.Symbol) throws(LocatedError) {
        guard current.kind == .symbol(symbol) else {
            let found = current.kind == .end ? "" : ", found \(current.quotedText)"
            throw LocatedError("expected '\(symbol.rawValue)'\(found)", at: current.position)
        }
        advance()
    }

    private func unexpected() -> LocatedError {
        LocatedError(current.kind == .end ? "unexpected end of expression" : "unexpected \(current.quotedText)",
                     at: current.position)
    }

    private func tooDeep(at position: Int) -> LocatedError {
        LocatedError("expression is nested too deeply (more than \(maximumDepth) levels)", at: position)
    }

    /// A node, refused when the tree under it grows deeper than the limit.
    private func node(_ kind: Node.Kind, at position: Int) throws(LocatedError) -> Node {
        let node = Node(kind, at: position)
        guard node.depth <= maximumDepth else { throw tooDeep(at: position) }
        return node
    }
}
