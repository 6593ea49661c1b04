import Foundation
import JSONRPC
import ProtocolSchema
import Testing

/// The validator itself, on small schemas, on known-invalid instances shared with Python's jsonschema,
/// and on its refusal of keywords it does not implement.
struct SchemaValidatorTests {
    func errors(_ schema: String, _ instance: String) throws -> [ValidationError] {
        try JSONSchema(try json(schema)).validate(try json(instance))
    }

    func isValid(_ schema: String, _ instance: String) throws -> Bool {
        try errors(schema, instance).isEmpty
    }

    @Test func types() throws {
        #expect(try isValid(#"{"type": "integer"}"#, "3"))
        #expect(try isValid(#"{"type": "integer"}"#, "3.0"))
        #expect(try !isValid(#"{"type": "integer"}"#, "3.5"))
        #expect(try !isValid(#"{"type": "integer"}"#, #""3""#))
        #expect(try isValid(#"{"type": "number"}"#, "3"))
        #expect(try !isValid(#"{"type": "number"}"#, "true"))
        #expect(try isValid(#"{"type": "null"}"#, "null"))
        #expect(try !isValid(#"{"type": "null"}"#, "0"))
        #expect(try isValid(#"{"type": ["string", "null"]}"#, "null"))
        #expect(try !isValid(#"{"type": ["string", "null"]}"#, "[]"))
        #expect(try !isValid(#"{"type": "object"}"#, "[]"))
        #expect(try !isValid(#"{"type": "array"}"#, "{}"))
        #expect(try !isValid(#"{"type": "boolean"}"#, "1"))
    }

    @Test func enumsAndConstants() throws {
        #expect(try isValid(#"{"enum": ["a", 1, null]}"#, "1.0"))
        #expect(try isValid(#"{"enum": ["a", 1, null]}"#, "null"))
        #expect(try !isValid(#"{"enum": ["a", 1, null]}"#, #""b""#))
        #expect(try isValid(#"{"const": {"x": [1, 2]}}"#, #"{"x": [1, 2]}"#))
        #expect(try !isValid(#"{"const": {"x": [1, 2]}}"#, #"{"x": [2, 1]}"#))
        #expect(try !isValid(#"{"const": "2.0"}"#, "2"))
    }

    @Test func bounds() throws {
        #expect(try isValid(#"{"minimum": 0, "maximum": 1}"#, "0"))
        #expect(try isValid(#"{"minimum": 0, "maximum": 1}"#, "1"))
        #expect(try !isValid(#"{"minimum": 0, "maximum": 1}"#, "-0.1"))
        #expect(try !isValid(#"{"minimum": 0, "maximum": 1}"#, "1.01"))
        #expect(try isValid(#"{"minimum": 0}"#, #""not a number, so not bounded""#))
    }

    @Test func objects() throws {
        let schema = #"{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"], "additionalProperties": false}"#
        #expect(try isValid(schema, #"{"a": 1}"#))
        #expect(try !isValid(schema, #"{}"#))
        #expect(try !isValid(schema, #"{"a": 1, "b": 2}"#))
        #expect(try !isValid(schema, #"{"a": "1"}"#))
        let open = #"{"properties": {"a": {"type": "integer"}}, "additionalProperties": {"type": "string"}}"#
        #expect(try isValid(open, #"{"a": 1, "b": "x"}"#))
        #expect(try !isValid(open, #"{"a": 1, "b": 2}"#))
        let found = try errors(schema, #"{"a": 1, "b": 2}"#)
        #expect(found.map(\.instancePath) == ["/b"])
        #expect(found.first?.message == #"the member "b" is not allowed"#)
    }

    @Test func arrays() throws {
        let schema = #"{"type": "array", "items": {"type": "string"}}"#
        #expect(try isValid(schema, "[]"))
        #expect(try isValid(schema, #"["a", "b"]"#))
        let found = try errors(schema, #"["a", 2, "c", false]"#)
        #expect(found.map(\.instancePath) == ["/1", "/3"])
    }

    @Test func oneOfAndAnyOf() throws {
        let oneOf = #"{"oneOf": [{"type": "integer"}, {"minimum": 0}]}"#
        #expect(try isValid(oneOf, "-3"))  // only the first
        #expect(try isValid(oneOf, "0.5"))  // only the second
        #expect(try !isValid(oneOf, "3"))  // both
        #expect(try !isValid(oneOf, "-0.5"))  // neither
        let anyOf = #"{"anyOf": [{"type": "integer"}, {"minimum": 0}]}"#
        #expect(try isValid(anyOf, "3"))
        #expect(try !isValid(anyOf, "-0.5"))
    }

    @Test func referencesAndBooleanSchemas() throws {
        let schema = ##"{"$defs": {"N": {"type": "integer"}, "L": {"type": "array", "items": {"$ref": "#/$defs/N"}}}, "$ref": "#/$defs/L"}"##
        #expect(try isValid(schema, "[1, 2]"))
        let found = try errors(schema, #"[1, "x"]"#)
        #expect(found.count == 1)
        #expect(found.first?.instancePath == "/1")
        #expect(found.first?.schemaPath == "#/$defs/N/type")
        #expect(try isValid("true", "{}"))
        #expect(try !isValid("false", "{}"))
        #expect(try !isValid(#"{"properties": {"a": false}}"#, #"{"a": 1}"#))
    }

    @Test func referenceCyclesEndWithAnError() throws {
        let schema = ##"{"$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"$ref": "#/$defs/A"}}, "$ref": "#/$defs/A"}"##
        let found = try errors(schema, "1")
        #expect(found.contains { $0.message.contains("cycle") })
    }

    @Test func refusesKeywordsItDoesNotImplement() throws {
        for keyword in [#""pattern": "^a""#, #""allOf": [{}]"#, #""minItems": 1"#, #""if": {}"#, #""format": "uri""#,
                        #""patternProperties": {}"#, #""exclusiveMinimum": 0"#, #""unevaluatedProperties": false"#] {
            #expect(throws: SchemaError.self, "\(keyword)") {
                try JSONSchema(try json("{\"$defs\": {\"X\": {\"type\": \"string\", \(keyword)}}}"))
            }
        }
        #expect(throws: SchemaError.unresolvedReference("#/$ref", "#/$defs/Missing")) {
            try JSONSchema(try json(##"{"$ref": "#/$defs/Missing"}"##))
        }
        #expect(throws: SchemaError.self) { try JSONSchema(try json(#"{"type": "integr"}"#)) }
        // Annotations and x- extensions are fine.
        _ = try JSONSchema(try json(#"{"title": "t", "description": "d", "default": 1, "examples": [{"pattern": 1}], "x-anything": {"allOf": 1}}"#))
    }

    /// Python's jsonschema gives the same verdicts on this file (scripts/check_protocol_schema.py --instances).
    @Test func agreesWithTheSharedInstanceFile() throws {
        let url = repositoryRoot.appendingPathComponent("Tests/LMDebugProtocolTests/Fixtures/schema-instances.json")
        guard case .array(let cases) = try parseJSON(try Data(contentsOf: url)) else {
            Issue.record("schema-instances.json is not an array")
            return
        }
        #expect(cases.count >= 40)
        var invalidSeen = 0
        for (index, item) in cases.enumerated() {
            guard case .object(let c) = item, case .string(let definition)? = c["def"], case .bool(let valid)? = c["valid"],
                  let instance = c["instance"] else {
                Issue.record("case \(index) is malformed")
                continue
            }
            let found = lmdbgProtocol.schema.validate(instance, definition: definition)
            #expect(found.isEmpty == valid, "case \(index) (\(definition), \(c["why"].map { "\($0)" } ?? "")): \(found)")
            if !valid { invalidSeen += 1 }
        }
        #expect(invalidSeen >= 25)
    }

    @Test func everySchemaExampleIsValid() throws {
        var count = 0
        for name in lmdbgProtocol.schema.definitionNames {
            for (index, example) in examples(of: name).enumerated() {
                count += 1
                let found = lmdbgProtocol.schema.validate(example, definition: name)
                #expect(found.isEmpty, "$defs/\(name)/examples/\(index): \(found)")
            }
        }
        #expect(count >= 40)
    }
}
