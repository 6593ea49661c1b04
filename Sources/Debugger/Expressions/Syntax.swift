/// A node of the syntax tree, with the character offset its errors point at
/// (an operator's own position for operations, the start for everything else).
struct Node: Sendable {
    indirect enum Kind: Sendable {
        case number(Double)
        case string(String)
        case bool(Bool)
        /// A name the environment resolves, dotted or not: `x`, `blocks.3.hook_resid_post`.
        case variable(String)
        /// A fixed member of a value: `x.shape`, `x.T`, `table.values`.
        case property(Node, String)
        /// `name(arguments)`; a method call `x.name(a)` is the call `name(x, a)` with `isMethod` set.
        case call(String, [Argument], isMethod: Bool)
        case index(Node, [Subscript])
        case unary(UnaryOperator, Node)
        case binary(BinaryOperator, Node, Node)
        /// `a < b <= c`: each comparison with its operand and the operator's position.
        case comparison(Node, [(ComparisonOperator, Node, Int)])
        case and(Node, Node)
        case or(Node, Node)
    }

    let kind: Kind
    let position: Int
    /// Height of the tree below and including this node.
    let depth: Int

    init(_ kind: Kind, at position: Int) {
        self.kind = kind
        self.position = position
        self.depth = 1 + (Node.children(of: kind).map(\.depth).max() ?? 0)
    }

    static func children(of kind: Kind) -> [Node] {
        switch kind {
        case .number, .string, .bool, .variable: []
        case .property(let base, _): [base]
        case .call(_, let arguments, _): arguments.map(\.value)
        case .index(let base, let subscripts): [base] + subscripts.flatMap(\.nodes)
        case .unary(_, let operand): [operand]
        case .binary(_, let left, let right), .and(let left, let right), .or(let left, let right): [left, right]
        case .comparison(let first, let rest): [first] + rest.map(\.1)
        }
    }

    var children: [Node] { Node.children(of: kind) }
}

/// The members `x.name` that are not method calls. A dotted name's trailing segments that are
/// properties are members; the rest is the variable: `blocks.3.hook_resid_post.shape`.
enum Property: String, CaseIterable {
    /// The dimensions as a vector; a table's row count.
    case shape
    /// The rank.
    case ndim
    /// The element count.
    case size
    /// The axes reversed.
    case T
    /// A table's scores as a vector.
    case values
    /// A table's token ids (or ranked indices) as a vector.
    case indices
}

/// A call argument, positional or `label=value`.
struct Argument: Sendable {
    let label: String?
    let value: Node
    let position: Int
}

/// One entry of `x[...]`.
enum Subscript: Sendable {
    case index(Node)
    case slice(start: Node?, stop: Node?, step: Node?)
    case ellipsis

    var nodes: [Node] {
        switch self {
        case .index(let node): [node]
        case .slice(let start, let stop, let step): [start, stop, step].compactMap { $0 }
        case .ellipsis: []
        }
    }
}

enum UnaryOperator: String, Sendable {
    case negate = "-", plus = "+", not
}

enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%", power = "**", matmul = "@"
}

enum ComparisonOperator: String, Sendable {
    case less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">=", equal = "==", notEqual = "!="
}
