/// GPT-2 style byte-level BPE: GPT-2's split pattern, then each piece's UTF-8 bytes, spelled in the
/// byte-level alphabet, merged by rank.
final class ByteLevelBPE: TokenizerModel {
    private let rules: MergeTable
    /// The token for each byte, or -1 if the vocabulary lacks it (the byte is then dropped, as in HF).
    private let byteTokens: [Int32]
    /// The bytes every token decodes to, one after another; token `id`'s are
    /// `tokenBytes[tokenOffsets[id]..<tokenOffsets[id + 1]]`.
    private let tokenBytes: [UInt8]
    private let tokenOffsets: [Int]
    private let cache = WordCache()

    /// `index` maps each token, as HF spells it (see `spelledTokens`), to its id.
    init(vocabulary: TokenizerVocabulary, index: [ExactString: Int32]) throws {
        byteTokens = ByteLevel.scalarForByte.map { index[ExactString(String($0))] ?? -1 }
        var tokenBytes: [UInt8] = []
        var tokenOffsets = [0]
        for token in vocabulary.tokens {
            tokenBytes += ByteLevel.bytes(spelledBy: token) ?? Array(token.utf8)
            tokenOffsets.append(tokenBytes.count)
        }
        self.tokenBytes = tokenBytes
        self.tokenOffsets = tokenOffsets
        rules = try MergeTable(parsing: vocabulary.merges, index: index)
    }

    /// The tokens as HF spells them: those using characters outside the byte-level alphabet are
    /// respelled in it.
    static func spelledTokens(_ tokens: [String]) -> [String] {
        tokens.map { ByteLevel.bytes(spelledBy: $0) == nil ? ByteLevel.spell($0.utf8) : $0 }
    }

    func encode(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into output: inout [Int32]) {
        GPT2PreTokenizer.split(bytes, range) { word in
            let wordBytes = UnsafeBufferPointer(rebasing: bytes[word])
            let key = WordCache.Key(wordBytes)
            if let key, let ids = cache.ids(for: key) {
                output.append(contentsOf: ids)
                return
            }
            var ids: [Int32] = []
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: wordBytes.count) { symbols in
                var count = 0
                for byte in wordBytes where byteTokens[Int(byte)] >= 0 {
                    symbols[count] = byteTokens[Int(byte)]
                    count += 1
                }
                BytePairMerger.merge(UnsafeMutableBufferPointer(rebasing: symbols[..<count]), rules: rules, into: &ids)
            }
            if let key { cache.store(ids, for: key) }
            output.append(contentsOf: ids)
        }
    }

    /// HF's byte-level decoder: each token's bytes, concatenated, read as UTF-8 with U+FFFD for errors.
    func decode(_ ids: [Int32]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids where id >= 0 && Int(id) < tokenOffsets.count - 1 {
            bytes += tokenBytes[tokenOffsets[Int(id)]..<tokenOffsets[Int(id) + 1]]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func piece(_ id: Int32) -> String {
        readableText(tokenBytes[tokenOffsets[Int(id)]..<tokenOffsets[Int(id) + 1]])
    }
}
