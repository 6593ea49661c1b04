/// The key of an array element in a coding path. Its `stringValue` is "Index N", as in Foundation's coders.
struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue!)" }

    init(_ index: Int) { intValue = index }
    init?(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}

/// An object member's key given by name, such as "super".
struct NameKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }

    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Renders a coding path the way a JavaScript reader writes it: `params.breakpoints[0].hook`.
/// Array indices are recognised by Foundation's "Index N" convention; member names that are not
/// plain identifiers are quoted, as in `weights["lm_head.weight"]`.
public func renderCodingPath(_ path: [CodingKey], root: String) -> String {
    var text = root
    for key in path {
        if let index = key.intValue, key.stringValue == "Index \(index)" {
            text += "[\(index)]"
        } else if isIdentifier(key.stringValue) {
            text += text.isEmpty ? key.stringValue : "." + key.stringValue
        } else {
            text += "[" + ((try? JSONValue.string(key.stringValue).serializedString()) ?? key.stringValue) + "]"
        }
    }
    return text
}

private func isIdentifier(_ name: String) -> Bool {
    guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
    return name.utf8.allSatisfy { byte in
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "$"):
            true
        default:
            false
        }
    }
}

extension DecodingError {
    /// One line naming where decoding failed and why, such as
    /// `params.breakpoints[0].hook: expected string, found integer`; the path starts at `root`.
    public func pathDescription(root: String) -> String {
        switch self {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            "\(renderCodingPath(context.codingPath, root: root)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            "\(renderCodingPath(context.codingPath + [key], root: root)): \(context.debugDescription)"
        @unknown default:
            "\(root): \(self)"
        }
    }
}
