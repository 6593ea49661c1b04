import Foundation
import JSONRPC

/// A JSON Schema (draft 2020-12) document, validated with the subset of keywords lmdbg's protocol schema
/// uses. The subset is checked when the schema is loaded: a keyword outside it is an error, never silently
/// ignored, so a schema cannot seem to say more than this validator checks.
///
/// Assertions: `$ref` (local `#/...` pointers), `type`, `properties`, `required`, `additionalProperties`,
/// `enum`, `const`, `items`, `oneOf`, `anyOf`, `minimum`, `maximum`; boolean schemas.
/// Annotations (not checked): `$schema`, `$id`, `$defs`, `title`, `description`, `default`, `examples`,
/// `contentEncoding`, `deprecated`, and `x-…` extension keywords.
public struct JSONSchema: Sendable {
    public static let assertionKeywords: Set<String> = [
        "$ref", "type", "properties", "required", "additionalProperties", "enum", "const", "items",
        "oneOf", "anyOf", "minimum", "maximum",
    ]
    public static let annotationKeywords: Set<String> = [
        "$schema", "$id", "$defs", "title", "description", "default", "examples", "contentEncoding", "deprecated",
    ]
    static let typeNames: Set<String> = ["null", "boolean", "integer", "number", "string", "array", "object"]

    /// The whole document.
    public let document: JSONValue

    /// Takes a schema document, checking that it uses only the supported subset and that its `$ref`s resolve.
    public init(_ document: JSONValue) throws {
        self.document = document
        try checkSubset(document, path: "#")
    }

    /// Reads a schema from a JSON file.
    public init(contentsOf url: URL) throws {
        let data = try Data(contentsOf: url)
        try self.init(try JSONValue(parsing: [UInt8](data)))
    }

    /// The problems with `instance` under the schema at `pointer` (a local JSON pointer such as
    /// `#/$defs/Breakpoint`); empty when it is valid.
    public func validate(_ instance: JSONValue, at pointer: String = "#") -> [ValidationError] {
        guard let schema = resolve(pointer) else {
            return [ValidationError(instancePath: "", schemaPath: pointer, message: "no schema at \(pointer)")]
        }
        var errors: [ValidationError] = []
        validate(instance, schema, schemaPath: pointer, instancePath: "", depth: 0, into: &errors)
        return errors
    }

    /// The problems with `instance` under `$defs/<name>`.
    public func validate(_ instance: JSONValue, definition name: String) -> [ValidationError] {
        validate(instance, at: "#/$defs/\(name)")
    }

    /// The names in `$defs`.
    public var definitionNames: [String] {
        guard case .object(let root) = document, case .object(let defs)? = root["$defs"] else { return [] }
        return defs.keys.sorted()
    }

    /// The schema at a local JSON pointer (`#`, `#/$defs/Name`), or nil.
    public func resolve(_ pointer: String) -> JSONValue? {
        guard pointer.hasPrefix("#") else { return nil }
        var node = document
        let path = pointer.dropFirst()
        guard !path.isEmpty else { return node }
        guard path.hasPrefix("/") else { return nil }
        for raw in path.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let token = raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            switch node {
            case .object(let members):
                guard let next = members[token] else { return nil }
                node = next
            case .array(let items):
                guard let index = Int(token), items.indices.contains(index) else { return nil }
                node = items[index]
            default:
                return nil
            }
        }
        return node
    }

    // MARK: - Loading

    private func checkSubset(_ schema: JSONValue, path: String) throws {
        switch schema {
        case .bool:
            return
        case .object(let members):
            for (key, value) in members {
                let here = "\(path)/\(key)"
                if key.hasPrefix("x-") || key == "examples" || key == "default" || key == "const" || key == "enum" {
                    continue  // data, not subschemas
                }
                switch key {
                case "$defs", "properties":
                    guard case .object(let subschemas) = value else { throw SchemaError.malformed(here, "must be an object") }
                    for (name, subschema) in subschemas { try checkSubset(subschema, path: "\(here)/\(name)") }
                case "items", "additionalProperties":
                    try checkSubset(value, path: here)
                case "oneOf", "anyOf":
                    guard case .array(let branches) = value, !branches.isEmpty else {
                        throw SchemaError.malformed(here, "must be a non-empty array")
                    }
                    for (index, branch) in branches.enumerated() { try checkSubset(branch, path: "\(here)/\(index)") }
                case "$ref":
                    guard case .string(let pointer) = value else { throw SchemaError.malformed(here, "must be a string") }
                    guard resolve(pointer) != nil else { throw SchemaError.unresolvedReference(here, pointer) }
                case "type":
                    let names: [JSONValue]
                    if case .array(let list) = value { names = list } else { names = [value] }
                    for name in names {
                        guard case .string(let text) = name, Self.typeNames.contains(text) else {
                            throw SchemaError.malformed(here, "unknown type \(name)")
                        }
                    }
                case "required":
                    guard case .array(let names) = value, names.allSatisfy({ if case .string = $0 { true } else { false } }) else {
                        throw SchemaError.malformed(here, "must be an array of strings")
                    }
                case "minimum", "maximum":
                    guard value.numberValue != nil else { throw SchemaError.malformed(here, "must be a number") }
                default:
                    guard Self.annotationKeywords.contains(key) else { throw SchemaError.unsupportedKeyword(here) }
                }
            }
        default:
            throw SchemaError.malformed(path, "a schema is an object or a boolean")
        }
    }

    // MARK: - Validation

    private func validate(_ instance: JSONValue, _ schema: JSONValue, schemaPath: String, instancePath: String,
                          depth: Int, into errors: inout [ValidationError]) {
        func fail(_ message: String, _ keyword: String) {
            errors.append(ValidationError(instancePath: instancePath, schemaPath: "\(schemaPath)/\(keyword)", message: message))
        }
        guard depth < 64 else {
            fail("$ref nesting deeper than 64: a reference cycle?", "$ref")
            return
        }
        guard case .object(let keywords) = schema else {
            if case .bool(false) = schema { fail("no value is allowed here", "false") }
            return
        }

        if case .string(let pointer)? = keywords["$ref"], let target = resolve(pointer) {
            validate(instance, target, schemaPath: pointer, instancePath: instancePath, depth: depth + 1, into: &errors)
        }

        if let type = keywords["type"] {
            let allowed: [String]
            switch type {
            case .string(let name): allowed = [name]
            case .array(let names): allowed = names.compactMap { if case .string(let n) = $0 { n } else { nil } }
            default: allowed = []
            }
            if !allowed.contains(where: { instance.hasType($0) }) {
                fail("expected \(allowed.joined(separator: " or ")), got \(instance.typeDescription)", "type")
            }
        }

        if case .array(let options)? = keywords["enum"], !options.contains(where: { $0.jsonEquals(instance) }) {
            fail("\(instance.brief) is not one of \(options.map(\.brief).joined(separator: ", "))", "enum")
        }
        if let constant = keywords["const"], !constant.jsonEquals(instance) {
            fail("expected \(constant.brief), got \(instance.brief)", "const")
        }

        if let number = instance.numberValue {
            if let minimum = keywords["minimum"]?.numberValue, number < minimum {
                fail("\(instance.brief) is less than the minimum \(keywords["minimum"]!.brief)", "minimum")
            }
            if let maximum = keywords["maximum"]?.numberValue, number > maximum {
                fail("\(instance.brief) is greater than the maximum \(keywords["maximum"]!.brief)", "maximum")
            }
        }

        if case .object(let members) = instance {
            var properties: [String: JSONValue] = [:]
            if case .object(let declared)? = keywords["properties"] { properties = declared }
            if case .array(let required)? = keywords["required"] {
                for case .string(let name) in required where members[name] == nil {
                    fail("the member \"\(name)\" is required", "required")
                }
            }
            for name in members.keys.sorted() {
                let value = members[name]!
                let memberPath = "\(instancePath)/\(escape(name))"
                if let subschema = properties[name] {
                    validate(value, subschema, schemaPath: "\(schemaPath)/properties/\(escape(name))",
                             instancePath: memberPath, depth: depth, into: &errors)
                } else if let additional = keywords["additionalProperties"] {
                    if case .bool(false) = additional {
                        errors.append(ValidationError(instancePath: memberPath, schemaPath: "\(schemaPath)/additionalProperties",
                                                      message: "the member \"\(name)\" is not allowed"))
                    } else {
                        validate(value, additional, schemaPath: "\(schemaPath)/additionalProperties",
                                 instancePath: memberPath, depth: depth, into: &errors)
                    }
                }
            }
        }

        if case .array(let elements) = instance, let items = keywords["items"] {
            for (index, element) in elements.enumerated() {
                validate(element, items, schemaPath: "\(schemaPath)/items", instancePath: "\(instancePath)/\(index)",
                         depth: depth, into: &errors)
            }
        }

        for keyword in ["oneOf", "anyOf"] {
            guard case .array(let branches)? = keywords[keyword] else { continue }
            var branchErrors: [[ValidationError]] = []
            for (index, branch) in branches.enumerated() {
                var found: [ValidationError] = []
                validate(instance, branch, schemaPath: "\(schemaPath)/\(keyword)/\(index)", instancePath: instancePath,
                         depth: depth, into: &found)
                branchErrors.append(found)
            }
            let passing = branchErrors.filter(\.isEmpty).count
            if passing == 0 {
                // Say why the closest branch failed: the one with the fewest problems.
                let closest = branchErrors.min(by: { $0.count < $1.count }) ?? []
                let reasons = closest.prefix(3).map(\.description).joined(separator: "; ")
                fail("\(instance.brief) matches none of the \(branches.count) \(keyword) schemas (closest: \(reasons))", keyword)
            } else if keyword == "oneOf" && passing > 1 {
                fail("\(instance.brief) matches \(passing) of the oneOf schemas; exactly one must match", keyword)
            }
        }
    }

    private func escape(_ token: String) -> String {
        token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}

/// One reason an instance is not valid.
public struct ValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A JSON pointer into the instance (`""` is the whole instance), e.g. `/breakpoints/0/hook`.
    public var instancePath: String
    /// The keyword that failed, as a pointer into the schema, e.g. `#/$defs/Breakpoint/required`.
    public var schemaPath: String
    public var message: String

    public init(instancePath: String, schemaPath: String, message: String) {
        self.instancePath = instancePath
        self.schemaPath = schemaPath
        self.message = message
    }

    public var description: String { "\(instancePath.isEmpty ? "(root)" : instancePath): \(message)" }
}

/// Why a schema cannot be used.
public enum SchemaError: Error, Equatable, CustomStringConvertible {
    /// A keyword outside the supported subset, at this schema path.
    case unsupportedKeyword(String)
    case unresolvedReference(String, String)
    case malformed(String, String)

    public var description: String {
        switch self {
        case .unsupportedKeyword(let path): "\(path): keyword not supported by this validator"
        case .unresolvedReference(let path, let pointer): "\(path): $ref \(pointer) does not resolve"
        case .malformed(let path, let why): "\(path): \(why)"
        }
    }
}

extension JSONValue {
    /// The value as a Double when it is a number.
    public var numberValue: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    /// JSON Schema's notion of type: an integer is a number whose fractional part is zero, so `1.0` is one.
    func hasType(_ name: String) -> Bool {
        switch (name, self) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): true
        case ("number", .integer), ("number", .double), ("integer", .integer): true
        case ("integer", .double(let value)): value.isFinite && value.rounded() == value
        default: false
        }
    }

    var typeDescription: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .integer: "integer"
        case .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// JSON equality: numbers compare by value (`1` equals `1.0`), objects regardless of member order.
    public func jsonEquals(_ other: JSONValue) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.jsonEquals($1) }
        case (.object(let a), .object(let b)):
            return a.count == b.count && a.allSatisfy { key, value in b[key].map { value.jsonEquals($0) } ?? false }
        default:
            if let a = numberValue, let b = other.numberValue { return a == b }
            return false
        }
    }

    /// A short rendering for messages.
    var brief: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return String(value)
        case .integer(let value): return String(value)
        case .double(let value): return String(value)
        case .string(let value): return "\"\(value.count > 40 ? value.prefix(40) + "…" : value)\""
        case .array(let items): return "an array of \(items.count)"
        case .object(let members): return "{\(members.keys.sorted().prefix(4).joined(separator: ", "))\(members.count > 4 ? ", …" : "")}"
        }
    }
}
