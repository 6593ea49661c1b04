import Foundation
import Testing
@testable import JSONRPC

private enum Hook: String, Codable {
    case residPre = "hook_resid_pre"
    case attnPattern = "hook_pattern"
}

private struct Breakpoint: Codable, Equatable {
    var hook: Hook
    var layer: Int
    var condition: String?
    var positions: [Int]?
}

private struct SetBreakpoints: Codable, Equatable {
    var breakpoints: [Breakpoint]
    var replace: Bool
    var extra: JSONValue?
    var scale: Double = 1
    var gain: Float = 0.1
    var labels: [String: UInt8] = [:]
}

private struct Tagged: Codable, Equatable {
    var id: RequestID
    var payload: JSONValue
}

@Suite struct CodableTests {
    let encoder = JSONValueEncoder()
    let decoder = JSONValueDecoder()

    @Test func nilOptionalsAreOmitted() throws {
        let value = try encoder.encode(Breakpoint(hook: .residPre, layer: 3))
        #expect(value == ["hook": "hook_resid_pre", "layer": 3])
    }

    @Test func nestedStructuresRoundTrip() throws {
        let original = SetBreakpoints(
            breakpoints: [Breakpoint(hook: .attnPattern, layer: 0, condition: "x > 1", positions: [1, 2]),
                          Breakpoint(hook: .residPre, layer: 11)],
            replace: true, extra: ["any": [1, "json", nil]], scale: -0.25, gain: 0.1, labels: ["a": 255])
        let encoded = try encoder.encode(original)
        #expect(try encoded.serializedString() == #"{"breakpoints":[{"condition":"x > 1","hook":"hook_pattern","layer":0,"positions":[1,2]},{"hook":"hook_resid_pre","layer":11}],"extra":{"any":[1,"json",null]},"gain":0.10000000000000001,"labels":{"a":255},"replace":true,"scale":-0.25}"#)
        #expect(try decoder.decode(SetBreakpoints.self, from: encoded) == original)
        #expect(try decoder.decode(SetBreakpoints.self, from: JSONValue(parsing: encoded.serialized())) == original)
    }

    @Test func jsonValueFieldsPassThrough() throws {
        let tagged = Tagged(id: .string("a"), payload: ["k": [1.5, true, nil]])
        let encoded = try encoder.encode(tagged)
        #expect(encoded == ["id": "a", "payload": ["k": [1.5, true, nil]]])
        #expect(try decoder.decode(Tagged.self, from: encoded) == tagged)
        #expect(try decoder.decode(Tagged.self, from: ["id": 7, "payload": nil]) == Tagged(id: .integer(7), payload: .null))
    }

    @Test func nullDecodesAsNilOptional() throws {
        let value: JSONValue = ["hook": "hook_pattern", "layer": 2, "condition": nil]
        #expect(try decoder.decode(Breakpoint.self, from: value) == Breakpoint(hook: .attnPattern, layer: 2))
    }

    @Test func numbersConvertWhenExact() throws {
        #expect(try decoder.decode(Int.self, from: .double(3)) == 3)
        #expect(try decoder.decode(Double.self, from: .integer(3)) == 3)
        #expect(try decoder.decode(Float.self, from: .double(0.5)) == 0.5)
    }

    @Test func typeMismatchNamesThePath() {
        let params: JSONValue = ["breakpoints": [["hook": 5, "layer": 1]], "replace": true]
        #expect(message(decoding: SetBreakpoints.self, from: params) == "params.breakpoints[0].hook: expected string, found integer")
    }

    @Test func missingFieldNamesTheKey() {
        let params: JSONValue = ["breakpoints": [["hook": "hook_pattern", "layer": 1], ["hook": "hook_pattern"]], "replace": true]
        #expect(message(decoding: SetBreakpoints.self, from: params) == "params.breakpoints[1].layer: required but missing")
    }

    @Test func nullForRequiredField() {
        let params: JSONValue = ["breakpoints": [], "replace": nil]
        #expect(message(decoding: SetBreakpoints.self, from: params) == "params.replace: expected boolean, found null")
    }

    @Test func wrongContainerKind() {
        #expect(message(decoding: SetBreakpoints.self, from: ["breakpoints": ["x": 1], "replace": true])
            == "params.breakpoints: expected array, found object")
        #expect(message(decoding: SetBreakpoints.self, from: [1]) == "params: expected object, found array")
    }

    @Test func outOfRangeIntegers() {
        let params: JSONValue = ["breakpoints": [], "replace": false, "scale": 1, "gain": 2, "labels": ["odd key": 256]]
        #expect(message(decoding: SetBreakpoints.self, from: params) == #"params.labels["odd key"]: 256 is out of range for UInt8"#)
        #expect(message(decoding: Breakpoint.self, from: ["hook": "hook_pattern", "layer": 1.5])
            == "params.layer: expected integer, found number")
    }

    @Test func invalidEnumValue() {
        let text = message(decoding: Breakpoint.self, from: ["hook": "hook_nope", "layer": 1])
        #expect(text.hasPrefix("params.hook: "))
        #expect(text.contains("hook_nope"))
    }

    @Test func invalidParamsError() {
        do {
            _ = try decoder.decode(Breakpoint.self, from: ["hook": 1])
            Issue.record("decoded")
        } catch {
            let rpcError = JSONRPCError.invalidParams(error)
            #expect(rpcError.code == .invalidParams)
            #expect(rpcError.message == "params.hook: expected string, found integer")
        }
    }

    @Test func nonFiniteNumbersFailToEncodeWithPath() {
        #expect {
            try encoder.encode(SetBreakpoints(breakpoints: [], replace: true, scale: .nan))
        } throws: { error in
            guard case EncodingError.invalidValue(_, let context) = error else { return false }
            return renderCodingPath(context.codingPath, root: "result") == "result.scale"
        }
        #expect(throws: EncodingError.self) { try encoder.encode([Float.infinity]) }
    }

    @Test func unsignedBeyondInt64FailsToEncode() throws {
        #expect(throws: EncodingError.self) { try encoder.encode(UInt64.max) }
        #expect(try encoder.encode(UInt64(Int64.max)) == .integer(.max))
    }

    @Test func floatsUseTheirShortestForm() throws {
        #expect(try encoder.encode(Float(0.1)) == .double(0.1))
        #expect(try encoder.encode([Float(1e-45)]) == [.double(1e-45)])
    }

    @Test func valuesThatEncodeNothingBecomeEmptyObjects() throws {
        struct Empty: Encodable { func encode(to encoder: Encoder) throws {} }
        #expect(try encoder.encode(Empty()) == [:])
    }

    @Test func superEncoderAndNestedContainers() throws {
        struct Custom: Codable, Equatable {
            var a: Int
            var b: [String]
            enum Keys: String, CodingKey { case outer, inner, list, base }
            init(a: Int, b: [String]) { (self.a, self.b) = (a, b) }
            func encode(to encoder: Encoder) throws {
                var container = encoder.container(keyedBy: Keys.self)
                var outer = container.nestedContainer(keyedBy: Keys.self, forKey: .outer)
                try outer.encode(a, forKey: .inner)
                var list = container.nestedUnkeyedContainer(forKey: .list)
                for item in b { try list.encode(item) }
                try b.count.encode(to: container.superEncoder(forKey: .base))
            }
            init(from decoder: Decoder) throws {
                let container = try decoder.container(keyedBy: Keys.self)
                a = try container.nestedContainer(keyedBy: Keys.self, forKey: .outer).decode(Int.self, forKey: .inner)
                var list = try container.nestedUnkeyedContainer(forKey: .list)
                b = []
                while !list.isAtEnd { b.append(try list.decode(String.self)) }
                #expect(try Int(from: container.superDecoder(forKey: .base)) == b.count)
            }
        }
        let value = Custom(a: 4, b: ["x", "y"])
        let encoded = try encoder.encode(value)
        #expect(encoded == ["outer": ["inner": 4], "list": ["x", "y"], "base": 2])
        #expect(try decoder.decode(Custom.self, from: encoded) == value)
    }

    @Test func jsonValueWorksWithFoundationCoders() throws {
        let text = #"{"a":[1,2.5,"s",true,null,{"b":{}}]}"#
        let value = try Foundation.JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(value == ["a": [1, 2.5, "s", true, nil, ["b": [:]]]])
        let foundationEncoder = Foundation.JSONEncoder()
        foundationEncoder.outputFormatting = .sortedKeys
        #expect(String(decoding: try foundationEncoder.encode(value), as: UTF8.self) == text)
    }

    private func message<T: Decodable>(decoding type: T.Type, from value: JSONValue) -> String {
        do {
            _ = try decoder.decode(type, from: value)
            return "decoded"
        } catch let error as DecodingError {
            return error.pathDescription(root: "params")
        } catch {
            return "\(error)"
        }
    }
}
