/// The part of a tokenizer that differs between algorithms.
protocol TokenizerModel: Sendable {
    /// Appends the ids of `range` of `bytes` (valid UTF-8 holding no added token).
    func encode(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into output: inout [Int32])
    /// The text of `ids`, ids outside the vocabulary skipped.
    func decode(_ ids: [Int32]) -> String
    /// The text of one token, for display; `id` is in the vocabulary.
    func piece(_ id: Int32) -> String
}

/// Turns text into token ids and back, exactly as HF's tokenizer built from the same GGUF does.
public final class Tokenizer: Sendable {
    /// The number of tokens in the vocabulary.
    public let vocabularySize: Int
    public let bosID: Int32?
    public let eosID: Int32?
    private let addBOS: Bool
    private let addEOS: Bool
    private let specialIDs: Set<Int32>
    private let addedTokens: AddedTokenMatcher
    private let model: any TokenizerModel

    public init(vocabulary: TokenizerVocabulary) throws {
        let tokens = vocabulary.tokens
        for (name, id) in [("bos", vocabulary.bosID), ("eos", vocabulary.eosID),
                           ("unk", vocabulary.unknownID), ("pad", vocabulary.paddingID)] {
            if let id, !tokens.indices.contains(Int(id)) { throw TokenizerError.tokenIDOutOfRange(name: name, id: id) }
        }
        let namedSpecials = [vocabulary.bosID, vocabulary.eosID, vocabulary.unknownID, vocabulary.paddingID].compactMap { $0 }

        let index: [ExactString: Int32]
        var specials: [Int32]
        switch vocabulary.model {
        case "gpt2":
            // HF splits with GPT-2's pattern unless it knows a different one for the file's `pre`;
            // llama.cpp's converter names GPT-2's own pre-tokenizer "gpt-2".
            switch vocabulary.preTokenizer ?? "gpt2" {
            case "gpt2", "gpt-2", "smollm": break
            case let other: throw TokenizerError.unsupportedPreTokenizer(other)
            }
            index = tokenIndex(ByteLevelBPE.spelledTokens(tokens))
            model = try ByteLevelBPE(vocabulary: vocabulary, index: index)
            // A control token spelled outside the byte-level alphabet is a mislabel HF skips.
            specials = tokens.indices.filter {
                vocabulary.type(of: $0) == .control && ByteLevel.bytes(spelledBy: tokens[$0]) != nil
            }.map { Int32($0) }
        case "llama":
            let spellings = SentencePieceBPE.spelledTokens(tokens)
            index = tokenIndex(spellings)
            model = try SentencePieceBPE(vocabulary: vocabulary, spellings: spellings, index: index)
            specials = tokens.indices.filter { vocabulary.type(of: $0) == .control }.map { Int32($0) }
        default:
            throw TokenizerError.unsupportedModel(vocabulary.model)
        }
        specials += namedSpecials
        let userDefined = tokens.indices.filter {
            vocabulary.type(of: $0) == .userDefined && index[ExactString(tokens[$0])] != nil
        }.map { Int32($0) }

        vocabularySize = tokens.count
        bosID = vocabulary.bosID
        eosID = vocabulary.eosID
        addBOS = vocabulary.addBOS
        addEOS = vocabulary.addEOS
        specialIDs = Set(specials)
        addedTokens = AddedTokenMatcher(tokens: (specials + userDefined).map { (tokens[Int($0)], $0) })
    }

    /// The ids of `text`, with BOS (and EOS) added when the file asks for them, unless `addSpecialTokens`
    /// is false (HF's `add_special_tokens=False`); special tokens written in the text become their ids.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int32] {
        var output: [Int32] = []
        output.reserveCapacity(text.utf8.count / 3 + 2)
        if addSpecialTokens, addBOS, let bosID { output.append(bosID) }
        var text = text
        text.withUTF8 { bytes in
            addedTokens.split(bytes) { segment in
                switch segment {
                case .token(let id): output.append(id)
                case .text(let range): model.encode(bytes, range, into: &output)
                }
            }
        }
        if addSpecialTokens, addEOS, let eosID { output.append(eosID) }
        return output
    }

    /// The text of `ids`, special tokens included; ids outside the vocabulary are skipped.
    public func decode(_ ids: [Int32]) -> String {
        model.decode(ids)
    }

    /// The text of one token for display; bytes that are not UTF-8 on their own show as `<0xNN>`.
    /// Empty for an id outside the vocabulary.
    public func piece(_ id: Int32) -> String {
        (0..<Int32(vocabularySize)).contains(id) ? model.piece(id) : ""
    }

    /// Whether `id` is a special token (control tokens, and the BOS, EOS, unknown and padding tokens).
    public func isSpecial(_ id: Int32) -> Bool {
        specialIDs.contains(id)
    }
}

/// `bytes` as text: valid UTF-8 sequences as characters, every other byte as `<0xNN>`.
func readableText(_ bytes: ArraySlice<UInt8>) -> String {
    if let text = String(validating: bytes, as: UTF8.self) { return text }
    var text = ""
    var index = bytes.startIndex
    while index < bytes.endIndex {
        let lead = bytes[index]
        let length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
        if index + length <= bytes.endIndex,
           let scalar = String(validating: bytes[index..<index + length], as: UTF8.self) {
            text += scalar
            index += length
        } else {
            text += "<0x\(String(lead, radix: 16, uppercase: true).leftPadded(to: 2))>"
            index += 1
        }
    }
    return text
}

private extension String {
    func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
