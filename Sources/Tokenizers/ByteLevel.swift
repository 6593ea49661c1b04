/// GPT-2's byte-level alphabet: every byte spelled as one printable character.
///
/// Bytes that are printable and not a space stand for themselves; the other 68 (controls, space,
/// DEL, the C1 block, NBSP, soft hyphen) take the characters from U+0100 up, in byte order.
enum ByteLevel {
    /// The character that spells each byte.
    static let scalarForByte: [Unicode.Scalar] = {
        var scalars = [Unicode.Scalar](repeating: " ", count: 256)
        var nextSubstitute: UInt32 = 256
        for byte in 0..<256 {
            if standsForItself(UInt8(byte)) {
                scalars[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                scalars[byte] = Unicode.Scalar(nextSubstitute)!
                nextSubstitute += 1
            }
        }
        return scalars
    }()

    /// The byte each alphabet character spells.
    static let byteForScalar: [Unicode.Scalar: UInt8] = {
        var bytes: [Unicode.Scalar: UInt8] = [:]
        for (byte, scalar) in scalarForByte.enumerated() { bytes[scalar] = UInt8(byte) }
        return bytes
    }()

    private static func standsForItself(_ byte: UInt8) -> Bool {
        (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
    }

    /// `bytes` spelled in the alphabet.
    static func spell<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var text = String.UnicodeScalarView()
        for byte in bytes { text.append(scalarForByte[Int(byte)]) }
        return String(text)
    }

    /// The bytes `token` spells, or nil if it uses a character outside the alphabet.
    static func bytes(spelledBy token: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(token.unicodeScalars.count)
        for scalar in token.unicodeScalars {
            guard let byte = byteForScalar[scalar] else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
