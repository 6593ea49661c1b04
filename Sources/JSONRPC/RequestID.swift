/// A request's `id`: an integer or a string. (JSON-RPC also allows null and fractions, LSP does not,
/// and neither does this server.)
public enum RequestID: Hashable, Sendable, CustomStringConvertible {
    case integer(Int64)
    case string(String)

    /// nil unless `value` is an integer or a string.
    public init?(_ value: JSONValue) {
        switch value {
        case .integer(let integer): self = .integer(integer)
        case .string(let string): self = .string(string)
        default: return nil
        }
    }

    public var jsonValue: JSONValue {
        switch self {
        case .integer(let integer): .integer(integer)
        case .string(let string): .string(string)
        }
    }

    public var description: String {
        switch self {
        case .integer(let integer): "\(integer)"
        case .string(let string): "\"\(string)\""
        }
    }
}

/// So that protocol types, such as the params of `$/cancelRequest`, can hold an id.
extension RequestID: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let integer = try? container.decode(Int64.self) {
            self = .integer(integer)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else {
            throw DecodingError.typeMismatch(
                RequestID.self, .init(codingPath: decoder.codingPath, debugDescription: "expected integer or string"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .integer(let integer): try container.encode(integer)
        case .string(let string): try container.encode(string)
        }
    }
}
