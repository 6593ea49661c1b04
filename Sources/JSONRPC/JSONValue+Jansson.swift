import CJansson

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
    public func serialized() throws(JSONError) -> [UInt8] {
        let root = try makeJansson()
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
        return output
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
    fileprivate func makeJansson() throws(JSONError) -> UnsafeMutablePointer<json_t> {
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
            return makeJanssonString(value)
        case .array(let elements):
            let array = json_array()!
            for element in elements {
                do {
                    json_array_append_new(array, try element.makeJansson())
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
                    let value = try member.makeJansson()
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
