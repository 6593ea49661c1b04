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

/// Long plain string values are cut out of a document before jansson parses it, and put back after.
struct ParsedSpliceTests {
    private let base64 = String(repeating: "QUJDRA+/", count: 100_000) + "=="

    @Test func longStringValuesComeBackWhole() throws {
        let text = #"{"id":7,"result":{"data":""# + base64 + #"","dtype":"float32","shape":[3,4]},"tail":[""# + base64
            + #"x", "short"]}"#
        #expect(try JSONValue(parsing: text) == ["id": 7, "result": ["data": .string(base64), "dtype": "float32", "shape": [3, 4]],
                                                 "tail": [.string(base64 + "x"), "short"]])
    }

    @Test func keysEscapesAndNonASCIIAreLeftToJansson() throws {
        let escaped = String(repeating: #"a\"b\\c\n"#, count: 2000), unicode = String(repeating: "é東", count: 3000)
        let text = #"{""# + base64 + #"": 1, "e": ""# + escaped + #"", "u": ""# + unicode + #""}"#
        let value = try JSONValue(parsing: text)
        #expect(value[base64] == 1 && value["u"] == .string(unicode))
        #expect(value["e"] == .string(String(repeating: "a\"b\\c\n", count: 2000)))
    }

    @Test func errorsInDocumentsWithLongStringsPointIntoTheDocument() {
        let text = #"{"data": ""# + base64 + #"", "x": tru}"#
        #expect {
            try JSONValue(parsing: text)
        } throws: { error in
            guard case .invalidJSON(_, 1, let column, _) = error as? JSONError else { return false }
            return column > base64.count
        }
    }
}
