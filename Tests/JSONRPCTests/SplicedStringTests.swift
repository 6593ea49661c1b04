import Testing
@testable import JSONRPC

/// Long strings that need no escaping are copied into jansson's output after it writes the structure.
struct SplicedStringTests {
    private let base64 = String(repeating: "QUJDRA+/", count: 100_000) + "=="

    @Test func longPlainStringsAreWrittenExactlyWhereJanssonPutTheirPlaceholders() throws {
        let value: JSONValue = ["result": ["data": .string(base64), "dtype": "float32", "shape": [3, 4]],
                                "id": 7, "jsonrpc": "2.0", "tail": .string(base64 + "x")]
        let text = try value.serializedString()
        #expect(text == #"{"id":7,"jsonrpc":"2.0","result":{"data":""# + base64 + #"","dtype":"float32","shape":[3,4]},"tail":""#
                + base64 + #"x"}"#)
        #expect(try JSONValue(parsing: text) == value)
    }

    @Test func stringsThatNeedEscapingGoThroughJansson() throws {
        let quoted = String(repeating: "a\"b\\c\n", count: 2000)
        let marker = String(repeating: "\u{1}lmdbg-1:0", count: 1000)
        let unicode = String(repeating: "é東", count: 3000)
        for string in [quoted, marker, unicode] {
            let value: JSONValue = ["s": .string(string), "short": "\u{1}"]
            #expect(try JSONValue(parsing: value.serialized()) == value)
        }
        #expect(try JSONValue.string(quoted).serializedString().hasPrefix(#""a\"b\\c\n"#))
    }
}
