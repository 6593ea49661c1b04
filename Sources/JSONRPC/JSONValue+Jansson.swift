import CJansson
#if canImport(Glibc)
import Glibc
#endif

/// Why bytes could not become a `JSONValue`, or a `JSONValue` could not become bytes.
public enum JSONError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The bytes are not one JSON value in UTF-8. `line` and `column` are 1-based (0 when the input is
    /// empty), `position` counts bytes; `reason` is jansson's explanation.
    case invalidJSON(reason: String, line: Int, column: Int, position: Int)
    /// NaN and the infinities have no JSON form; serialisation rejects them rather than guess.
    case nonFiniteNumber(Double)

    public var description: String {
        switch self {
        case .invalidJSON(let reason, let line, let column, _):
            "invalid JSON at line \(line), column \(column): \(reason)"
        case .nonFiniteNumber(let value):
            "\(value) cannot be represented in JSON"
        }
    }
}

/// Parsing: any top-level value (so callers can tell "not JSON" from "JSON of the wrong shape"),
/// duplicate object keys rejected (they make a message ambiguous), `\u0000` allowed inside strings.
/// jansson always rejects invalid UTF-8, integers outside Int64, and NUL in object keys.
private let parseFlags = Int(JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

/// Serialisation: compact, keys sorted by their UTF-8 bytes, non-ASCII written as UTF-8.
/// Doubles are written with 17 significant digits (jansson's `%.17g`), which round-trips exactly.
private let dumpFlags = Int(JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)

extension JSONValue {
    /// Parses one JSON value from UTF-8 bytes.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(JSONError) {
        var error = json_error_t()
        let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self)
        guard let root = json_loadb(base, bytes.count, parseFlags, &error) else {
            let reason = withUnsafePointer(to: error.text) { text in
                String(cString: UnsafeRawPointer(text).assumingMemoryBound(to: CChar.self))
            }
            throw .invalidJSON(
                reason: reason, line: Int(error.line), column: Int(error.column), position: Int(error.position))
        }
        defer { cjansson_decref(root) }
        self = JSONValue(jansson: root)
    }

    /// Parses one JSON value from UTF-8 bytes.
    public init(parsing bytes: [UInt8]) throws(JSONError) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONError) in try JSONValue(parsing: raw) }
        }
        self = try result.get()
    }

    /// Parses one JSON value from text.
    public init(parsing text: String) throws(JSONError) {
        self = try JSONValue(parsing: Array(text.utf8))
    }

    /// Compact UTF-8 JSON with sorted keys; throws for NaN and infinities.
    ///
    /// jansson writes the structure. Long strings that need no escaping (a tensor's base64 data) go to
    /// jansson as short placeholders and are copied into its output afterwards, byte for byte: jansson
    /// would otherwise examine them one character at a time.
    public func serialized() throws(JSONError) -> [UInt8] {
        let splices = SpliceTable()
        let root = try makeJansson(splices)
        defer { cjansson_decref(root) }
        var output: [UInt8] = []
        output.reserveCapacity(128)
        let status = withUnsafeMutablePointer(to: &output) { pointer in
            json_dump_callback(root, { chunk, size, context in
                let output = context!.assumingMemoryBound(to: [UInt8].self)
                chunk!.withMemoryRebound(to: UInt8.self, capacity: size) { bytes in
                    output.pointee.append(contentsOf: UnsafeBufferPointer(start: bytes, count: size))
                }
                return 0
            }, pointer, dumpFlags)
        }
        precondition(status == 0, "jansson failed to serialise a value (out of memory)")
        return splices.strings.isEmpty ? output : splices.fill(output)
    }

    /// `serialized()` as text.
    public func serializedString() throws(JSONError) -> String {
        String(decoding: try serialized(), as: UTF8.self)
    }
}

// MARK: - Converting between jansson trees and JSONValue

extension JSONValue {
    /// Copies a jansson tree; the caller keeps its reference.
    fileprivate init(jansson json: UnsafeMutablePointer<json_t>) {
        switch json_type(UInt32(cjansson_typeof(json))) {
        case JSON_OBJECT:
            var members: [String: JSONValue] = [:]
            members.reserveCapacity(json_object_size(json))
            var iterator = json_object_iter(json)
            while let current = iterator {
                let key = UnsafeRawBufferPointer(start: json_object_iter_key(current), count: json_object_iter_key_len(current))
                members[String(decoding: key, as: UTF8.self)] = JSONValue(jansson: json_object_iter_value(current))
                iterator = json_object_iter_next(json, current)
            }
            self = .object(members)
        case JSON_ARRAY:
            let count = json_array_size(json)
            var elements: [JSONValue] = []
            elements.reserveCapacity(count)
            for index in 0..<count {
                elements.append(JSONValue(jansson: json_array_get(json, index)))
            }
            self = .array(elements)
        case JSON_STRING:
            let bytes = UnsafeRawBufferPointer(start: json_string_value(json), count: json_string_length(json))
            self = .string(String(decoding: bytes, as: UTF8.self))
        case JSON_INTEGER:
            self = .integer(json_integer_value(json))
        case JSON_REAL:
            self = .double(json_real_value(json))
        case JSON_TRUE:
            self = .bool(true)
        case JSON_FALSE:
            self = .bool(false)
        default:
            self = .null
        }
    }

    /// Builds a jansson tree holding one reference, which the caller must release.
    fileprivate func makeJansson(_ splices: SpliceTable? = nil) throws(JSONError) -> UnsafeMutablePointer<json_t> {
        switch self {
        case .null:
            return json_null()
        case .bool(let value):
            return value ? json_true() : json_false()
        case .integer(let value):
            return json_integer(value)
        case .double(let value):
            guard value.isFinite else { throw .nonFiniteNumber(value) }
            return json_real(value)
        case .string(let value):
            return makeJanssonString(splices?.placeholder(for: value) ?? value)
        case .array(let elements):
            let array = json_array()!
            for element in elements {
                do {
                    json_array_append_new(array, try element.makeJansson(splices))
                } catch {
                    cjansson_decref(array)
                    throw error
                }
            }
            return array
        case .object(let members):
            let object = json_object()!
            for (key, member) in members {
                do {
                    let value = try member.makeJansson(splices)
                    var key = key
                    key.withUTF8 { utf8 in
                        utf8.withMemoryRebound(to: CChar.self) { chars in
                            _ = json_object_setn_new_nocheck(object, chars.baseAddress ?? emptyCString, chars.count, value)
                        }
                    }
                } catch {
                    cjansson_decref(object)
                    throw error
                }
            }
            return object
        }
    }
}

/// The long strings of one serialisation that jansson sees only as placeholders.
private final class SpliceTable {
    /// Strings at least this long are spliced when they need no escaping.
    static let minimumLength = 4096

    private(set) var strings: [String] = []
    /// Marks placeholders; a control character jansson escapes, plus a random tag no input will contain.
    private let tag = "\u{1}lmdbg-\(UInt64.random(in: 0...UInt64.max)):"

    /// A placeholder for `string` if it is long and needs no escaping in JSON, else nil.
    func placeholder(for string: String) -> String? {
        guard string.utf8.count >= Self.minimumLength,
              string.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") })
        else { return nil }
        strings.append(string)
        return tag + String(strings.count - 1)
    }

    /// `output` with each placeholder, as jansson wrote it (`\u0001lmdbg-…:N`), replaced by its string.
    func fill(_ output: [UInt8]) -> [UInt8] {
        let written = Array(("\\u0001" + tag.dropFirst()).utf8)
        var result: [UInt8] = []
        result.reserveCapacity(output.count + strings.reduce(0) { $0 + $1.utf8.count })
        var index = 0
        while index < output.count {
            guard let start = firstIndex(of: written, in: output, from: index) else { break }
            var end = start + written.count
            var number = 0
            while end < output.count, output[end] >= UInt8(ascii: "0"), output[end] <= UInt8(ascii: "9") {
                number = number * 10 + Int(output[end] - UInt8(ascii: "0"))
                end += 1
            }
            result.append(contentsOf: output[index..<start])
            result.append(contentsOf: strings[number].utf8)
            index = end
        }
        result.append(contentsOf: output[index...])
        return result
    }

    /// Where `needle` first occurs in `haystack` at or after `start`: memchr for its first byte, then memcmp.
    private func firstIndex(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        haystack.withUnsafeBytes { hay in
            needle.withUnsafeBytes { pattern in
                var position = start
                while position + pattern.count <= hay.count {
                    guard let found = memchr(hay.baseAddress! + position, Int32(pattern[0]), hay.count - position) else { return nil }
                    let index = hay.baseAddress!.distance(to: UnsafeRawPointer(found))
                    if index + pattern.count <= hay.count, memcmp(found, pattern.baseAddress!, pattern.count) == 0 { return index }
                    position = index + 1
                }
                return nil
            }
        }
    }
}

/// Swift strings are valid UTF-8, so jansson's check can be skipped.
private func makeJanssonString(_ string: String) -> UnsafeMutablePointer<json_t> {
    var string = string
    return string.withUTF8 { utf8 in
        utf8.withMemoryRebound(to: CChar.self) { chars in
            json_stringn_nocheck(chars.baseAddress ?? emptyCString, chars.count)!
        }
    }
}

/// jansson rejects a null pointer even for zero-length strings.
private let emptyCString: UnsafePointer<CChar> = {
    let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
    pointer.initialize(to: 0)
    return UnsafePointer(pointer)
}()
