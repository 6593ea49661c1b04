import Transformer

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

    /// Checks a number of tokens to keep.
    func validate(k: Int) throws {
        guard (1...config.vocabularySize).contains(k) else {
            throw AnalysisError(field: "k", "must be between 1 and \(config.vocabularySize), not \(k)")
        }
    }

    /// Positions in `0..<count`, negative ones counted from the end (-1 is the last).
    func resolve(positions: [Int], count: Int, field: String = "positions") throws -> [Int] {
        try positions.map { position in
            let resolved = position < 0 ? position + count : position
            guard (0..<count).contains(resolved) else {
                throw AnalysisError(field: field, "position \(position) is outside the \(count) tokens")
            }
            return resolved
        }
    }
}
