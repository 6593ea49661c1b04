/// A number that may not be finite (schema `FloatValue`): a JSON number, or `"NaN"`, `"Infinity"`,
/// `"-Infinity"`, since JSON has no literal for those.
public struct FloatValue: Codable, Sendable, Hashable, CustomStringConvertible,
    ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    public var value: Double

    public init(_ value: Double) { self.value = value }
    public init(_ value: Float) { self.value = Double(value) }
    public init(floatLiteral value: Double) { self.value = value }
    public init(integerLiteral value: Int) { self.value = Double(value) }

    public var description: String { value.description }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            value = number
            return
        }
        let text = try container.decode(String.self)
        switch text {
        case "NaN": value = .nan
        case "Infinity": value = .infinity
        case "-Infinity": value = -.infinity
        default:
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected a number, \"NaN\", \"Infinity\" or \"-Infinity\", got \"\(text)\"")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        if value.isNaN {
            try container.encode("NaN")
        } else if value.isInfinite {
            try container.encode(value > 0 ? "Infinity" : "-Infinity")
        } else {
            try container.encode(value)
        }
    }

    /// NaN equals NaN here, so that values survive an encode-decode round trip as equal.
    public static func == (lhs: FloatValue, rhs: FloatValue) -> Bool {
        (lhs.value.isNaN && rhs.value.isNaN) || lhs.value == rhs.value
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(value.isNaN ? Double.nan.bitPattern : value.bitPattern)
    }
}
