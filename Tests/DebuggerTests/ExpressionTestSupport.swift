import Foundation
import Tensors
@testable import Debugger

/// Variables from a dictionary, and a tiny vocabulary with a lens that unembeds through a fixed matrix.
struct FakeEnvironment: ExpressionEnvironment {
    var variables: [String: ExpressionValue] = [:]
    /// The vocabulary: token i has piece `pieces[i]`.
    var pieces = [" Paris", " the", " London", ",", " France", " a", "\n", " is"]
    /// [vocabulary, d_model]: the lens scores a vector by `unembedding @ vector`, then softmax.
    var unembedding = Tensor(shape: [8, 2], data: [1, 0, 0.5, 0.5, 0, 1, -1, 0, 0.8, 0.1, 0, 0, 0.1, -1, -0.5, 0.3])

    init(_ variables: [String: ExpressionValue] = [:]) {
        self.variables = variables
    }

    func lookup(_ name: String) throws -> ExpressionValue? { variables[name] }

    var variableNames: [String] { Array(variables.keys) }

    var vocabularySize: Int? { pieces.count }

    func piece(_ token: Int) -> String? { pieces.indices.contains(token) ? pieces[token] : nil }

    struct LensError: Error, CustomStringConvertible {
        var description: String
    }

    func lens(_ vector: Tensor, k: Int) throws -> [TokenScore] {
        let d = unembedding.shape[1]
        guard vector.count == d else { throw LensError(description: "expected a vector of \(d), got \(vector.count)") }
        let logits = (0..<pieces.count).map { row in
            (0..<d).reduce(0.0) { $0 + Double(unembedding.data[row * d + $1]) * Double(vector.data[$1]) }
        }
        let maximum = logits.max()!
        let total = logits.reduce(0) { $0 + exp($1 - maximum) }
        return logits.indices
            .map { TokenScore(token: $0, piece: pieces[$0], score: exp(logits[$0] - maximum) / total) }
            .sorted { $0.score > $1.score }
            .prefix(k)
            .map { $0 }
    }
}

extension Tensor {
    /// A tensor of `shape` holding 0, 1, 2, … in row-major order.
    static func iota(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map(Float.init))
    }
}

/// Evaluates `source` in `environment`, failing the calling test with the rendered error if it throws.
func evaluate(_ source: String, in environment: FakeEnvironment = FakeEnvironment()) throws -> ExpressionValue {
    try Expression(source).evaluate(in: environment)
}

/// The error parsing or evaluating `source` gives, or nil if it succeeds.
func failure(_ source: String, in environment: FakeEnvironment = FakeEnvironment()) -> ExpressionError? {
    do {
        _ = try Expression(source).evaluate(in: environment)
        return nil
    } catch {
        return error
    }
}
