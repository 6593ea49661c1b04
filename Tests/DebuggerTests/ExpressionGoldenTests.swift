import Foundation
import Testing
import Tensors
@testable import Debugger

/// Checks the evaluator against numpy on the cases of Tests/Golden/expressions.json
/// (written by Tests/Golden/make_expressions.py).
struct ExpressionGoldenTests {
    struct Case {
        let expression: String
        let type: String
        let value: Any?
        let shape: [Int]?
        let data: [Float]?
    }

    static func tensor(_ json: Any?) -> Tensor? {
        guard let object = json as? [String: Any], let shape = object["shape"] as? [Int],
              let data = object["data"] as? [Double] else { return nil }
        return Tensor(shape: shape, data: data.map(Float.init))
    }

    static func load() throws -> (environment: FakeEnvironment, cases: [Case]) {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Golden/expressions.json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let inputs = try #require(document["inputs"] as? [String: Any])
        var environment = FakeEnvironment()
        for (name, json) in inputs { environment.variables[name] = .tensor(try #require(tensor(json))) }
        let cases = try #require(document["cases"] as? [[String: Any]]).map { json in
            let expected = tensor(json)
            return Case(expression: json["expression"] as? String ?? "", type: json["type"] as? String ?? "",
                        value: json["value"], shape: expected?.shape, data: expected?.data)
        }
        return (environment, cases)
    }

    static func close(_ actual: Double, _ expected: Double) -> Bool {
        abs(actual - expected) <= 1e-5 + 1e-5 * abs(expected)
    }

    @Test func matchesNumpy() throws {
        let (environment, cases) = try Self.load()
        #expect(cases.count >= 30)
        for golden in cases {
            let result = Result { () throws(ExpressionError) in try Expression(golden.expression).evaluate(in: environment) }
            let comment = Comment(rawValue: "\(golden.expression) → \(result)")
            switch (golden.type, result) {
            case ("error", .failure):
                break
            case ("number", .success(.number(let actual))):
                #expect(Self.close(actual, golden.value as? Double ?? .nan), comment)
            case ("bool", .success(.bool(let actual))):
                #expect(actual == golden.value as? Bool, comment)
            case ("tensor", .success(.tensor(let actual))):
                #expect(actual.shape == golden.shape, comment)
                let matches = actual.data.count == golden.data?.count
                    && zip(actual.data, golden.data ?? []).allSatisfy { Self.close(Double($0), Double($1)) }
                #expect(matches, comment)
            default:
                Issue.record("expected a \(golden.type): \(comment.rawValue)")
            }
        }
    }
}
