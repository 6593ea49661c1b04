import Tensors

/// What an expression can see: its variables, and the model's vocabulary for `lens`, `topk` and `token`.
///
/// Engine-agnostic: the debugger implements it over a stop's activations; tests implement it over fixed tensors.
public protocol ExpressionEnvironment {
    /// The value of a variable, e.g. `blocks.3.hook_resid_post`, `resid`, `x` or `layer`; nil if there is none.
    /// Throwing says why a known name has no value here (e.g. "not recorded"); the message reaches the user.
    func lookup(_ name: String) throws -> ExpressionValue?

    /// The top `k` tokens of a residual-stream vector `[d_model]` unembedded through the final norm,
    /// with their probabilities, most likely first.
    func lens(_ vector: Tensor, k: Int) throws -> [TokenScore]

    /// The text of a token, or nil if `token` is outside the vocabulary.
    func piece(_ token: Int) -> String?

    /// Names offered in "did you mean" hints for unknown variables.
    var variableNames: [String] { get }

    /// The vocabulary size: `topk` of a vector this long gives a token table with pieces.
    var vocabularySize: Int? { get }

    /// Feature `index` of an attached SAE (`sae` is its id; nil for the first) at each position: [T].
    func feature(_ index: Int, sae: Int?) throws -> Tensor
}

extension ExpressionEnvironment {
    public var variableNames: [String] { [] }
    public var vocabularySize: Int? { nil }

    public func feature(_ index: Int, sae: Int?) throws -> Tensor {
        throw ExpressionEnvironmentError.noSAE
    }
}

/// Why an environment cannot answer.
public enum ExpressionEnvironmentError: Error, CustomStringConvertible {
    case noSAE

    public var description: String {
        switch self {
        case .noSAE: "no sparse autoencoder is attached here"
        }
    }
}
