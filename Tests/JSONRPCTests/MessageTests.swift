import Testing
@testable import JSONRPC

@Suite struct MessageTests {
    private func parse(_ text: String) throws(InvalidMessage) -> JSONRPCMessage {
        try JSONRPCMessage(parsing: Array(text.utf8))
    }

    /// The error a body is rejected with, or nil if it parses.
    private func rejection(_ text: String) -> InvalidMessage? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func classifiesTheFourKinds() throws {
        #expect(try parse(#"{"jsonrpc":"2.0","id":1,"method":"debug/evaluate","params":{"expression":"x"}}"#)
            == .request(id: .integer(1), method: "debug/evaluate", params: ["expression": "x"]))
        #expect(try parse(#"{"jsonrpc":"2.0","id":"abc","method":"shutdown"}"#)
            == .request(id: .string("abc"), method: "shutdown", params: nil))
        #expect(try parse(#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":[1]}"#)
            == .notification(method: "$/cancelRequest", params: [1]))
        #expect(try parse(#"{"jsonrpc":"2.0","id":7,"result":null}"#) == .response(id: .integer(7), result: .null))
        #expect(try parse(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad","data":[1]}}"#)
            == .errorResponse(id: nil, error: JSONRPCError(code: .parseError, message: "bad", data: [1])))
        #expect(try parse(#"{"jsonrpc":"2.0","id":"x","error":{"code":-32601,"message":"no"}}"#)
            == .errorResponse(id: .string("x"), error: JSONRPCError(code: .methodNotFound, message: "no")))
    }

    @Test func nullParamsMeanNone() throws {
        #expect(try parse(#"{"jsonrpc":"2.0","method":"exit","params":null}"#) == .notification(method: "exit", params: nil))
    }

    @Test func unknownMembersAreIgnored() throws {
        #expect(try parse(#"{"jsonrpc":"2.0","method":"exit","extra":1}"#) == .notification(method: "exit", params: nil))
    }

    @Test func serialisesCompactSortedAndRoundTrips() throws {
        let messages: [(JSONRPCMessage, String)] = [
            (.request(id: .integer(1), method: "debug/evaluate", params: ["frameId": 3, "expression": "resid[-1].norm()"]),
             #"{"id":1,"jsonrpc":"2.0","method":"debug/evaluate","params":{"expression":"resid[-1].norm()","frameId":3}}"#),
            (.notification(method: "debug/stopped", params: nil), #"{"jsonrpc":"2.0","method":"debug/stopped"}"#),
            (.response(id: .string("r"), result: .null), #"{"id":"r","jsonrpc":"2.0","result":null}"#),
            (.errorResponse(id: nil, error: JSONRPCError(code: .invalidRequest, message: "m")),
             #"{"error":{"code":-32600,"message":"m"},"id":null,"jsonrpc":"2.0"}"#),
            (.errorResponse(id: .integer(2), error: JSONRPCError(code: .requestCancelled, message: "c", data: ["why": "user"])),
             #"{"error":{"code":-32800,"data":{"why":"user"},"message":"c"},"id":2,"jsonrpc":"2.0"}"#),
        ]
        for (message, text) in messages {
            #expect(String(decoding: try message.serialized(), as: UTF8.self) == text)
            #expect(try parse(text) == message)
        }
    }

    @Test func standardCodes() {
        let codes: [(JSONRPCError.Code, Int64)] = [
            (.parseError, -32700), (.invalidRequest, -32600), (.methodNotFound, -32601), (.invalidParams, -32602),
            (.internalError, -32603), (.serverNotInitialized, -32002), (.requestCancelled, -32800), (.contentModified, -32801),
        ]
        for (code, raw) in codes { #expect(code.rawValue == raw) }
    }

    @Test func everyCodeSurvivesTheWire() throws {
        for code: JSONRPCError.Code in [.parseError, .invalidRequest, .methodNotFound, .invalidParams, .internalError,
                                        .serverNotInitialized, .requestCancelled, .contentModified, 42] {
            let message = JSONRPCMessage.errorResponse(id: .integer(1), error: JSONRPCError(code: code, message: "\(code)"))
            #expect(try JSONRPCMessage(parsing: message.serialized()) == message)
        }
    }

    @Test func notJSONIsAParseError() {
        for text in ["", "{", #"{"jsonrpc":"2.0","method":"x""#, "nul", "{} {}", "\u{FEFF}{}", #"{"a":1,"a":2}"#] {
            let error = rejection(text)
            #expect(error?.error.code == .parseError, "\(text)")
            #expect(error?.id == nil)
        }
        #expect(rejection("[1,")?.error.message.hasPrefix("Parse error: invalid JSON at line 1, column 3") == true)
    }

    @Test func invalidUTF8IsAParseError() {
        let body: [UInt8] = Array(#"{"jsonrpc":"2.0","method":""#.utf8) + [0xC0, 0x80] + Array(#""}"#.utf8)
        #expect {
            try JSONRPCMessage(parsing: body)
        } throws: { error in
            guard let error = error as? InvalidMessage else { return false }
            return error.error.code == .parseError && error.error.message.contains("unable to decode byte 0xc0")
        }
    }

    @Test func nonObjectsAreInvalidRequests() {
        for text in ["1", "\"request\"", "null", "true", "2.5"] {
            #expect(rejection(text)?.error.code == .invalidRequest, "\(text)")
        }
    }

    @Test func batchesAreRejectedAsOneInvalidRequest() throws {
        for text in ["[]", #"[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"b"}]"#] {
            let error = try #require(rejection(text))
            #expect(error.error == JSONRPCError(code: .invalidRequest, message: "Invalid Request: batch requests are not supported"))
            #expect(error.response == .errorResponse(id: nil, error: error.error))
            #expect(String(decoding: try error.response.serialized(), as: UTF8.self)
                == #"{"error":{"code":-32600,"message":"Invalid Request: batch requests are not supported"},"id":null,"jsonrpc":"2.0"}"#)
        }
    }

    @Test func invalidRequestsWithTheirIDs() {
        let cases: [(String, RequestID?, String)] = [
            (#"{"id":1,"method":"a"}"#, .integer(1), #""jsonrpc" must be "2.0""#),
            (#"{"jsonrpc":"1.0","id":1,"method":"a"}"#, .integer(1), #""jsonrpc" must be "2.0""#),
            (#"{"jsonrpc":2.0,"id":"s","method":"a"}"#, .string("s"), #""jsonrpc" must be "2.0""#),
            (#"{"jsonrpc":"2.0","id":1,"method":5}"#, .integer(1), #""method" must be a string"#),
            (#"{"jsonrpc":"2.0","method":null}"#, nil, #""method" must be a string"#),
            (#"{"jsonrpc":"2.0","id":1,"method":"a","params":"x"}"#, .integer(1), #""params" must be an object or an array"#),
            (#"{"jsonrpc":"2.0","method":"a","params":3}"#, nil, #""params" must be an object or an array"#),
            (#"{"jsonrpc":"2.0","id":null,"method":"a"}"#, nil, #""id" must be an integer or a string, found null"#),
            (#"{"jsonrpc":"2.0","id":1.5,"method":"a"}"#, nil, #""id" must be an integer or a string, found number"#),
            (#"{"jsonrpc":"2.0","id":[1],"method":"a"}"#, nil, #""id" must be an integer or a string, found array"#),
            (#"{"jsonrpc":"2.0","id":true,"method":"a"}"#, nil, #""id" must be an integer or a string, found boolean"#),
            (#"{"jsonrpc":"2.0"}"#, nil, #"expected "method", or "id" with "result" or "error""#),
            (#"{"jsonrpc":"2.0","id":1}"#, nil, #"a response needs "result" or "error""#),
            (#"{"jsonrpc":"2.0","id":1,"result":1,"error":{"code":1,"message":"m"}}"#, nil,
             #"a response cannot have both "result" and "error""#),
            (#"{"jsonrpc":"2.0","id":null,"result":1}"#, nil, #"a response's "id" must be an integer or a string, found null"#),
            (#"{"jsonrpc":"2.0","id":{},"error":{"code":1,"message":"m"}}"#, nil,
             #"an error response's "id" must be an integer, a string or null, found object"#),
            (#"{"jsonrpc":"2.0","id":1,"error":"boom"}"#, nil, #""error" must be an object, found string"#),
            (#"{"jsonrpc":"2.0","id":1,"error":{"code":"1","message":"m"}}"#, nil, #""error.code" must be an integer"#),
            (#"{"jsonrpc":"2.0","id":1,"error":{"code":1.5,"message":"m"}}"#, nil, #""error.code" must be an integer"#),
            (#"{"jsonrpc":"2.0","id":1,"error":{"code":1}}"#, nil, #""error.message" must be a string"#),
        ]
        for (text, id, detail) in cases {
            #expect(rejection(text) == InvalidMessage(
                error: JSONRPCError(code: .invalidRequest, message: "Invalid Request: \(detail)"), id: id), "\(text)")
        }
    }

    @Test func requestIDCodable() throws {
        #expect(try JSONValueEncoder().encode([RequestID.integer(3), .string("x")]) == [3, "x"])
        #expect(try JSONValueDecoder().decode([RequestID].self, from: [3, "x"]) == [.integer(3), .string("x")])
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(RequestID.self, from: [1]) }
    }

    @Test func nonFiniteResultsCannotBeSerialised() {
        #expect(throws: JSONError.self) { try JSONRPCMessage.response(id: .integer(1), result: [.double(.nan)]).serialized() }
    }
}
