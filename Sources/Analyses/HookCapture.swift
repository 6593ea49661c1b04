import Tensors
import Transformer

/// Copies the activations of a fixed set of hooks out of one forward pass.
final class HookCapture: HookObserver {
    let hooks: Set<HookPoint>
    private(set) var captured: [HookPoint: Tensor] = [:]

    init(_ hooks: some Sequence<HookPoint>) { self.hooks = Set(hooks) }

    func wants(_ hook: HookPoint) -> Bool { hooks.contains(hook) }

    func observe(_ activation: ActivationView) { captured[activation.hook] = activation.copy() }

    subscript(hook: HookPoint) -> Tensor { captured[hook]! }
}

/// Why an analysis cannot run as asked; `field` names the argument at fault.
public struct AnalysisError: Error, Equatable, CustomStringConvertible {
    public let field: String
    public let message: String

    public init(field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

extension LanguageModel {
    /// Checks that `tokens` is a non-empty prompt of in-vocabulary ids.
    func validate(_ tokens: [Int32], field: String) throws {
        guard !tokens.isEmpty else { throw AnalysisError(field: field, "has no tokens") }
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= config.vocabularySize }) {
            throw AnalysisError(field: field, "token \(bad) is outside the vocabulary of \(config.vocabularySize)")
        }
    }

    /// Checks a token id argument.
    func validate(token: Int32, field: String) throws {
        guard token >= 0 && Int(token) < config.vocabularySize else {
            throw AnalysisError(field: field, "token \(token) is outside the vocabulary of \(config.vocabularySize)")
        }
    }

    /// Rows `rows` of a [T, width] tensor.
    static func rows(_ tensor: Tensor, _ rows: [Int]) -> Tensor {
        let width = tensor.shape.dropFirst().reduce(1, *)
        var data: [Float] = []
        data.reserveCapacity(rows.count * width)
        for row in rows { data += tensor.data[row * width ..< (row + 1) * width] }
        return Tensor(shape: [rows.count] + tensor.shape.dropFirst(), data: data)
    }
}
