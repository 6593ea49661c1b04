import Testing
@testable import Debugger

/// The tree as a fully parenthesised string, to check precedence and associativity.
private func render(_ node: Node) -> String {
    switch node.kind {
    case .number(let value): return formatNumber(value)
    case .string(let text): return quoted(text)
    case .bool(let value): return String(value)
    case .variable(let name): return name
    case .property(let base, let name): return "\(render(base)).\(name)"
    case .call(let name, let arguments, let isMethod):
        let rendered = arguments.map { ($0.label.map { "\($0)=" } ?? "") + render($0.value) }
        return (isMethod ? "method " : "") + "\(name)(\(rendered.joined(separator: ", ")))"
    case .index(let base, let subscripts):
        let rendered = subscripts.map { entry -> String in
            switch entry {
            case .index(let node): return render(node)
            case .ellipsis: return "..."
            case .slice(let start, let stop, let step):
                return [start, stop, step].map { $0.map(render) ?? "_" }.joined(separator: ":")
            }
        }
        return "\(render(base))[\(rendered.joined(separator: ", "))]"
    case .unary(let op, let operand): return "(\(op.rawValue) \(render(operand)))"
    case .binary(let op, let left, let right): return "(\(render(left)) \(op.rawValue) \(render(right)))"
    case .comparison(let first, let rest):
        return "(" + render(first) + rest.map { " \($0.0.rawValue) \(render($0.1))" }.joined() + ")"
    case .and(let left, let right): return "(\(render(left)) and \(render(right)))"
    case .or(let left, let right): return "(\(render(left)) or \(render(right)))"
    }
}

private func parsed(_ source: String) throws -> String {
    try render(Parser.parse(source, maximumDepth: 64))
}

struct ExpressionParserTests {
    @Test(arguments: [
        ("1 + 2 * 3", "(1 + (2 * 3))"),
        ("1 - 2 - 3", "((1 - 2) - 3)"),
        ("2 ** 3 ** 2", "(2 ** (3 ** 2))"),
        ("-2 ** 2", "(- (2 ** 2))"),
        ("2 ** -1", "(2 ** (- 1))"),
        ("-a * b", "((- a) * b)"),
        ("a @ b + c", "((a @ b) + c)"),
        ("a % b / c", "((a % b) / c)"),
        ("(1 + 2) * 3", "((1 + 2) * 3)"),
        ("a < b + 1", "(a < (b + 1))"),
        ("0 < x <= 1", "(0 < x <= 1)"),
        ("not a and b or c", "(((not a) and b) or c)"),
        ("a or b and c", "(a or (b and c))"),
        ("not a == b", "(not (a == b))"),
        ("not not a", "(not (not a))"),
        ("x.norm() > 100 and layer >= 10", "((method norm(x) > 100) and (layer >= 10))"),
        ("blocks.3.hook_resid_post", "blocks.3.hook_resid_post"),
        ("blocks.3.hook_resid_post[-1].norm()", "method norm(blocks.3.hook_resid_post[(- 1)])"),
        ("blocks.3.attn.hook_pattern.shape", "blocks.3.attn.hook_pattern.shape"),
        ("x.T.norm(axis=0)", "method norm(x.T, axis=0)"),
        ("(a + b).max()", "method max((a + b))"),
        ("x[0].T.shape", "x[0].T.shape"),
        ("x . norm ( )", "method norm(x)"),
        ("topk(x[-1], k=5).values", "topk(x[(- 1)], k=5).values"),
        ("pattern[3, -1, :]", "pattern[3, (- 1), _:_:_]"),
        ("x[:, 2:10:2]", "x[_:_:_, 2:10:2]"),
        ("x[::-1, ...]", "x[_:_:(- 1), ...]"),
        ("x[1:]", "x[1:_:_]"),
        ("x[1,]", "x[1]"),
        ("f(1, 2,)", "f(1, 2)"),
        ("1.5e3 + .5 + 2.", "((1500 + 0.5) + 2)"),
        ("'a\\'b' == \"c\"", "('a\\'b' == 'c')"),
        ("true or False", "(true or false)"),
    ])
    func precedence(source: String, expected: String) throws {
        #expect(try parsed(source) == expected)
    }

    @Test func identifiersNameTheVariablesRead() throws {
        #expect(try Expression("x.norm() > 100 and layer >= 10").identifiers == ["x", "layer"])
        #expect(try Expression("blocks.3.hook_resid_post.shape[0]").identifiers == ["blocks.3.hook_resid_post"])
        #expect(try Expression("cos(blocks.3.hook_resid_post[-1], blocks.4.hook_resid_post[-1])").identifiers
            == ["blocks.3.hook_resid_post", "blocks.4.hook_resid_post"])
        #expect(try Expression("norm(1) + true").identifiers.isEmpty)
    }

    @Test(arguments: [
        ("pattern[3, -1", 13, "expected ']' at column 14"),
        ("x[1 2]", 4, "expected ']', found '2' at column 5"),
        ("(1 + 2", 6, "expected ')' at column 7"),
        ("1 +", 3, "unexpected end of expression at column 4"),
        ("", 0, "unexpected end of expression at column 1"),
        ("1 + 2)", 5, "unexpected ')' at column 6"),
        ("x y", 2, "unexpected 'y' at column 3"),
        ("x[]", 2, "expected an index, found ']' at column 3"),
        ("'abc", 0, "unterminated string at column 1"),
        ("'a\\qb'", 2, "unknown escape '\\q' in string at column 3"),
        ("a && b", 2, "'&&' is not an operator at column 3; use 'and'"),
        ("a ! b", 2, "'!' is not an operator at column 3; use 'not' or '!='"),
        ("2 ^ 3", 2, "'^' is not an operator at column 3; use '**' for powers"),
        ("x $ 1", 2, "unexpected character '$' at column 3"),
        ("1 + not x", 4, "'not' must be in parentheses here at column 5"),
        ("and x", 0, "expected an expression before 'and' at column 1"),
        ("norm(x, axis=0, 1)", 16, "positional argument after a keyword argument at column 17"),
        ("(x)(1)", 3, "only functions can be called at column 4"),
        ("x.", 2, "expected a name after '.', found end of expression at column 3"),
        ("x[0].", 5, "expected a name after '.', found end of expression at column 6"),
    ])
    func syntaxErrorsCarryTheirPosition(source: String, position: Int, message: String) {
        let error = failure(source)
        #expect(error?.position == position)
        #expect(error?.message == message)
    }

    @Test func errorRendersACaretUnderItsPosition() {
        let error = failure("norm(x[0] + , 1)")
        #expect(error?.description == """
            unexpected ',' at column 13
              norm(x[0] + , 1)
                          ^
            """)
    }
}
