import Foundation
import Tensors

/// Walks a syntax tree once, in an environment, within a budget.
final class Evaluator {
    let environment: any ExpressionEnvironment
    let budget: Budget
    /// Variables already looked up in this evaluation.
    private var variables: [String: ExpressionValue] = [:]
    private let stack = StackGuard()

    init(environment: any ExpressionEnvironment, limits: ExpressionLimits) {
        self.environment = environment
        self.budget = Budget(limits)
    }

    /// Runs a tensor operation, locating its failure at `position`.
    func at<Result>(_ position: Int, _ operation: () throws(OperationError) -> Result) throws(LocatedError) -> Result {
        do {
            return try operation()
        } catch {
            throw LocatedError(error.reason, at: position, hint: error.hint)
        }
    }

    func evaluate(_ node: Node) throws(LocatedError) -> ExpressionValue {
        try at(node.position) { () throws(OperationError) in try budget.charge(1) }
        guard !stack.isExhausted else { throw LocatedError(StackGuard.exhausted, at: node.position) }
        switch node.kind {
        case .number(let value): return .number(value)
        case .string(let text): return .string(text)
        case .bool(let value): return .bool(value)
        case .variable(let name): return try variable(name, at: node.position)
        case .property(let base, let name): return try property(name, of: try evaluate(base), at: node.position)
        case .call(let name, let arguments, let isMethod):
            return try call(name, arguments, isMethod: isMethod, at: node.position)
        case .index(let base, let subscripts):
            return try index(try evaluate(base), subscripts, at: node.position)
        case .unary(let op, let operand): return try unary(op, try evaluate(operand), at: node.position)
        case .binary(let op, let left, let right):
            return try binary(op, try evaluate(left), try evaluate(right), at: node.position)
        case .comparison(let first, let rest):
            var left = try evaluate(first)
            var result: ExpressionValue?
            for (op, node, position) in rest {
                let right = try evaluate(node)
                let step = try compare(op, left, right, at: position)
                if let earlier = result {
                    result = try both(earlier, step, at: position)
                } else {
                    result = step
                }
                left = right
            }
            return result ?? left
        case .and(let left, let right):
            let first = try evaluate(left)
            if let truth = first.scalarTruth, !truth { return .bool(false) }
            return try both(first, try evaluate(right), at: node.position)
        case .or(let left, let right):
            let first = try evaluate(left)
            if let truth = first.scalarTruth, truth { return .bool(true) }
            return try either(first, try evaluate(right), at: node.position)
        }
    }

    // MARK: Names

    private func variable(_ name: String, at position: Int) throws(LocatedError) -> ExpressionValue {
        if let value = variables[name] { return value }
        let found: ExpressionValue?
        do {
            found = try environment.lookup(name)
        } catch {
            throw LocatedError("cannot read '\(name)': \(error)", at: position)
        }
        guard let found else { throw unknownVariable(name, at: position) }
        let value = found.normalised
        variables[name] = value
        return value
    }

    /// "unknown variable", with the likeliest intended meaning as a hint.
    private func unknownVariable(_ name: String, at position: Int) -> LocatedError {
        let segments = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if segments.count > 1, let last = segments.last, Builtins.signatures[last] != nil {
            return LocatedError("unknown variable '\(name)'", at: position,
                                hint: "did you mean '\(name)()'?")
        }
        for end in stride(from: segments.count - 1, to: 0, by: -1) {
            let prefix = segments[..<end].joined(separator: ".")
            if (try? environment.lookup(prefix)) != nil {
                let member = segments[end]
                let properties = Property.allCases.map(\.rawValue)
                return LocatedError("'\(prefix)' has no property '\(member)'", at: position,
                                    hint: suggestion(for: member, among: properties)
                                        ?? "properties are \(properties.joined(separator: ", "))")
            }
        }
        return LocatedError("unknown variable '\(name)'", at: position,
                            hint: suggestion(for: name, among: environment.variableNames))
    }

    private func property(_ name: String, of value: ExpressionValue, at position: Int) throws(LocatedError) -> ExpressionValue {
        guard let property = Property(rawValue: name) else {
            let properties = Property.allCases.map(\.rawValue)
            throw LocatedError("unknown property '\(name)'", at: position,
                               hint: Builtins.signatures[name] != nil
                                   ? "did you mean '\(name)()'?" : suggestion(for: name, among: properties))
        }
        switch (property, value) {
        case (.shape, _): return try shape(of: value, at: position)
        case (.ndim, .tensor(let tensor)): return .number(Double(tensor.shape.count))
        case (.ndim, .number), (.ndim, .bool): return .number(0)
        case (.size, .tensor(let tensor)): return .number(Double(tensor.count))
        case (.size, .number), (.size, .bool): return .number(1)
        case (.T, .tensor(let tensor)): return .tensor(try at(position) { () throws(OperationError) in
            try TensorMath.transpose(tensor, budget: budget)
        })
        case (.T, .number), (.T, .bool): return value
        case (.values, .tokens(let rows)): return .tensor(Tensor(shape: [rows.count], data: rows.map { Float($0.score) }))
        case (.indices, .tokens(let rows)): return .tensor(Tensor(shape: [rows.count], data: rows.map { Float($0.token) }))
        default: throw LocatedError("\(value.article) has no property '\(name)'", at: position)
        }
    }

    func shape(of value: ExpressionValue, at position: Int) throws(LocatedError) -> ExpressionValue {
        switch value {
        case .tensor(let tensor): .tensor(Tensor(shape: [tensor.shape.count], data: tensor.shape.map(Float.init)))
        case .number, .bool: .tensor(Tensor(shape: [0], data: []))
        case .tokens(let rows): .tensor(Tensor(shape: [1], data: [Float(rows.count)]))
        case .string: throw LocatedError("a string has no shape", at: position)
        }
    }

    // MARK: Calls

    private func call(_ name: String, _ arguments: [Argument], isMethod: Bool,
                      at position: Int) throws(LocatedError) -> ExpressionValue {
        guard let parameters = Builtins.signatures[name] else {
            throw LocatedError("unknown \(isMethod ? "method" : "function") '\(name)'", at: position,
                               hint: suggestion(for: name, among: Builtins.signatures.keys.sorted()))
        }
        var bound: [String: (value: ExpressionValue, position: Int)] = [:]
        for (offset, argument) in arguments.enumerated() {
            let parameter: Builtins.Parameter
            if let label = argument.label {
                guard let named = parameters.first(where: { $0.name == label }) else {
                    throw LocatedError("\(name) has no parameter '\(label)'", at: argument.position,
                                       hint: suggestion(for: label, among: parameters.map(\.name)))
                }
                parameter = named
            } else {
                guard offset < parameters.count else {
                    throw LocatedError("\(name) takes at most \(parameters.count) argument\(parameters.count == 1 ? "" : "s")",
                                       at: argument.position, hint: Builtins.usage(name))
                }
                parameter = parameters[offset]
            }
            guard bound[parameter.name] == nil else {
                throw LocatedError("\(name) got '\(parameter.name)' twice", at: argument.position)
            }
            bound[parameter.name] = (try evaluate(argument.value), argument.position)
        }
        if let missing = parameters.first(where: { !$0.optional && bound[$0.name] == nil }) {
            throw LocatedError("\(name) needs '\(missing.name)'", at: position, hint: Builtins.usage(name))
        }
        return try Builtins.apply(name, Builtins.Arguments(function: name, position: position, values: bound), in: self)
    }

    // MARK: Subscripts

    private func index(_ base: ExpressionValue, _ subscripts: [Subscript],
                       at position: Int) throws(LocatedError) -> ExpressionValue {
        switch base {
        case .tensor(let tensor):
            return try index(tensor, subscripts, at: position)
        case .tokens(let rows):
            guard subscripts.count == 1 else { throw LocatedError("a token table has one axis", at: position) }
            let indexed = try index(Tensor(shape: [rows.count], data: rows.indices.map(Float.init)), subscripts, at: position)
            switch indexed {
            case .number(let row): return .tokens([rows[Int(row)]])
            case .tensor(let picked): return .tokens(picked.data.map { rows[Int($0)] })
            default: return indexed
            }
        default:
            throw LocatedError("\(base.article) cannot be indexed", at: position)
        }
    }

    /// numpy basic indexing: integers drop an axis, slices keep it, `...` stands for the axes not named.
    private func index(_ tensor: Tensor, _ subscripts: [Subscript], at position: Int) throws(LocatedError) -> ExpressionValue {
        let named = subscripts.filter { if case .ellipsis = $0 { false } else { true } }.count
        let ellipses = subscripts.count - named
        guard ellipses <= 1 else { throw LocatedError("an index can hold only one '...'", at: position) }
        guard named <= tensor.shape.count else {
            throw LocatedError("too many indices: \(named) for a tensor of rank \(tensor.shape.count)", at: position)
        }
        let strides = TensorMath.strides(of: tensor.shape)
        var offset = 0, shape: [Int] = [], viewStrides: [Int] = [], axis = 0
        func keep(_ count: Int) {
            for _ in 0..<count {
                shape.append(tensor.shape[axis])
                viewStrides.append(strides[axis])
                axis += 1
            }
        }
        for entry in subscripts {
            let size = axis < tensor.shape.count ? tensor.shape[axis] : 0
            switch entry {
            case .ellipsis:
                keep(tensor.shape.count - named)
            case .index(let node):
                var i = try integer(try evaluate(node), what: "index", at: node.position)
                guard i >= -size, i < size else {
                    throw LocatedError("index \(i) is out of range for axis \(axis) with size \(size)", at: node.position)
                }
                if i < 0 { i += size }
                offset += i * strides[axis]
                axis += 1
            case .slice(let startNode, let stopNode, let stepNode):
                let step = try stepNode.map { (node) throws(LocatedError) in
                    try integer(try evaluate(node), what: "slice step", at: node.position)
                } ?? 1
                guard step != 0 else { throw LocatedError("slice step cannot be zero", at: stepNode!.position) }
                let start = try startNode.map { (node) throws(LocatedError) in
                    try integer(try evaluate(node), what: "slice start", at: node.position)
                }
                let stop = try stopNode.map { (node) throws(LocatedError) in
                    try integer(try evaluate(node), what: "slice stop", at: node.position)
                }
                let (first, count) = Self.sliceIndices(start: start, stop: stop, step: step, size: size)
                offset += first * strides[axis]
                shape.append(count)
                // A step may be huge when it takes one element; the stride then never moves.
                viewStrides.append(count > 1 ? strides[axis] * step : 0)
                axis += 1
            }
        }
        keep(tensor.shape.count - axis)
        if shape.isEmpty { return .number(Double(tensor.data[offset])) }
        return .tensor(try at(position) { () throws(OperationError) in
            try TensorMath.gather(tensor, offset: offset, shape: shape, strides: viewStrides, budget: budget)
        })
    }

    /// Python's `slice.indices`: the first index and the element count of `start:stop:step` over `size`.
    static func sliceIndices(start: Int?, stop: Int?, step: Int, size: Int) -> (first: Int, count: Int) {
        func clamp(_ bound: Int?, default fallback: Int, lower: Int, upper: Int) -> Int {
            guard var bound else { return fallback }
            if bound < 0 { bound += size }
            return min(max(bound, lower), upper)
        }
        if step > 0 {
            let first = clamp(start, default: 0, lower: 0, upper: size)
            let end = clamp(stop, default: size, lower: 0, upper: size)
            return (first, end > first ? (end - first + step - 1) / step : 0)
        }
        let first = clamp(start, default: size - 1, lower: -1, upper: size - 1)
        let end = clamp(stop, default: -1, lower: -1, upper: size - 1)
        return (max(first, 0), first > end ? (first - end - step - 1) / -step : 0)
    }

    /// A whole number from a value, for indices, axes and counts.
    func integer(_ value: ExpressionValue, what: String, at position: Int) throws(LocatedError) -> Int {
        guard case .number(let number) = value.normalised else {
            throw LocatedError("\(what) must be an integer, not \(value.article)", at: position)
        }
        guard number.rounded() == number, abs(number) < 1e15 else {
            throw LocatedError("\(what) must be an integer, not \(formatNumber(number))", at: position)
        }
        return Int(number)
    }

    // MARK: Operators

    private func unary(_ op: UnaryOperator, _ operand: ExpressionValue, at position: Int) throws(LocatedError) -> ExpressionValue {
        switch (op, operand) {
        case (.not, _):
            if let truth = operand.scalarTruth { return .bool(!truth) }
            return try elementwise(operand, at: position, "'not'") { $0 == 0 ? 1 : 0 }
        case (.negate, .number(let x)): return .number(-x)
        case (.negate, .bool(let x)): return .number(x ? -1 : 0)
        case (.negate, _): return try elementwise(operand, at: position, "'-'") { -$0 }
        case (.plus, .number), (.plus, .tensor): return operand
        case (.plus, .bool(let x)): return .number(x ? 1 : 0)
        case (.plus, _): throw LocatedError("'+' cannot apply to \(operand.article)", at: position)
        }
    }

    /// `transform` over each element of a tensor (numbers are rank-0 tensors).
    func elementwise(_ operand: ExpressionValue, at position: Int, _ what: String,
                     _ transform: (Float) -> Float) throws(LocatedError) -> ExpressionValue {
        guard let tensor = operand.asTensor else {
            throw LocatedError("\(what) cannot apply to \(operand.article)", at: position)
        }
        return ExpressionValue.tensor(try at(position) { () throws(OperationError) in
            try TensorMath.map(tensor, budget: budget, transform)
        }).normalised
    }

    /// `combine` over the broadcast of two operands, each a tensor, number or bool.
    func broadcasting(_ left: ExpressionValue, _ right: ExpressionValue, at position: Int, _ what: String,
                      _ combine: (Float, Float) -> Float) throws(LocatedError) -> ExpressionValue {
        guard let a = left.asTensor, let b = right.asTensor else {
            throw LocatedError("\(what) cannot combine \(left.article) and \(right.article)", at: position)
        }
        return ExpressionValue.tensor(try at(position) { () throws(OperationError) in
            try TensorMath.combine(a, b, budget: budget, combine)
        }).normalised
    }

    private func binary(_ op: BinaryOperator, _ left: ExpressionValue, _ right: ExpressionValue,
                        at position: Int) throws(LocatedError) -> ExpressionValue {
        let what = "'\(op.rawValue)'"
        if op == .matmul {
            guard case .tensor(let a) = left, case .tensor(let b) = right else {
                throw LocatedError("\(what) needs two tensors, not \(left.article) and \(right.article)", at: position,
                                   hint: "use '*' to scale")
            }
            return ExpressionValue.tensor(try at(position) { () throws(OperationError) in
                try TensorMath.matmul(a, b, budget: budget)
            }).normalised
        }
        if let x = left.scalarNumber, let y = right.scalarNumber {
            return .number(Self.arithmetic(op, x, y))
        }
        return try broadcasting(left, right, at: position, what) { Float(Self.arithmetic(op, Double($0), Double($1))) }
    }

    /// One arithmetic operation, with numpy's conventions (IEEE division, floored modulo).
    static func arithmetic(_ op: BinaryOperator, _ x: Double, _ y: Double) -> Double {
        switch op {
        case .add: x + y
        case .subtract: x - y
        case .multiply: x * y
        case .divide: x / y
        case .power: pow(x, y)
        case .modulo: modulo(x, y)
        case .matmul: x * y
        }
    }

    private static func modulo(_ x: Double, _ y: Double) -> Double {
        let remainder = x.truncatingRemainder(dividingBy: y)
        return remainder != 0 && (remainder < 0) != (y < 0) ? remainder + y : remainder
    }

    private func compare(_ op: ComparisonOperator, _ left: ExpressionValue, _ right: ExpressionValue,
                         at position: Int) throws(LocatedError) -> ExpressionValue {
        if case .string(let a) = left, case .string(let b) = right {
            switch op {
            case .equal: return .bool(a == b)
            case .notEqual: return .bool(a != b)
            default: throw LocatedError("strings can only be compared with '==' and '!='", at: position)
            }
        }
        if case .string = left, op == .equal || op == .notEqual, right.scalarNumber != nil { return .bool(op == .notEqual) }
        if case .string = right, op == .equal || op == .notEqual, left.scalarNumber != nil { return .bool(op == .notEqual) }
        if let x = left.scalarNumber, let y = right.scalarNumber { return .bool(Self.holds(op, x, y)) }
        return try broadcasting(left, right, at: position, "'\(op.rawValue)'") {
            Self.holds(op, Double($0), Double($1)) ? 1 : 0
        }
    }

    private static func holds(_ op: ComparisonOperator, _ x: Double, _ y: Double) -> Bool {
        switch op {
        case .less: x < y
        case .lessEqual: x <= y
        case .greater: x > y
        case .greaterEqual: x >= y
        case .equal: x == y
        case .notEqual: x != y
        }
    }

    /// `and` once the left operand did not decide: a bool for scalars, 0/1 elementwise for tensors.
    private func both(_ left: ExpressionValue, _ right: ExpressionValue, at position: Int) throws(LocatedError) -> ExpressionValue {
        if let a = left.scalarTruth, let b = right.scalarTruth { return .bool(a && b) }
        return try broadcasting(left, right, at: position, "'and'") { $0 != 0 && $1 != 0 ? 1 : 0 }
    }

    /// `or` once the left operand did not decide: a bool for scalars, 0/1 elementwise for tensors.
    private func either(_ left: ExpressionValue, _ right: ExpressionValue, at position: Int) throws(LocatedError) -> ExpressionValue {
        if let a = left.scalarTruth, let b = right.scalarTruth { return .bool(a || b) }
        return try broadcasting(left, right, at: position, "'or'") { $0 != 0 || $1 != 0 ? 1 : 0 }
    }
}

extension ExpressionValue {
    /// A rank-0 tensor becomes a number; everything else stays as it is.
    var normalised: ExpressionValue {
        if case .tensor(let tensor) = self, tensor.shape.isEmpty { return .number(Double(tensor.data[0])) }
        return self
    }

    /// The value of a number or bool.
    var scalarNumber: Double? {
        switch self {
        case .number(let x): x
        case .bool(let x): x ? 1 : 0
        default: nil
        }
    }

    /// A tensor, or a number or bool as a rank-0 tensor.
    var asTensor: Tensor? {
        if case .tensor(let tensor) = self { return tensor }
        return scalarNumber.map { Tensor(shape: [], data: [Float($0)]) }
    }

    /// Python's truth of a scalar (a non-zero number, a non-empty string); nil for tensors and tables.
    var scalarTruth: Bool? {
        switch self {
        case .number(let x): x != 0
        case .bool(let x): x
        case .string(let text): !text.isEmpty
        case .tensor, .tokens: nil
        }
    }

    /// "a tensor", "a number", … for messages.
    var article: String {
        switch self {
        case .number: "a number"
        case .bool: "a bool"
        case .string: "a string"
        case .tensor(let tensor): "a tensor of shape \(tensor.shape)"
        case .tokens: "a token table"
        }
    }
}
