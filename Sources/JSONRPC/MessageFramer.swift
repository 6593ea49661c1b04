/// Why a byte stream could not be split into messages.
public enum FramingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The blank line ending a header block came without a `Content-Length`.
    case missingContentLength
    /// The header block has a second `Content-Length`.
    case duplicateContentLength
    /// `Content-Length` is not a decimal number (negative, signed, empty, other characters).
    case invalidContentLength(String)
    /// `Content-Length` exceeds the framer's limit.
    case contentLengthTooLarge(String, limit: Int)
    /// A header line is longer than the limit (without its CRLF).
    case headerLineTooLong(limit: Int)
    /// A header block has more lines than the limit.
    case tooManyHeaderLines(limit: Int)
    /// A header line is not `Name: value` in printable ASCII ended by CRLF.
    case malformedHeader(String)
    /// The input ended inside a message.
    case truncated

    public var description: String {
        switch self {
        case .missingContentLength: "header block without Content-Length"
        case .duplicateContentLength: "duplicate Content-Length header"
        case .invalidContentLength(let value): "invalid Content-Length \"\(value)\""
        case .contentLengthTooLarge(let value, let limit): "Content-Length \(value) exceeds the limit of \(limit) bytes"
        case .headerLineTooLong(let limit): "header line longer than \(limit) bytes"
        case .tooManyHeaderLines(let limit): "more than \(limit) header lines"
        case .malformedHeader(let reason): "malformed header: \(reason)"
        case .truncated: "input ended inside a message"
        }
    }
}

/// Splits a byte stream into message bodies framed as in LSP's base protocol:
/// `Content-Length: N\r\n`, optionally `Content-Type: …\r\n` and other `Name: value` lines (ignored),
/// a blank line `\r\n`, then exactly N bytes of body. Header names are case-insensitive.
///
/// Feed bytes with `append` in chunks of any size, take bodies with `nextBody` until it returns nil,
/// and call `finish` at end of input. Framing errors are final: a byte stream has no reliable way to
/// find the next message once one frame is wrong, so after an error every call throws it again and
/// the connection should report it and close. Memory stays bounded by the limits: no more than one line
/// of header, and the body only as fast as its bytes arrive (a declared length is never preallocated).
public struct MessageFramer: Sendable {
    public struct Limits: Sendable {
        public var maximumContentLength: Int
        public var maximumHeaderLineLength: Int
        public var maximumHeaderLines: Int

        public init(maximumContentLength: Int = 64 << 20, maximumHeaderLineLength: Int = 1024, maximumHeaderLines: Int = 16) {
            self.maximumContentLength = maximumContentLength
            self.maximumHeaderLineLength = maximumHeaderLineLength
            self.maximumHeaderLines = maximumHeaderLines
        }
    }

    public let limits: Limits
    /// Received bytes; those before `start` are consumed.
    private var buffer: [UInt8] = []
    private var start = 0
    /// In a header line: bytes of it already checked, counted from `start`.
    private var checked = 0
    private var headerLines = 0
    private var contentLength: Int?
    /// Set once the header block is complete: the body's length.
    private var bodyLength: Int?
    private var failure: FramingError?

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// The header block that goes before a body of `length` bytes.
    public static func header(bodyLength length: Int) -> [UInt8] {
        Array("Content-Length: \(length)\r\n\r\n".utf8)
    }

    /// Frames a body for writing.
    public static func frame(body: [UInt8]) -> [UInt8] {
        var framed = header(bodyLength: body.count)
        framed.reserveCapacity(framed.count + body.count)
        framed.append(contentsOf: body)
        return framed
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete body, or nil until more bytes arrive.
    public mutating func nextBody() throws(FramingError) -> [UInt8]? {
        if let failure { throw failure }
        do {
            return try takeBody()
        } catch {
            failure = error
            buffer = []
            start = 0
            throw error
        }
    }

    /// Call at end of input: throws if the input ended inside a message (or framing had failed).
    public func finish() throws(FramingError) {
        if let failure { throw failure }
        if start < buffer.count || headerLines > 0 || bodyLength != nil { throw .truncated }
    }

    private mutating func takeBody() throws(FramingError) -> [UInt8]? {
        while bodyLength == nil {
            guard let line = try nextHeaderLine() else { return nil }
            try readHeader(line)
        }
        let length = bodyLength!
        guard buffer.count - start >= length else { return nil }
        let body = Array(buffer[start..<start + length])
        start += length
        bodyLength = nil
        discardConsumedBytes()
        return body
    }

    private mutating func discardConsumedBytes() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
            start = 0
        } else if start > 4096 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
    }

    /// The next header line without its CRLF, or nil if it is not complete yet.
    private mutating func nextHeaderLine() throws(FramingError) -> ArraySlice<UInt8>? {
        let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")
        while start + checked < buffer.count {
            let index = start + checked
            let byte = buffer[index]
            let afterCR = checked > 0 && buffer[index - 1] == cr
            checked += 1
            if byte == lf {
                guard afterCR else { throw .malformedHeader("line ended by LF without CR") }
                let line = buffer[start..<index - 1]
                start = index + 1
                checked = 0
                return line
            }
            if afterCR { throw .malformedHeader("CR not followed by LF") }
            guard byte == cr || byte == UInt8(ascii: "\t") || (0x20...0x7E).contains(byte) else {
                throw .malformedHeader("byte 0x\(String(byte, radix: 16)) in header")
            }
            // The line may still need its CR and LF.
            if checked > limits.maximumHeaderLineLength + (byte == cr ? 1 : 0) {
                throw .headerLineTooLong(limit: limits.maximumHeaderLineLength)
            }
        }
        return nil
    }

    private mutating func readHeader(_ line: ArraySlice<UInt8>) throws(FramingError) {
        if line.isEmpty {
            guard let contentLength else { throw .missingContentLength }
            bodyLength = contentLength
            self.contentLength = nil
            headerLines = 0
            return
        }
        headerLines += 1
        guard headerLines <= limits.maximumHeaderLines else { throw .tooManyHeaderLines(limit: limits.maximumHeaderLines) }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw .malformedHeader("no colon in header line") }
        let name = line[line.startIndex..<colon]
        guard !name.isEmpty, name.allSatisfy(isTokenByte) else {
            throw .malformedHeader("invalid header name \"\(String(decoding: name, as: UTF8.self))\"")
        }
        guard isContentLength(name) else { return }
        guard contentLength == nil else { throw .duplicateContentLength }
        contentLength = try parseContentLength(trimmed(line[(colon + 1)...]))
    }

    private func parseContentLength(_ digits: ArraySlice<UInt8>) throws(FramingError) -> Int {
        guard !digits.isEmpty else { throw .invalidContentLength("") }
        var length = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0") && digit <= UInt8(ascii: "9") else {
                throw .invalidContentLength(String(decoding: digits, as: UTF8.self))
            }
            length = length * 10 + Int(digit - UInt8(ascii: "0"))
            if length > limits.maximumContentLength {
                let allDigits = digits.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
                let text = String(decoding: digits, as: UTF8.self)
                throw allDigits ? .contentLengthTooLarge(text, limit: limits.maximumContentLength) : .invalidContentLength(text)
            }
        }
        return length
    }
}

/// RFC 9110 token characters, which header names are made of.
private func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
        UInt8(ascii: "!"), UInt8(ascii: "#")...UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"),
        UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        true
    default:
        false
    }
}

private let contentLengthName = Array("content-length".utf8)

/// Whether a header name, already checked to be a token, is Content-Length in any case.
private func isContentLength(_ name: ArraySlice<UInt8>) -> Bool {
    guard name.count == contentLengthName.count else { return false }
    var index = name.startIndex
    for expected in contentLengthName {
        // Setting bit 5 lowercases ASCII letters and leaves "-" and digits alone.
        guard name[index] | 0x20 == expected else { return false }
        index += 1
    }
    return true
}

private func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
    guard let first = bytes.firstIndex(where: { !isBlank($0) }) else { return bytes[bytes.endIndex...] }
    let last = bytes.lastIndex(where: { !isBlank($0) })!
    return bytes[first...last]
}
