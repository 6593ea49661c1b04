import Glibc

/// Why bytes could not become a `JSONValue`, or a `JSONValue` could not become bytes.
public enum JSONError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The bytes are not one JSON value in UTF-8. `line` is 1-based; `column` counts the bytes of that line
    /// read up to and including the one at fault (0 when the input is empty); `position` counts bytes.
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

// Parsing is strict RFC 8259 over UTF-8: any top-level value (so callers can tell "not JSON" from "JSON of the
// wrong shape"); invalid UTF-8, lone surrogates, integers outside Int64, duplicate object keys and NUL in keys
// are rejected; `\u0000` is allowed inside strings. Serialisation is compact, keys sorted by their UTF-8 bytes,
// non-ASCII written as UTF-8, doubles with 17 significant digits (so they round-trip exactly).
// Both run in one pass over the bytes: a long string (a base64 tensor) costs little more than a copy.

extension JSONValue {
    /// Parses one JSON value from UTF-8 bytes.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(JSONError) {
        var parser = JSONParser(bytes.bindMemory(to: UInt8.self))
        self = try parser.document()
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
        var output: [UInt8] = []
        output.reserveCapacity(128)
        try write(to: &output)
        return output
    }

    /// `serialized()` as text.
    public func serializedString() throws(JSONError) -> String {
        String(decoding: try serialized(), as: UTF8.self)
    }

    private func write(to output: inout [UInt8]) throws(JSONError) {
        switch self {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let value): output.append(contentsOf: (value ? "true" : "false").utf8)
        case .integer(let value): output.append(contentsOf: String(value).utf8)
        case .double(let value): try writeDouble(value, to: &output)
        case .string(let value): writeString(value, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                try element.write(to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, key) in keys.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                writeString(key, to: &output)
                output.append(UInt8(ascii: ":"))
                try members[key]!.write(to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }
}

/// Whether any of the 8 bytes in `word` is a control character, `"` or `\`: the bytes a JSON string cannot
/// hold as they are. (The classic tests for a zero byte and for a byte below n, on all 8 at once.)
@inline(__always)
private func holdsSpecialByte(_ word: UInt64) -> Bool {
    let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
    let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
    let control = (word &- ones &* 0x20) & ~word
    return (control | (quote &- ones) & ~quote | (backslash &- ones) & ~backslash) & highs != 0
}

/// The index of the first special byte (see `holdsSpecialByte`) at or after `start`, or `bytes.count`.
private func firstSpecialByte(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
    var index = start
    if let base = bytes.baseAddress {
        while index + 8 <= bytes.count,
              !holdsSpecialByte(UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))) {
            index += 8
        }
    }
    while index < bytes.count {
        let byte = bytes[index]
        if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return index }
        index += 1
    }
    return index
}

/// `"…"` with `"`, `\` and control characters escaped; everything else as its UTF-8 bytes, copied in runs.
private func writeString(_ string: String, to output: inout [UInt8]) {
    var string = string
    output.append(UInt8(ascii: "\""))
    string.withUTF8 { bytes in
        output.reserveCapacity(output.count + bytes.count + 1)
        var runStart = 0
        var index = firstSpecialByte(in: bytes, from: 0)
        while index < bytes.count {
            let byte = bytes[index]
            defer { index = firstSpecialByte(in: bytes, from: index + 1) }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            runStart = index + 1
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): output.append(contentsOf: #"\\"#.utf8)
            case 0x08: output.append(contentsOf: #"\b"#.utf8)
            case 0x0C: output.append(contentsOf: #"\f"#.utf8)
            case 0x0A: output.append(contentsOf: #"\n"#.utf8)
            case 0x0D: output.append(contentsOf: #"\r"#.utf8)
            case 0x09: output.append(contentsOf: #"\t"#.utf8)
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                output.append(contentsOf: #"\u00"#.utf8)
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0xF)])
            }
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
    }
    output.append(UInt8(ascii: "\""))
}

/// `%.17g`, with `.0` added when that looks like an integer, and the exponent without `+` or leading zeros.
private func writeDouble(_ value: Double, to output: inout [UInt8]) throws(JSONError) {
    guard value.isFinite else { throw .nonFiniteNumber(value) }
    var buffer = [CChar](repeating: 0, count: 40)
    let length = withVaList([value]) { arguments in Int(vsnprintf(&buffer, buffer.count, "%.17g", arguments)) }
    var text = Array(buffer[0..<length].map { UInt8(bitPattern: $0) })
    if !text.contains(UInt8(ascii: ".")) && !text.contains(UInt8(ascii: "e")) {
        text.append(contentsOf: ".0".utf8)
    }
    if var digits = text.firstIndex(of: UInt8(ascii: "e")).map({ $0 + 1 }) {
        if text[digits] == UInt8(ascii: "-") { digits += 1 }
        var end = digits
        while text[end] == UInt8(ascii: "+") || (text[end] == UInt8(ascii: "0") && end + 1 < text.count) { end += 1 }
        text.removeSubrange(digits..<end)
    }
    output.append(contentsOf: text)
}

/// A recursive-descent parser over the bytes of one JSON document.
private struct JSONParser {
    static let maximumDepth = 2048

    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var depth = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func document() throws(JSONError) -> JSONValue {
        skipWhitespace()
        let value = try self.value()
        skipWhitespace()
        guard index == bytes.count else { throw failure("end of file expected", at: index + 1) }
        return value
    }

    /// An error after the bytes up to `offset` were read.
    func failure(_ reason: String, at offset: Int) -> JSONError {
        let offset = min(offset, bytes.count)
        var line = 1, lineStart = 0
        for position in 0..<offset where bytes[position] == UInt8(ascii: "\n") {
            line += 1
            lineStart = position + 1
        }
        return .invalidJSON(reason: reason, line: line, column: offset - lineStart, position: offset)
    }

    var endOfInput: JSONError { failure("unexpected end of input", at: bytes.count) }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func value() throws(JSONError) -> JSONValue {
        guard index < bytes.count else { throw endOfInput }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw failure("invalid token", at: index + 1)
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONError) {
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        if bytes.count - index >= expected.count, bytes[index..<index + expected.count].elementsEqual(expected) {
            index += expected.count
            return
        }
        var end = index
        while end < bytes.count, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[end] | 0x20) { end += 1 }
        throw failure("invalid token", at: max(end, index + 1))
    }

    mutating func enter() throws(JSONError) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw failure("maximum nesting depth exceeded", at: index + 1) }
        index += 1
        skipWhitespace()
    }

    mutating func object() throws(JSONError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        var members: [String: JSONValue] = [:]
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
        while true {
            guard index < bytes.count else { throw endOfInput }
            guard bytes[index] == UInt8(ascii: "\"") else { throw failure("string expected", at: index + 1) }
            let keyEnd = index
            let key = try string()
            guard !key.utf8.contains(0) else { throw failure("NUL byte in an object key", at: keyEnd + 1) }
            skipWhitespace()
            guard index < bytes.count else { throw endOfInput }
            guard bytes[index] == UInt8(ascii: ":") else { throw failure("':' expected", at: index + 1) }
            index += 1
            skipWhitespace()
            let member = try value()
            guard members.updateValue(member, forKey: key) == nil else {
                throw failure("duplicate object key", at: index)
            }
            skipWhitespace()
            guard index < bytes.count else { throw endOfInput }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1; skipWhitespace()
            case UInt8(ascii: "}"): index += 1; return .object(members)
            default: throw failure("',' or '}' expected", at: index + 1)
            }
        }
    }

    mutating func array() throws(JSONError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        var elements: [JSONValue] = []
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
        while true {
            elements.append(try value())
            skipWhitespace()
            guard index < bytes.count else { throw endOfInput }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1; skipWhitespace()
            case UInt8(ascii: "]"): index += 1; return .array(elements)
            default: throw failure("',' or ']' expected", at: index + 1)
            }
        }
    }

    /// A string starting at its opening quote: runs without escapes are validated and copied whole.
    mutating func string() throws(JSONError) -> String {
        index += 1
        var runStart = index
        var unescaped: [UInt8]?
        while true {
            index = firstSpecialByte(in: bytes, from: index)
            guard index < bytes.count else { throw endOfInput }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { break }
            if byte < 0x20 { throw failure("control character in a string", at: index + 1) }
            if unescaped == nil { unescaped = [] }
            unescaped!.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            try escape(into: &unescaped!)
            runStart = index
        }
        let run = UnsafeBufferPointer(rebasing: bytes[runStart..<index])
        let text: String?
        if var collected = unescaped {
            collected.append(contentsOf: run)
            text = String(validating: collected, as: UTF8.self)
        } else {
            text = String(validating: run, as: UTF8.self)
        }
        guard let text else { throw invalidUTF8(from: runStart) }
        index += 1
        return text
    }

    /// The error for the first byte from `start` that is not part of valid UTF-8 (escapes decode to valid UTF-8).
    func invalidUTF8(from start: Int) -> JSONError {
        var iterator = UnsafeBufferPointer(rebasing: bytes[start..<index]).makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = start
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .error: return failure("unable to decode byte 0x\(String(bytes[offset], radix: 16))", at: offset + 1)
            case .emptyInput: return failure("invalid UTF-8", at: index)
            }
        }
    }

    /// One escape sequence, from its backslash, appended as UTF-8.
    mutating func escape(into output: inout [UInt8]) throws(JSONError) {
        index += 1
        guard index < bytes.count else { throw endOfInput }
        let letter = bytes[index]
        index += 1
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(letter)
        case UInt8(ascii: "b"): output.append(0x08)
        case UInt8(ascii: "f"): output.append(0x0C)
        case UInt8(ascii: "n"): output.append(0x0A)
        case UInt8(ascii: "r"): output.append(0x0D)
        case UInt8(ascii: "t"): output.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hexQuad()
            if (0xD800..<0xDC00).contains(scalar) {
                guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw failure("a high surrogate without its low surrogate", at: index)
                }
                index += 2
                let low = try hexQuad()
                guard (0xDC00..<0xE000).contains(low) else { throw failure("invalid low surrogate", at: index) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(scalar) {
                throw failure("a low surrogate without its high surrogate", at: index)
            }
            output.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
        default:
            throw failure("invalid escape", at: index)
        }
    }

    mutating func hexQuad() throws(JSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count else { throw endOfInput }
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("invalid \\u escape", at: index + 1)
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    mutating func number() throws(JSONError) -> JSONValue {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        if index < bytes.count, bytes[index] == UInt8(ascii: "0") { index += 1 } else { try digits() }
        var isInteger = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            try digits()
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            try digits()
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isInteger {
            guard let value = Int64(text) else { throw failure("integer outside the 64-bit range", at: index) }
            return .integer(value)
        }
        guard let value = Double(text), value.isFinite else { throw failure("number outside the double range", at: index) }
        return .double(value)
    }

    func isDigit(_ offset: Int) -> Bool {
        offset < bytes.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset])
    }

    /// One or more digits.
    mutating func digits() throws(JSONError) {
        guard isDigit(index) else { throw index < bytes.count ? failure("invalid number", at: index + 1) : endOfInput }
        while isDigit(index) { index += 1 }
    }
}
