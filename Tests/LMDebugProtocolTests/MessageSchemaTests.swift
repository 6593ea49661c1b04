import JSONRPC
import LMDebugProtocol
import ProtocolSchema
import Testing

/// Encoded Swift messages validate against the schema; the schema's examples decode into the Swift types and
/// encode back unchanged; what the schema forbids, the Swift decoders refuse.
struct MessageSchemaTests {
    @Test func everyMessageTypeHasSamples() {
        let sampled = Set(MessageSamples.requests.map(\.typeName) + MessageSamples.notifications.map(\.typeName))
        let all = Set(ProtocolRegistry.all.map { String(describing: $0) })
        #expect(all.subtracting(sampled).sorted() == [], "message types without a sample in MessageSamples")
    }

    @Test(arguments: MessageSamples.requests)
    func requestSampleFollowsTheSchema(_ sample: RequestSample) throws {
        let entry = try #require(lmdbgProtocol.method(named: sample.method))
        let params = try sample.encodeParams()
        #expect(lmdbgProtocol.schema.validate(params, at: entry.params) == [], "params of \(sample.method): \(params)")
        let result = try sample.encodeResult()
        let resultPointer = try #require(entry.result)
        #expect(lmdbgProtocol.schema.validate(result, at: resultPointer) == [], "result of \(sample.method): \(result)")
        let roundTrips = try sample.roundTrips()
        #expect(roundTrips.params, "params of \(sample.method) do not survive encode → decode")
        #expect(roundTrips.result, "result of \(sample.method) does not survive encode → decode")

        // The whole messages, as they travel.
        let request = JSONValue.object(["jsonrpc": .string("2.0"), "id": .integer(1), "method": .string(sample.method),
                                        "params": params])
        #expect(lmdbgProtocol.schema.validate(request, definition: "RequestMessage") == [])
        let response = JSONValue.object(["jsonrpc": .string("2.0"), "id": .integer(1), "result": result])
        #expect(lmdbgProtocol.checkServerMessage(response, requestMethod: { _ in sample.method }) == [])
    }

    @Test(arguments: MessageSamples.notifications)
    func notificationSampleFollowsTheSchema(_ sample: NotificationSample) throws {
        let entry = try #require(lmdbgProtocol.method(named: sample.method))
        let params = try sample.encodeParams()
        #expect(lmdbgProtocol.schema.validate(params, at: entry.params) == [], "params of \(sample.method): \(params)")
        #expect(try sample.roundTrips(), "\(sample.method) does not survive encode → decode")
        let message = JSONValue.object(["jsonrpc": .string("2.0"), "method": .string(sample.method), "params": params])
        let problems = lmdbgProtocol.checkServerMessage(message, requestMethod: { _ in nil })
        if entry.direction == .serverToClient {
            #expect(problems == [])
        } else {
            #expect(problems.count == 1, "a client notification sent by the server must be flagged: \(problems)")
        }
    }

    /// Each example in the schema decodes into the Swift type and encodes back to the same JSON.
    @Test func schemaExamplesDecodeIntoTheSwiftTypes() throws {
        var checked = 0
        for entry in lmdbgProtocol.methods {
            let type: any MessageType.Type = try #require(
                ProtocolRegistry.requestType(forMethod: entry.method) ?? ProtocolRegistry.notificationType(forMethod: entry.method))
            for example in examples(of: entry.paramsDefinition) {
                let back = try reencode(type, example)
                #expect(back.jsonEquals(example), "\(entry.method) params: \(example) came back as \(back)")
                checked += 1
            }
            if let request = type as? any RequestType.Type, let result = entry.resultDefinition {
                for example in examples(of: result) {
                    let back = try reencodeResponse(request, example)
                    #expect(back.jsonEquals(example), "\(entry.method) result: \(example) came back as \(back)")
                    checked += 1
                }
            }
        }
        #expect(checked >= 30)
    }

    @Test func errorDataExamplesDecode() throws {
        for example in examples(of: "SessionStateErrorData") {
            #expect(try JSONValueEncoder().encode(JSONValueDecoder().decode(SessionStateErrorData.self, from: example)).jsonEquals(example))
        }
        for example in examples(of: "ExpressionErrorData") {
            #expect(try JSONValueEncoder().encode(JSONValueDecoder().decode(ExpressionErrorData.self, from: example)).jsonEquals(example))
        }
        let data = try JSONValueEncoder().encode(SessionStateErrorData(state: .running))
        #expect(lmdbgProtocol.schema.validate(data, definition: "SessionStateErrorData") == [])
    }

    /// JSON the schema rejects, which the Swift decoders must reject too.
    @Test(arguments: [
        ("model/load", #"{"name": "a", "path": "b"}"#),
        ("model/load", #"{}"#),
        ("model/load", #"{"name": "a", "workDoneToken": true}"#),
        ("tensor/read", #"{"slice": "[0]"}"#),
        ("tensor/read", #"{"hook": "a", "expression": "b"}"#),
        ("session/launch", #"{"maxNewTokens": 1}"#),
        ("debug/setExceptionBreakpoints", #"{"filters": ["nan", "boom"]}"#),
        ("debug/next", #"{"granularity": "word"}"#),
        ("patch/set", #"{"patches": [{"hook": "a", "op": "multiply"}]}"#),
        ("patch/set", #"{"patches": [{"hook": "a", "op": "zero", "positions": "some"}]}"#),
        ("patch/set", #"{"patches": [{"hook": "a", "op": "zero", "positions": [-1]}]}"#),
        ("$/progress", #"{"token": 1, "value": {"kind": "middle"}}"#),
        ("$/progress", #"{"token": 1, "value": {"kind": "begin"}}"#),
        ("debug/stopped", #"{"sessionId": 1, "reason": "crash", "positions": {"start": 0, "end": 1}, "tokenStep": 0}"#),
        ("debug/output", #"{"category": "stderr", "text": "x"}"#),
    ])
    func invalidParamsAreRejected(method: String, text: String) throws {
        let value = try json(text)
        let entry = try #require(lmdbgProtocol.method(named: method))
        #expect(lmdbgProtocol.schema.validate(value, at: entry.params) != [], "the schema should reject \(text)")
        let type: any MessageType.Type = try #require(
            ProtocolRegistry.requestType(forMethod: method) ?? ProtocolRegistry.notificationType(forMethod: method))
        #expect(throws: (any Error).self, "\(method) should not decode \(text)") { try decode(type, value) }
    }

    @Test func invalidResultsAreRejected() throws {
        for (type, text) in [(ShutdownResult.self as any Decodable.Type, "{}"),
                             (ModelInfo.self, #"{"name": "m", "path": "p", "architecture": "llama", "config": {}, "hookPoints": []}"#),
                             (HookPointInfo.self, #"{"name": "x", "shape": ["batch"]}"#),
                             (FloatValue.self, #""nan""#),
                             (EvaluateResult.self, #"{"result": "x", "type": "tensor", "value": 1, "variablesReference": 0}"#),
                             (EvaluateResult.self, #"{"result": "x", "type": "number", "value": "one", "variablesReference": 0}"#)] {
            #expect(throws: (any Error).self, "\(type) should not decode \(text)") {
                try JSONValueDecoder().decode(type, from: try json(text))
            }
        }
    }

    @Test func optionalMembersAreLeftOutNotNull() throws {
        let encoded = try JSONValueEncoder().encode(LaunchRequest(prompt: "x"))
        #expect(encoded.jsonEquals(try json(#"{"prompt": "x"}"#)))
        #expect(try JSONValueEncoder().encode(ContinueRequest()).jsonEquals(.object([:])))
        #expect(try JSONValueEncoder().encode(EmptyResult()).jsonEquals(.object([:])))
        #expect(try JSONValueEncoder().encode(ShutdownResult()) == .null)
        // A request without params is decoded from {}.
        #expect(try JSONValueDecoder().decode(StackTraceRequest.self, from: .object([:])) == StackTraceRequest())
    }

    @Test func absentParamsReadAsAnEmptyObject() throws {
        var withoutRequiredMembers = 0
        for entry in lmdbgProtocol.methods {
            let type: any MessageType.Type = try #require(
                ProtocolRegistry.requestType(forMethod: entry.method) ?? ProtocolRegistry.notificationType(forMethod: entry.method))
            let schemaAllowsEmpty = lmdbgProtocol.schema.validate(.object([:]), at: entry.params).isEmpty
            let decoded = Result { try type.decode(params: nil) }
            // The Swift type accepts absent params exactly when the schema accepts {}.
            #expect(((try? decoded.get()) != nil) == schemaAllowsEmpty, "\(entry.method)")
            if schemaAllowsEmpty { withoutRequiredMembers += 1 }
        }
        #expect(withoutRequiredMembers >= 12)
        #expect(try StackTraceRequest.decode(params: nil) == StackTraceRequest())
        #expect(try LaunchRequest(prompt: "x", maxNewTokens: 2).encodedParams()
                == .object(["prompt": "x", "maxNewTokens": 2]))
    }

    @Test func evaluatedValuesFollowTheirType() throws {
        let number = try JSONValueDecoder().decode(EvaluateResult.self, from: try json(
            #"{"result": "NaN", "type": "number", "value": "NaN", "variablesReference": 0}"#))
        guard case .number(let value)? = number.value else {
            Issue.record("a number result's \"NaN\" must decode as a number, got \(String(describing: number.value))")
            return
        }
        #expect(value.value.isNaN)
        let string = try JSONValueDecoder().decode(EvaluateResult.self, from: try json(
            #"{"result": "NaN", "type": "string", "value": "NaN", "variablesReference": 0}"#))
        #expect(string.value == .string("NaN"))
    }
}

private func decode<T: MessageType>(_ type: T.Type, _ value: JSONValue) throws -> T {
    try JSONValueDecoder().decode(T.self, from: value)
}

private func reencode<T: MessageType>(_ type: T.Type, _ value: JSONValue) throws -> JSONValue {
    try JSONValueEncoder().encode(try JSONValueDecoder().decode(T.self, from: value))
}

private func reencodeResponse<T: RequestType>(_ type: T.Type, _ value: JSONValue) throws -> JSONValue {
    try JSONValueEncoder().encode(try JSONValueDecoder().decode(T.Response.self, from: value))
}
