import Foundation
import Tensors

/// The functions of the expression language. Each is also a method: `x.f(a)` is `f(x, a)`.
enum Builtins {
    struct Parameter {
        let name: String
        let optional: Bool
    }

    private static func required(_ name: String) -> Parameter { Parameter(name: name, optional: false) }
    private static func optional(_ name: String) -> Parameter { Parameter(name: name, optional: true) }

    /// Parameters by function name, in positional order.
    static let signatures: [String: [Parameter]] = {
        var table: [String: [Parameter]] = [:]
        for name in ["norm", "mean", "sum", "max", "min", "std", "argmax", "argmin", "any", "all"] {
            table[name] = [required("x"), optional("axis")]
        }
        for name in ["abs", "sqrt", "exp", "log", "isnan", "isinf", "shape", "len"] {
            table[name] = [required("x")]
        }
        table["softmax"] = [required("x"), optional("axis")]
        table["topk"] = [required("x"), optional("k")]
        table["lens"] = [required("x"), optional("k")]
        table["dot"] = [required("a"), required("b")]
        table["cos"] = [required("a"), required("b")]
        table["token"] = [required("id")]
        table["tokens"] = [required("ids")]
        table["feature"] = [required("index"), optional("sae")]
        return table
    }()

    /// `norm(x, axis=…)`, for messages.
    static func usage(_ name: String) -> String {
        let parameters = signatures[name, default: []].map { $0.optional ? "\($0.name)=…" : $0.name }
        return "usage: \(name)(\(parameters.joined(separator: ", ")))"
    }

    /// How many rows `topk` and `lens` give when `k` is not said.
    static let defaultK = 10

    /// A call's arguments by parameter name, with where each was written.
    struct Arguments {
        let function: String
        let position: Int
        let values: [String: (value: ExpressionValue, position: Int)]

        func value(_ name: String) -> ExpressionValue? { values[name]?.value }

        func position(of name: String) -> Int { values[name]?.position ?? position }

        /// A tensor argument; numbers and bools count as rank-0 tensors.
        func tensor(_ name: String) throws(LocatedError) -> Tensor {
            let value = values[name]!.value
            guard let tensor = value.asTensor else {
                throw LocatedError("\(function) needs a tensor for '\(name)', not \(value.article)", at: position(of: name))
            }
            return tensor
        }

        /// A vector argument (rank 1).
        func vector(_ name: String) throws(LocatedError) -> Tensor {
            let tensor = try tensor(name)
            guard tensor.shape.count == 1 else {
                throw LocatedError("\(function) needs a vector for '\(name)', not \(values[name]!.value.article)",
                                   at: position(of: name), hint: tensor.shape.count > 1 ? "index a row first, e.g. x[-1]" : nil)
            }
            return tensor
        }

        /// An axis of a tensor of `rank`, normalised to 0..<rank; nil when not given.
        func axis(rank: Int, in evaluator: Evaluator) throws(LocatedError) -> Int? {
            guard let value = value("axis") else { return nil }
            let axis = try evaluator.integer(value, what: "axis", at: position(of: "axis"))
            guard axis >= -rank, axis < rank else {
                throw LocatedError("axis \(axis) is out of range for a tensor of rank \(rank)", at: position(of: "axis"))
            }
            return axis < 0 ? axis + rank : axis
        }

        /// A count `k` between 1 and `limit`.
        func k(limit: Int, in evaluator: Evaluator) throws(LocatedError) -> Int {
            guard let value = value("k") else { return min(Builtins.defaultK, limit) }
            let k = try evaluator.integer(value, what: "k", at: position(of: "k"))
            guard k >= 1, k <= limit else {
                throw LocatedError("k must be between 1 and \(limit), not \(k)", at: position(of: "k"))
            }
            return k
        }
    }

    static func apply(_ name: String, _ arguments: Arguments, in evaluator: Evaluator) throws(LocatedError) -> ExpressionValue {
        let position = arguments.position
        let budget = evaluator.budget
        switch name {
        case "norm", "mean", "sum", "max", "min", "std", "argmax", "argmin", "any", "all":
            let reduction = TensorMath.Reduction(rawValue: name)!
            let x = try arguments.tensor("x")
            let isLogical = reduction == .any || reduction == .all
            guard let axis = try arguments.axis(rank: x.shape.count, in: evaluator) else {
                let result = try evaluator.at(position) { () throws(OperationError) in
                    try TensorMath.reduceAll(x, reduction, budget: budget)
                }
                return isLogical ? .bool(result != 0) : .number(result)
            }
            let result = ExpressionValue.tensor(try evaluator.at(position) { () throws(OperationError) in
                try TensorMath.reduce(x, axis: axis, reduction, budget: budget)
            }).normalised
            if isLogical, case .number(let truth) = result { return .bool(truth != 0) }
            return result

        case "abs", "sqrt", "exp", "log":
            let x = arguments.value("x")!
            if let number = x.scalarNumber { return .number(unary(name, number)) }
            return try evaluator.elementwise(x, at: position, name) { Float(unary(name, Double($0))) }

        case "isnan", "isinf":
            let x = arguments.value("x")!
            let test: (Double) -> Bool = name == "isnan" ? { $0.isNaN } : { $0.isInfinite }
            if let number = x.scalarNumber { return .bool(test(number)) }
            return try evaluator.elementwise(x, at: position, name) { test(Double($0)) ? 1 : 0 }

        case "softmax":
            let x = try arguments.tensor("x")
            guard !x.shape.isEmpty else { return .number(1) }
            let axis = try arguments.axis(rank: x.shape.count, in: evaluator) ?? x.shape.count - 1
            return .tensor(try evaluator.at(position) { () throws(OperationError) in
                try TensorMath.softmax(x, axis: axis, budget: budget)
            })

        case "topk":
            let x = try arguments.vector("x")
            let k = try arguments.k(limit: x.count, in: evaluator)
            let best = try evaluator.at(position) { () throws(OperationError) in try TensorMath.topk(x, k: k, budget: budget) }
            let isVocabulary = x.count == evaluator.environment.vocabularySize
            return .tokens(best.map { entry in
                TokenScore(token: entry.index, piece: isVocabulary ? evaluator.environment.piece(entry.index) : nil,
                           score: Double(entry.value))
            })

        case "lens":
            let x = try arguments.vector("x")
            let k = try arguments.k(limit: Int.max, in: evaluator)
            try evaluator.at(position) { () throws(OperationError) in try budget.charge(x.count + k) }
            do {
                return .tokens(try evaluator.environment.lens(x, k: k))
            } catch {
                throw LocatedError("lens failed: \(error)", at: position)
            }

        case "feature":
            let index = try evaluator.integer(arguments.value("index")!, what: "feature index", at: arguments.position(of: "index"))
            var sae: Int?
            if let value = arguments.value("sae") {
                sae = try evaluator.integer(value, what: "SAE id", at: arguments.position(of: "sae"))
            }
            do {
                return .tensor(try evaluator.environment.feature(index, sae: sae))
            } catch {
                throw LocatedError("feature failed: \(error)", at: position)
            }

        case "dot":
            let a = try arguments.tensor("a"), b = try arguments.tensor("b")
            guard (1...2).contains(a.shape.count), (1...2).contains(b.shape.count) else {
                throw LocatedError("dot takes vectors and matrices, not \(a.shape) and \(b.shape)", at: position,
                                   hint: "use '@' for batches")
            }
            return ExpressionValue.tensor(try evaluator.at(position) { () throws(OperationError) in
                try TensorMath.matmul(a, b, budget: budget)
            }).normalised

        case "cos":
            return try cosineSimilarity(try arguments.tensor("a"), try arguments.tensor("b"), at: position, in: evaluator)

        case "shape":
            return try evaluator.shape(of: arguments.value("x")!, at: position)

        case "len":
            switch arguments.value("x")! {
            case .tensor(let tensor) where !tensor.shape.isEmpty: return .number(Double(tensor.shape[0]))
            case .tokens(let rows): return .number(Double(rows.count))
            case .string(let text): return .number(Double(text.count))
            case let other: throw LocatedError("len needs a tensor, table or string, not \(other.article)", at: position)
            }

        case "token":
            let id = try evaluator.integer(arguments.value("id")!, what: "token id", at: arguments.position(of: "id"))
            guard let piece = evaluator.environment.piece(id) else {
                throw LocatedError("token \(id) is outside the vocabulary", at: arguments.position(of: "id"))
            }
            return .string(piece)

        case "tokens":
            let ids: [Float]
            switch arguments.value("ids")! {
            case .tokens(let rows): ids = rows.map { Float($0.token) }
            default: ids = try arguments.tensor("ids").data
            }
            var text = ""
            for id in ids {
                let whole = try evaluator.integer(.number(Double(id)), what: "token id", at: arguments.position(of: "ids"))
                guard let piece = evaluator.environment.piece(whole) else {
                    throw LocatedError("token \(whole) is outside the vocabulary", at: arguments.position(of: "ids"))
                }
                text += piece
            }
            return .string(text)

        default:
            preconditionFailure("no implementation for builtin '\(name)'")
        }
    }

    private static func unary(_ name: String, _ x: Double) -> Double {
        switch name {
        case "abs": Swift.abs(x)
        case "sqrt": x.squareRoot()
        case "exp": Foundation.exp(x)
        default: Foundation.log(x)
        }
    }

    /// Cosine similarity along the last axis, broadcasting the others: `cos(resid, v)` for resid [T, d], v [d] is [T].
    private static func cosineSimilarity(_ a: Tensor, _ b: Tensor, at position: Int,
                                         in evaluator: Evaluator) throws(LocatedError) -> ExpressionValue {
        guard let lengthA = a.shape.last, let lengthB = b.shape.last, lengthA == lengthB else {
            throw LocatedError("cos needs vectors of the same length, not shapes \(a.shape) and \(b.shape)", at: position)
        }
        let budget = evaluator.budget
        return ExpressionValue.tensor(try evaluator.at(position) { () throws(OperationError) in
            let last = a.shape.count - 1, lastB = b.shape.count - 1
            let products = try TensorMath.combine(a, b, budget: budget, *)
            let dots = try TensorMath.reduce(products, axis: products.shape.count - 1, .sum, budget: budget)
            let normsA = try TensorMath.reduce(a, axis: last, .norm, budget: budget)
            let normsB = try TensorMath.reduce(b, axis: lastB, .norm, budget: budget)
            let denominators = try TensorMath.combine(normsA, normsB, budget: budget, *)
            return try TensorMath.combine(dots, denominators, budget: budget, /)
        }).normalised
    }
}
