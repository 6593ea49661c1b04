/// SentencePiece-style BPE as HF builds it for Gemma GGUFs: spaces become "▁", each stretch of text
/// between added tokens is one word, characters missing from the vocabulary fall back to `<0xNN>`
/// byte tokens, and the merges (absent from the file) are derived from the vocabulary.
final class SentencePieceBPE: TokenizerModel {
    /// Model families whose SentencePiece vocabulary this reads as HF does.
    static let architectures: Set<String> = ["gemma", "gemma2", "gemma3"]

    private let rules: MergeTable
    /// The token of each Basic Multilingual Plane character, or -1.
    private let bmpTokens: [Int32]
    /// The token of each character beyond the BMP that has one.
    private let astralTokens: [UInt32: Int32]
    /// The `<0xNN>` token of each byte, or -1.
    private let byteTokens: [Int32]
    private let unknownID: Int32?
    /// For decoding: the byte a `<0xNN>` token stands for (or -1), and every token's text.
    private let byteValues: [Int16]
    private let texts: [String]
    private let cache = WordCache()

    /// `spellings` are the tokens as HF spells them (see `spelledTokens`), `index` maps them to ids.
    init(vocabulary: TokenizerVocabulary, spellings: [String], index: [ExactString: Int32]) throws {
        guard let architecture = vocabulary.architecture, Self.architectures.contains(architecture) else {
            throw TokenizerError.unsupportedArchitecture(vocabulary.architecture ?? "unnamed")
        }
        var bmpTokens = [Int32](repeating: -1, count: 0x10000)
        var astralTokens: [UInt32: Int32] = [:]
        for (spelling, id) in index where spelling.text.unicodeScalars.count == 1 {
            let value = spelling.text.unicodeScalars.first!.value
            if value < 0x10000 { bmpTokens[Int(value)] = id } else { astralTokens[value] = id }
        }
        self.bmpTokens = bmpTokens
        self.astralTokens = astralTokens
        byteTokens = (0..<256).map { index[ExactString(Self.byteTokenSpelling(UInt8($0)))] ?? -1 }
        unknownID = vocabulary.unknownID ?? index[ExactString("<unk>")]
        byteValues = spellings.map { Self.byteValue(of: $0).map(Int16.init) ?? -1 }
        texts = spellings.map { spelling in
            String(String.UnicodeScalarView(spelling.unicodeScalars.map { $0 == "\u{2581}" ? " " : $0 }))
        }
        rules = vocabulary.merges.isEmpty
            ? Self.derivedMerges(spellings: spellings, index: index)
            : try MergeTable(parsing: vocabulary.merges, index: index)
    }

    /// The tokens as HF's Gemma builder spells them: a token of whitespace holding a space is
    /// written as that many "▁", which is how the text will spell it after normalisation.
    static func spelledTokens(_ tokens: [String]) -> [String] {
        tokens.map { token in
            token.unicodeScalars.contains(" ") && token.unicodeScalars.allSatisfy(isPythonSpace)
                ? String(repeating: "\u{2581}", count: token.unicodeScalars.count)
                : token
        }
    }

    /// Python's `str.isspace`: Unicode's White_Space plus the four information separators.
    private static func isPythonSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
    }

    /// HF's merges for a vocabulary without any: every way to cut a token into two tokens, ranked by
    /// the position of the token they make, then by the longer left part.
    private static func derivedMerges(spellings: [String], index: [ExactString: Int32]) -> MergeTable {
        var merges: [(left: Int32, right: Int32, result: Int32)] = []
        for (id, spelling) in spellings.enumerated() where index[ExactString(spelling)] == Int32(id) {
            let utf8 = Array(spelling.utf8)
            // Cut points at character boundaries, longest left part first.
            let cuts = utf8.indices.dropFirst().filter { utf8[$0] & 0xC0 != 0x80 }.reversed()
            for cut in cuts {
                guard let left = index[ExactString(String(decoding: utf8[..<cut], as: UTF8.self))],
                      let right = index[ExactString(String(decoding: utf8[cut...], as: UTF8.self))]
                else { continue }
                merges.append((left, right, Int32(id)))
            }
        }
        let table = MergeTable(capacity: merges.count)
        for (rank, merge) in merges.enumerated() {
            table.insert(left: merge.left, right: merge.right, merge: Merge(rank: Int32(rank), result: merge.result))
        }
        return table
    }

    private static func byteTokenSpelling(_ byte: UInt8) -> String {
        "<0x" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true) + ">"
    }

    /// The byte a token spelled `<0xNN>` stands for.
    private static func byteValue(of spelling: String) -> UInt8? {
        let utf8 = Array(spelling.utf8)
        guard utf8.count == 6, spelling.hasPrefix("<0x"), utf8[5] == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
    }

    func encode(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into output: inout [Int32]) {
        let word = UnsafeBufferPointer(rebasing: bytes[range])
        let key = WordCache.Key(word)
        if let key, let ids = cache.ids(for: key) {
            output.append(contentsOf: ids)
            return
        }
        var ids: [Int32] = []
        // A character gives one symbol, or one per UTF-8 byte when it falls back to bytes; "▁",
        // which replaces a space, has more bytes than the space.
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 3 * word.count) { symbols in
            var count = 0
            var index = 0
            while index < word.count {
                let (original, length) = decodeScalar(word, at: index)
                index += length
                let value = original == 0x20 ? 0x2581 : original
                if let id = token(of: value) {
                    symbols[count] = id
                    count += 1
                    continue
                }
                let utf8 = Unicode.Scalar(value)!.utf8
                if utf8.allSatisfy({ byteTokens[Int($0)] >= 0 }) {
                    for byte in utf8 {
                        symbols[count] = byteTokens[Int(byte)]
                        count += 1
                    }
                } else if let unknownID, count == 0 || symbols[count - 1] != unknownID {
                    // Unknown characters in a row become one unknown token.
                    symbols[count] = unknownID
                    count += 1
                }
            }
            BytePairMerger.merge(UnsafeMutableBufferPointer(rebasing: symbols[..<count]), rules: rules, into: &ids)
        }
        if let key { cache.store(ids, for: key) }
        output.append(contentsOf: ids)
    }

    @inline(__always)
    private func token(of value: UInt32) -> Int32? {
        if value < 0x10000 {
            let id = bmpTokens[Int(value)]
            return id >= 0 ? id : nil
        }
        return astralTokens[value]
    }

    /// HF's decoder: "▁" becomes a space, runs of byte tokens become their UTF-8 text (or one
    /// U+FFFD per byte if they are not valid UTF-8), and everything is joined.
    func decode(_ ids: [Int32]) -> String {
        var text = ""
        var pendingBytes: [UInt8] = []
        func flushBytes() {
            guard !pendingBytes.isEmpty else { return }
            text += String(validating: pendingBytes, as: UTF8.self)
                ?? String(repeating: "\u{FFFD}", count: pendingBytes.count)
            pendingBytes.removeAll(keepingCapacity: true)
        }
        for id in ids where id >= 0 && Int(id) < texts.count {
            let byte = byteValues[Int(id)]
            if byte >= 0 {
                pendingBytes.append(UInt8(byte))
            } else {
                flushBytes()
                text += texts[Int(id)]
            }
        }
        flushBytes()
        return text
    }

    func piece(_ id: Int32) -> String {
        let byte = byteValues[Int(id)]
        return byte >= 0 ? readableText([UInt8(byte)]) : texts[Int(id)]
    }
}
