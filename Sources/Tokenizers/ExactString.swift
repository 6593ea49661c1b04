/// A string compared and hashed by its UTF-8 bytes. Swift's `String` treats canonically equivalent
/// text as equal ("é" and "e\u{301}", U+2000 and U+2002), but tokenizers must not.
struct ExactString: Hashable, Sendable {
    let text: String

    init(_ text: String) {
        self.text = text
    }

    static func == (lhs: ExactString, rhs: ExactString) -> Bool {
        lhs.text.utf8.elementsEqual(rhs.text.utf8)
    }

    func hash(into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
