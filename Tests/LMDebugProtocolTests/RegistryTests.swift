import JSONRPC
import LMDebugProtocol
import ProtocolSchema
import Testing

/// The Swift message types and the schema's method table name the same methods, one type each.
struct RegistryTests {
    @Test func everySchemaMethodHasExactlyOneSwiftTypeAndViceVersa() {
        let schemaMethods = lmdbgProtocol.methods.map(\.method)
        let swiftMethods = ProtocolRegistry.all.map { $0.method }
        #expect(Set(schemaMethods).count == schemaMethods.count, "duplicate methods in the schema")
        #expect(Set(swiftMethods).count == swiftMethods.count, "two Swift types share a method: \(swiftMethods)")
        #expect(Set(swiftMethods).subtracting(schemaMethods).sorted() == [], "Swift types for methods the schema lacks")
        #expect(Set(schemaMethods).subtracting(swiftMethods).sorted() == [], "schema methods without a Swift type")
    }

    @Test func kindsDirectionsAndNamesAgree() {
        for entry in lmdbgProtocol.methods {
            switch entry.kind {
            case .request:
                guard let type = ProtocolRegistry.requestType(forMethod: entry.method) else {
                    Issue.record("\(entry.method) is a request in the schema but not in ProtocolRegistry.requests")
                    continue
                }
                #expect(String(describing: type) == entry.swiftType, "\(entry.method)")
                #expect(entry.direction == .clientToServer)
                #expect(type.direction == .clientToServer)
                #expect(String(describing: type.responseType) == entry.resultDefinition,
                        "\(entry.method): Swift result \(type.responseType), schema result \(entry.resultDefinition ?? "none")")
                #expect(ProtocolRegistry.notificationType(forMethod: entry.method) == nil)
            case .notification:
                guard let type = ProtocolRegistry.notificationType(forMethod: entry.method) else {
                    Issue.record("\(entry.method) is a notification in the schema but not in ProtocolRegistry.notifications")
                    continue
                }
                #expect(String(describing: type) == entry.swiftType, "\(entry.method)")
                #expect(type.direction.rawValue == entry.direction.rawValue, "\(entry.method)")
                #expect(ProtocolRegistry.requestType(forMethod: entry.method) == nil)
            }
        }
    }

    @Test func registryOrderFollowsTheSchema() {
        let schemaRequests = lmdbgProtocol.methods.filter { $0.kind == .request }.map(\.method)
        #expect(ProtocolRegistry.requests.map { $0.method } == schemaRequests)
    }

    @Test func unknownMethodsAreNotFound() {
        #expect(ProtocolRegistry.requestType(forMethod: "debug/teleport") == nil)
        #expect(ProtocolRegistry.notificationType(forMethod: "initialize") == nil)
        #expect(ProtocolRegistry.requestType(forMethod: "initialize").map(ObjectIdentifier.init) == ObjectIdentifier(InitializeRequest.self))
    }

    @Test func errorCodesAgree() {
        let swift = Dictionary(uniqueKeysWithValues: ProtocolErrorCode.allCases.map { ($0.rawValue, "\($0)") })
        let schema = Dictionary(uniqueKeysWithValues: lmdbgProtocol.errorCodes.map { ($0.code, $0.name) })
        #expect(Set(swift.keys) == Set(schema.keys))
        for (code, name) in schema {
            // Swift's case is the schema's name with a lower-case first letter.
            #expect(swift[code].map { $0.prefix(1).uppercased() + $0.dropFirst() } == name, "\(code)")
        }
        #expect(lmdbgProtocol.errorCodes.first { $0.code == ProtocolErrorCode.invalidSessionState.rawValue }?.data
                == "#/$defs/SessionStateErrorData")
        #expect(lmdbgProtocol.errorCodes.first { $0.code == ProtocolErrorCode.expressionError.rawValue }?.data
                == "#/$defs/ExpressionErrorData")
    }

    @Test func errorHelpersBuildSchemaValidErrors() throws {
        for code in ProtocolErrorCode.allCases {
            #expect(code.code.rawValue == Int64(code.rawValue))
        }
        #expect(JSONRPCError.Code.noModelLoaded.rawValue == -32001)
        #expect(JSONRPCError.Code.expressionError.rawValue == -32006)
        let errors = [JSONRPCError.invalidSessionState("debug/next needs a stopped run; it is running", state: .running),
                      JSONRPCError.expressionError("unexpected end", expression: "x.norm(", position: 7)]
        for error in errors {
            let response = JSONValue.object(["jsonrpc": "2.0", "id": 4, "error": .object([
                "code": .integer(error.code.rawValue), "message": .string(error.message), "data": error.data ?? .null])])
            let method = error.code == .expressionError ? "debug/evaluate" : "debug/next"
            #expect(lmdbgProtocol.checkServerMessage(response, requestMethod: { _ in method }) == [])
        }
        // The same data with a wrong shape is caught.
        let bad = JSONValue.object(["jsonrpc": "2.0", "id": 4, "error": .object([
            "code": -32003, "message": "x", "data": .object(["state": "asleep"])])])
        #expect(lmdbgProtocol.checkServerMessage(bad, requestMethod: { _ in "debug/next" }).count == 1)
        // A code the method does not list is caught.
        let unlisted = JSONValue.object(["jsonrpc": "2.0", "id": 4, "error": .object(["code": -32006, "message": "x"])])
        #expect(lmdbgProtocol.checkServerMessage(unlisted, requestMethod: { _ in "patch/list" }).count == 1)
    }

    @Test func versionsAgree() {
        #expect(lmdbgProtocolVersion == lmdbgProtocol.version)
    }
}

extension RequestType {
    static var responseType: Any.Type { Response.self }
}
