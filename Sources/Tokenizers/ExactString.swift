/// A string compared and hashed by its UTF-8 bytes. Swift's `String` treats canonically equivalent
/// text as equal ("é" and "e\u{301}", U+2000 and U+2002), but tokenizers must not.
struct ExactString: Hashable, Sendable {
    let text: String

    init(_ text: String) {
        self.text = text
    }

    static func == (lhs: ExactString, rhs: ExactString) -> Bool {
        guard lhs.text.utf8.count == rhs.text.utf8.count else { return false }
        let equal = lhs.text.utf8.withContiguousStorageIfAvailable { left in
            rhs.text.utf8.withContiguousStorageIfAvailable { right in left.elementsEqual(right) }
        }
        return (equal ?? nil) ?? lhs.text.utf8.elementsEqual(rhs.text.utf8)
    }

    func hash(into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

/// Each token's id, keyed by its spelling; of tokens spelled alike, the last wins (as in HF).
func tokenIndex(_ spellings: [String]) -> [ExactString: Int32] {
    var index: [ExactString: Int32] = [:]
    index.reserveCapacity(spellings.count)
    for (id, spelling) in spellings.enumerated() { index[ExactString(spelling)] = Int32(id) }
    return index
}
