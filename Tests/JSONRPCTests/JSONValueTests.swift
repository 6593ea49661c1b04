import Testing
@testable import JSONRPC

@Suite struct JSONValueTests {
    @Test func parsesEveryKind() throws {
        let value = try JSONValue(parsing: #"{"a":null,"b":true,"c":false,"d":-12,"e":1.5,"f":"x","g":[1,[2]],"h":{}}"#)
        #expect(value == [
            "a": nil, "b": true, "c": false, "d": -12, "e": 1.5, "f": "x", "g": [1, [2]], "h": [:],
        ])
    }

    @Test func integersAndDoublesStayApart() throws {
        #expect(try JSONValue(parsing: "3") == .integer(3))
        #expect(try JSONValue(parsing: "3.0") == .double(3))
        #expect(try JSONValue(parsing: "3e0") == .double(3))
        #expect(try JSONValue(parsing: "-0") == .integer(0))
        #expect(try JSONValue.double(3).serializedString() == "3.0")
    }

    @Test func extremeIntegersRoundTrip() throws {
        for value: Int64 in [.max, .min, 0, -1, (1 << 53) + 1] {
            let text = try JSONValue.integer(value).serializedString()
            #expect(text == "\(value)")
            #expect(try JSONValue(parsing: text) == .integer(value))
        }
    }

    @Test func integersBeyondInt64AreRejected() {
        #expect(throws: JSONError.self) { try JSONValue(parsing: "9223372036854775808") }
        #expect(throws: JSONError.self) { try JSONValue(parsing: "-9223372036854775809") }
    }

    @Test func doublesRoundTripExactly() throws {
        for value in [0.1, -2.5e-300, 1e300, Double.pi, Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude, -0.0] {
            let parsed = try JSONValue(parsing: JSONValue.double(value).serialized())
            guard case .double(let back) = parsed else {
                Issue.record("\(value) came back as \(parsed)")
                continue
            }
            #expect(back.bitPattern == value.bitPattern)
        }
    }

    @Test func nonFiniteDoublesAreRejected() {
        for value in [Double.nan, .infinity, -.infinity] {
            #expect {
                try JSONValue.array([.double(value)]).serialized()
            } throws: { error in
                guard case .nonFiniteNumber(let number) = error as? JSONError else { return false }
                return number.bitPattern == value.bitPattern
            }
        }
    }

    @Test func unicodeAndEscapesRoundTrip() throws {
        let strings = ["", "plain", "quote \" backslash \\ slash /", "\n\r\t\u{8}\u{c}", "\u{0}nul\u{1}\u{1f}",
                       "é ü 中文 🦙 \u{2028}\u{2029}", "\u{10FFFF}", "e\u{301}"]
        for string in strings {
            let bytes = try JSONValue.string(string).serialized()
            #expect(try JSONValue(parsing: bytes) == .string(string))
        }
        #expect(try JSONValue.string("é\n\"").serializedString() == #""é\n\"""#)
        #expect(try JSONValue(parsing: #""\u00e9\ud83e\udd99""#) == "é🦙")
    }

    @Test func keysAreSortedByteWise() throws {
        let value: JSONValue = ["b": 1, "a": ["z": 1, "y": 2], "é": 3, "Z": 4, "": 5]
        #expect(try value.serializedString() == #"{"":5,"Z":4,"a":{"y":2,"z":1},"b":1,"é":3}"#)
    }

    @Test func deeplyNestedValuesRoundTrip() throws {
        var value: JSONValue = "bottom"
        for depth in 0..<500 { value = depth.isMultiple(of: 2) ? [value] : ["k": value] }
        #expect(try JSONValue(parsing: value.serialized()) == value)
    }

    @Test func invalidJSONReportsWhere() {
        let cases: [(String, Int, Int)] = [("[1, 2", 1, 5), ("{\n  \"a\": tru }", 2, 10), ("", 1, 0), ("{} x", 1, 4)]
        for (text, line, column) in cases {
            do {
                _ = try JSONValue(parsing: text)
                Issue.record("\(text) parsed")
            } catch {
                guard case .invalidJSON(_, let gotLine, let gotColumn, _) = error else {
                    Issue.record("\(error)")
                    continue
                }
                #expect((gotLine, gotColumn) == (line, column), "\(text): \(error)")
            }
        }
    }

    @Test func invalidUTF8IsRejected() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22]] {
            #expect(throws: JSONError.self) { try JSONValue(parsing: bytes) }
        }
    }

    @Test func duplicateKeysAreRejected() {
        #expect(throws: JSONError.self) { try JSONValue(parsing: #"{"id":1,"id":2}"#) }
    }

    @Test func doublesAreWrittenAsJanssonWroteThem() throws {
        let cases: [(Double, String)] = [(3, "3.0"), (-0.0, "-0.0"), (2.5, "2.5"), (0.1, "0.10000000000000001"),
                                         (1e300, "1.0000000000000001e300"), (1e-5, "1.0000000000000001e-5"),
                                         (-2.5e-300, "-2.5e-300"), (1e16, "10000000000000000.0"), (1e17, "1e17")]
        for (value, text) in cases { #expect(try JSONValue.double(value).serializedString() == text) }
    }

    @Test func controlCharactersAreEscapedInUpperCaseHex() throws {
        #expect(try JSONValue.string("\u{1}\u{1f}\u{7f}").serializedString() == #""\u0001\u001F\#u{7f}""#)
    }

    @Test func specialCharactersAreFoundAtEveryOffset() throws {
        // Strings are scanned 8 bytes at a time: put each special character at every offset of a word.
        for special in ["\"", "\\", "\n", "\u{1}", "\u{1f}"] {
            for offset in 0..<17 {
                let text = String(repeating: "a~é", count: offset / 3) + String(repeating: "z", count: offset % 3) + special + "\u{7f}ÿ"
                let escaped = text.unicodeScalars.map { scalar -> String in
                    switch scalar {
                    case "\"": #"\""#
                    case "\\": #"\\"#
                    case "\n": #"\n"#
                    case "\u{1}": #"\u0001"#
                    case "\u{1f}": #"\u001F"#
                    default: String(scalar)
                    }
                }.joined()
                #expect(try JSONValue.string(text).serializedString() == "\"" + escaped + "\"")
                #expect(try JSONValue(parsing: JSONValue.string(text).serialized()) == .string(text))
            }
        }
        #expect(throws: JSONError.self) { try JSONValue(parsing: "\"12345678\u{1}\"") }
    }

    @Test func surrogatesMustPair() {
        for text in [#""\ud83e""#, #""\udd99""#, #""\ud83e\u0041""#, #""\ud83e x""#] {
            #expect(throws: JSONError.self, "\(text)") { try JSONValue(parsing: text) }
        }
    }

    @Test func nestingIsBounded() throws {
        #expect(try JSONValue(parsing: String(repeating: "[", count: 2048) + String(repeating: "]", count: 2048)) != .null)
        #expect(throws: JSONError.self) {
            try JSONValue(parsing: String(repeating: "[", count: 2049) + String(repeating: "]", count: 2049))
        }
    }

    @Test func aLongStringRoundTripsWhole() throws {
        let text = String(repeating: "AbC+/09=", count: 1 << 17) + "é\n\"end"
        let value: JSONValue = ["data": .string(text), "shape": [2]]
        #expect(try JSONValue(parsing: value.serialized()) == value)
    }

    @Test func topLevelScalarsParse() throws {
        #expect(try JSONValue(parsing: " null ") == .null)
        #expect(try JSONValue(parsing: "\"s\"") == "s")
    }
}
