import Testing
@testable import Tokenizers

@Suite struct ByteLevelTests {
    @Test func alphabetSpellsEveryByteAsOneDistinctCharacter() {
        #expect(Set(ByteLevel.scalarForByte).count == 256)
        #expect(ByteLevel.spell(Array(" \n!".utf8)) == "ĠĊ!")
        #expect(ByteLevel.bytes(spelledBy: "ĠhiĊ") == Array(" hi\n".utf8))
        #expect(ByteLevel.bytes(spelledBy: "a b") == nil)
    }
}
