/// A parsed expression of lmdbg's safe expression language, evaluated over a stop's activations.
///
/// The language has no I/O, no loops and no assignment; evaluation is bounded by `ExpressionLimits`.
/// docs/expressions.md describes it for users.
///
/// Grammar (EBNF; lowest precedence first, `**` is right-associative, the rest left; comparisons chain
/// as in Python, `a < b < c` meaning `a < b and b < c`):
///
///     expression  = or ;
///     or          = and { "or" and } ;
///     and         = not { "and" not } ;
///     not         = "not" not | comparison ;
///     comparison  = sum { ( "<" | "<=" | ">" | ">=" | "==" | "!=" ) sum } ;
///     sum         = product { ( "+" | "-" ) product } ;
///     product     = unary { ( "*" | "/" | "%" | "@" ) unary } ;
///     unary       = ( "-" | "+" ) unary | power ;
///     power       = postfix [ "**" unary ] ;
///     postfix     = primary { "[" subscripts "]" | "." member | "." member "(" arguments ")" } ;
///     primary     = number | string | name | name "(" arguments ")" | "(" expression ")" ;
///     subscripts  = subscript { "," subscript } [ "," ] ;
///     subscript   = "..." | expression | [ expression ] ":" [ expression ] [ ":" [ expression ] ] ;
///     arguments   = [ argument { "," argument } [ "," ] ] ;
///     argument    = [ word "=" ] expression ;
///     name        = word { "." ( word | digits ) } ;      (one token: no spaces around the dots)
///     word        = ( letter | "_" ) { letter | digit | "_" } ;
///     number      = digits [ "." [ digits ] ] [ exponent ] | "." digits [ exponent ] ;
///     string      = "'" { character } "'" | '"' { character } '"' ;
///
/// A dotted `name` is a variable followed by its trailing properties (`shape`, `ndim`, `size`, `T`, `values`,
/// `indices`): `blocks.3.hook_resid_post` is one variable, `blocks.3.hook_resid_post.shape` its shape. A name
/// followed by `(` is a call; when dotted, its last segment is a method on the rest: `x.norm()` is `norm(x)`.
/// The words `and`, `or`, `not`, `true`, `false`, `nan` and `inf` are reserved.
public struct Expression: Sendable {
    /// The text the expression was parsed from.
    public let source: String
    /// The limits it was parsed under and is evaluated under.
    public let limits: ExpressionLimits
    /// The variables it reads, e.g. `["x", "layer"]` for `x.norm() > 100 and layer >= 10`.
    public let identifiers: Set<String>
    private let root: Node

    /// Parses `source`; the error locates the first problem.
    public init(_ source: String, limits: ExpressionLimits = .default) throws(ExpressionError) {
        self.source = source
        self.limits = limits
        let length = source.count
        guard length <= limits.maximumLength else {
            throw ExpressionError("expression is too long (\(length) characters; the limit is \(limits.maximumLength))",
                                  at: limits.maximumLength, in: source)
        }
        do {
            root = try Parser.parse(source, maximumDepth: limits.maximumDepth)
        } catch {
            throw error.attached(to: source)
        }
        identifiers = Self.variables(in: root)
    }

    /// Evaluates the expression; the error locates the operation that failed.
    public func evaluate(in environment: any ExpressionEnvironment) throws(ExpressionError) -> ExpressionValue {
        do {
            return try Evaluator(environment: environment, limits: limits).evaluate(root)
        } catch {
            throw error.attached(to: source)
        }
    }

    /// Evaluates the expression as a breakpoint condition: a bool, a number (true unless 0), or a tensor
    /// with one element. A larger tensor is an error that suggests `any()` or `all()`.
    public func evaluateCondition(in environment: any ExpressionEnvironment) throws(ExpressionError) -> Bool {
        let value = try evaluate(in: environment)
        if let truth = value.scalarTruth { return truth }
        if case .tensor(let tensor) = value, tensor.count == 1 { return tensor.data[0] != 0 }
        throw ExpressionError("a condition needs a single truth value, not \(value.article)", at: 0, in: source,
                              hint: "use any(…) or all(…)")
    }

    private static func variables(in node: Node) -> Set<String> {
        if case .variable(let name) = node.kind { return [name] }
        return node.children.reduce(into: []) { $0.formUnion(variables(in: $1)) }
    }
}
