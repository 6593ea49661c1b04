/// Why a model could not be loaded or run.
public enum TransformerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file's `general.architecture` is not one the engine implements.
    case unsupportedArchitecture(String)
    /// The metadata describes a model the engine cannot run (e.g. heads that do not divide evenly).
    case unsupportedConfiguration(String)
    /// A weight in the file has another shape than the metadata implies.
    case weightShape(tensor: String, expected: [Int], found: [Int])
    /// A token id outside the vocabulary.
    case tokenOutOfRange(token: Int32, vocabularySize: Int)

    public var description: String {
        switch self {
        case let .unsupportedArchitecture(name):
            let known = Architecture.allCases.map(\.rawValue).joined(separator: ", ")
            return "unsupported architecture '\(name)' (supported: \(known))"
        case let .unsupportedConfiguration(reason):
            return "unsupported model configuration: \(reason)"
        case let .weightShape(tensor, expected, found):
            return "tensor '\(tensor)' has shape \(found), expected \(expected)"
        case let .tokenOutOfRange(token, vocabularySize):
            return "token id \(token) is outside the vocabulary of \(vocabularySize) tokens"
        }
    }
}
