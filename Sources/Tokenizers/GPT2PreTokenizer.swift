/// The classes GPT-2's split pattern tells apart: `\s`, `\p{L}`, `\p{N}` and everything else.
enum ScalarClass: UInt8 {
    case whitespace, letter, number, other

    private static let ascii: [ScalarClass] = (0..<128).map { classifyByProperties(UInt32($0)) }

    @inline(__always)
    static func of(_ value: UInt32) -> ScalarClass {
        value < 128 ? ascii[Int(value)] : classifyByProperties(value)
    }

    /// Classifies as HF's regex engine (Oniguruma) does: whitespace is Unicode's White_Space, and
    /// since it knows Unicode 16, characters assigned later are neither letters nor numbers.
    private static func classifyByProperties(_ value: UInt32) -> ScalarClass {
        guard let scalar = Unicode.Scalar(value) else { return .other }
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        let kind: ScalarClass
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            kind = .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            kind = .number
        default:
            return .other
        }
        guard let age = properties.age, age.major <= 16 else { return .other }
        return kind
    }
}

/// Decodes the scalar starting at `index` of valid UTF-8: its value and its length in bytes.
@inline(__always)
func decodeScalar(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> (value: UInt32, length: Int) {
    let lead = UInt32(bytes[index])
    if lead < 0x80 { return (lead, 1) }
    if lead < 0xE0 {
        return ((lead & 0x1F) << 6 | UInt32(bytes[index + 1] & 0x3F), 2)
    }
    if lead < 0xF0 {
        return ((lead & 0x0F) << 12 | UInt32(bytes[index + 1] & 0x3F) << 6 | UInt32(bytes[index + 2] & 0x3F), 3)
    }
    return ((lead & 0x07) << 18 | UInt32(bytes[index + 1] & 0x3F) << 12
        | UInt32(bytes[index + 2] & 0x3F) << 6 | UInt32(bytes[index + 3] & 0x3F), 4)
}

/// GPT-2's pre-tokenizer, a hand-written scanner for the pattern
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
/// with its leftmost-first alternation.
enum GPT2PreTokenizer {
    /// Calls `emit` with the byte range of each piece of `range` in `bytes` (valid UTF-8), in order.
    static func split(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, emit: (Range<Int>) -> Void) {
        let end = range.upperBound
        var start = range.lowerBound
        while start < end {
            if let length = contractionLength(bytes, at: start, end: end) {
                emit(start..<start + length)
                start += length
                continue
            }
            var (value, length) = decodeScalar(bytes, at: start)
            var kind = ScalarClass.of(value)
            var runStart = start
            // " ?X+": one leading space joins a run of letters, numbers or others.
            if value == 0x20, start + 1 < end {
                let following = decodeScalar(bytes, at: start + 1)
                let followingKind = ScalarClass.of(following.value)
                if followingKind != .whitespace {
                    (value, length, kind, runStart) = (following.value, following.length, followingKind, start + 1)
                }
            }
            var stop = runStart + length
            if kind != .whitespace {
                while stop < end {
                    let next = decodeScalar(bytes, at: stop)
                    guard ScalarClass.of(next.value) == kind else { break }
                    stop += next.length
                }
                emit(start..<stop)
                start = stop
                continue
            }
            // "\s+(?!\S)|\s+": a whitespace run, leaving its last character to a word that follows.
            var lastStart = start
            while stop < end {
                let next = decodeScalar(bytes, at: stop)
                guard ScalarClass.of(next.value) == .whitespace else { break }
                lastStart = stop
                stop += next.length
            }
            if stop < end && lastStart > start { stop = lastStart }
            emit(start..<stop)
            start = stop
        }
    }

    /// The length of `'s`, `'t`, `'re`, `'ve`, `'m`, `'ll` or `'d` at `index`, if one is there.
    @inline(__always)
    private static func contractionLength(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, end: Int) -> Int? {
        guard bytes[index] == UInt8(ascii: "'"), index + 1 < end else { return nil }
        switch bytes[index + 1] {
        case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"):
            return 2
        case UInt8(ascii: "r"), UInt8(ascii: "v"):
            return index + 2 < end && bytes[index + 2] == UInt8(ascii: "e") ? 3 : nil
        case UInt8(ascii: "l"):
            return index + 2 < end && bytes[index + 2] == UInt8(ascii: "l") ? 3 : nil
        default:
            return nil
        }
    }
}
