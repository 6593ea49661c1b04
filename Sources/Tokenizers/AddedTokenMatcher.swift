/// Finds added tokens (special ones like `<|im_start|>`, and user-defined ones) in raw text before
/// anything else sees it, matching leftmost-longest on the exact spelling as HF does.
struct AddedTokenMatcher: Sendable {
    /// A piece of the text: a run to tokenize normally, or an added token found whole.
    enum Segment {
        case text(Range<Int>)
        case token(Int32)
    }

    private struct Candidate {
        var bytes: [UInt8]
        var id: Int32
    }

    /// Candidates by first byte, longest first.
    private let candidatesByFirstByte: [[Candidate]]

    init(tokens: [(text: String, id: Int32)]) {
        var table = [[Candidate]](repeating: [], count: 256)
        for (text, id) in tokens where !text.isEmpty {
            let bytes = Array(text.utf8)
            table[Int(bytes[0])].append(Candidate(bytes: bytes, id: id))
        }
        candidatesByFirstByte = table.map { $0.sorted { $0.bytes.count > $1.bytes.count } }
    }

    /// Calls `emit` for each segment of `bytes`, in order; text segments are never empty.
    func split(_ bytes: UnsafeBufferPointer<UInt8>, emit: (Segment) -> Void) {
        var textStart = 0
        var index = 0
        while index < bytes.count {
            guard let match = longestMatch(bytes, at: index) else {
                index += 1
                continue
            }
            if textStart < index { emit(.text(textStart..<index)) }
            emit(.token(match.id))
            index += match.bytes.count
            textStart = index
        }
        if textStart < bytes.count { emit(.text(textStart..<bytes.count)) }
    }

    @inline(__always)
    private func longestMatch(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Candidate? {
        let candidates = candidatesByFirstByte[Int(bytes[index])]
        guard !candidates.isEmpty else { return nil }
        let remaining = bytes.count - index
        return candidates.first { candidate in
            candidate.bytes.count <= remaining && candidate.bytes.withUnsafeBufferPointer { wanted in
                (1..<wanted.count).allSatisfy { bytes[index + $0] == wanted[$0] }
            }
        }
    }
}
