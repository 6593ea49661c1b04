import Foundation
import Tensors

/// One row of a token table: a token, its text and a score (a logit, a probability, or any ranked value).
public struct TokenScore: Equatable, Sendable {
    /// The token id, or the index along the ranked axis when the table is not over a vocabulary.
    public var token: Int
    /// The token's text; nil when the table ranks something other than tokens.
    public var piece: String?
    public var score: Double

    public init(token: Int, piece: String?, score: Double) {
        self.token = token
        self.piece = piece
        self.score = score
    }
}

/// The result of evaluating an expression, or a variable's value in an environment.
public enum ExpressionValue: Equatable, Sendable, CustomStringConvertible {
    case number(Double)
    case bool(Bool)
    case string(String)
    /// A float32 tensor of rank ≥ 1 (a rank-0 result is a `number`).
    case tensor(Tensor)
    /// Ranked rows from `lens` or `topk`, best first.
    case tokens([TokenScore])

    /// The kind of value, named as the protocol's `type` field names it.
    public enum Kind: String, Sendable {
        case number, bool, string, tensor, tokens
    }

    public var kind: Kind {
        switch self {
        case .number: .number
        case .bool: .bool
        case .string: .string
        case .tensor: .tensor
        case .tokens: .tokens
        }
    }

    /// One line for a REPL or a DAP `result`: `3.5`, `true`, `' Paris'`, `[1, 2, 3]`,
    /// `tensor[9, 12] norm=3.21 mean=0.01 min=-1.2 max=4.5`, `' Paris' 0.43, ' the' 0.08, …`.
    public var description: String {
        switch self {
        case .number(let value): formatNumber(value)
        case .bool(let value): value ? "true" : "false"
        case .string(let text): quoted(text)
        case .tensor(let tensor): describe(tensor)
        case .tokens(let rows): describe(rows)
        }
    }
}

/// Tensors with at most this many elements are printed in full.
private let fullPrintLimit = 8
/// Token tables print at most this many rows.
private let tableRowLimit = 10

/// Integers without a fraction, others with `significant` significant digits.
func formatNumber(_ value: Double, significant: Int = 6) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value < 0 ? "-inf" : "inf" }
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return String(format: "%.\(significant)g", value)
}

/// The text in single quotes, with quotes, backslashes and control characters escaped.
func quoted(_ text: String) -> String {
    var result = "'"
    for scalar in text.unicodeScalars {
        switch scalar {
        case "'": result += "\\'"
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\t": result += "\\t"
        case "\r": result += "\\r"
        case _ where scalar.value < 0x20 || scalar.value == 0x7f:
            result += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result + "'"
}

private func describe(_ tensor: Tensor) -> String {
    let shape = tensor.shape.map(String.init).joined(separator: ", ")
    if tensor.count == 0 { return "tensor[\(shape)] (empty)" }
    if tensor.count <= fullPrintLimit { return nested(tensor.data[...], shape: tensor.shape[...]) }
    let stats = TensorStatistics(tensor)
    var text = "tensor[\(shape)]"
    if stats.finiteCount > 0 {
        text += " norm=\(formatNumber(stats.norm, significant: 3)) mean=\(formatNumber(stats.mean, significant: 3))"
        text += " min=\(formatNumber(stats.min, significant: 3)) max=\(formatNumber(stats.max, significant: 3))"
    }
    if stats.nanCount > 0 { text += " nan=\(stats.nanCount)" }
    if stats.infinityCount > 0 { text += " inf=\(stats.infinityCount)" }
    return text
}

/// `[[1, 2], [3, 4]]` for a small tensor.
private func nested(_ data: ArraySlice<Float>, shape: ArraySlice<Int>) -> String {
    guard let first = shape.first else { return formatNumber(Double(data[data.startIndex])) }
    let rows = shape.dropFirst()
    let stride = rows.reduce(1, *)
    let parts = (0..<first).map { row in
        let start = data.startIndex + row * stride
        return nested(data[start..<start + stride], shape: rows)
    }
    return "[" + parts.joined(separator: ", ") + "]"
}

private func describe(_ rows: [TokenScore]) -> String {
    if rows.isEmpty { return "(no tokens)" }
    let shown = rows.prefix(tableRowLimit).map { row in
        (row.piece.map(quoted) ?? "#\(row.token)") + " " + formatNumber(row.score, significant: 3)
    }
    return shown.joined(separator: ", ") + (rows.count > tableRowLimit ? ", …" : "")
}

/// Norm, mean, min and max over a tensor's finite elements, and how many are NaN or infinite.
struct TensorStatistics {
    var norm = 0.0, mean = 0.0, min = Double.infinity, max = -Double.infinity
    var finiteCount = 0, nanCount = 0, infinityCount = 0

    init(_ tensor: Tensor) {
        var sum = 0.0, sumOfSquares = 0.0
        tensor.data.withUnsafeBufferPointer { data in
            for element in data {
                if element.isNaN { nanCount += 1; continue }
                if element.isInfinite { infinityCount += 1; continue }
                let value = Double(element)
                sum += value
                sumOfSquares += value * value
                if value < min { min = value }
                if value > max { max = value }
                finiteCount += 1
            }
        }
        norm = sumOfSquares.squareRoot()
        mean = finiteCount > 0 ? sum / Double(finiteCount) : .nan
    }
}
