import Foundation
import Testing
import Tensors
@testable import Debugger

struct ExpressionLimitTests {
    @Test func hugeOuterProductIsRefusedBeforeAllocating() throws {
        let environment = FakeEnvironment([
            "column": .tensor(Tensor(zeros: [10_000, 1])),
            "row": .tensor(Tensor(zeros: [10_000])),
        ])
        #expect(failure("sum(column * row)", in: environment)?.message
            == "result of shape [10000, 10000] exceeds the limit of 67108864 elements at column 12")
        #expect(failure("column @ column.T", in: environment)?.message
            == "result of shape [10000, 10000] exceeds the limit of 67108864 elements at column 8")
        #expect(try evaluate("sum(column * row[:1000])", in: environment) == .number(0))
    }

    @Test func expensiveProductRunsOutOfSteps() {
        let environment = FakeEnvironment(["a": .tensor(Tensor(zeros: [2048, 2048]))])
        #expect(failure("a @ a", in: environment)?.message == "evaluation needs more than 1073741824 steps at column 3")
    }

    @Test func stepBudgetCoversEveryOperation() throws {
        let environment = FakeEnvironment(["x": .tensor(.iota([1000]))])
        // Each node costs 1, each element made or reduced costs 1: `sum(x + x)` costs 4 + 1000 + 1000,
        // `x + x + x` costs 5 + 1000 + 1000.
        let limits = ExpressionLimits(maximumSteps: 2004)
        #expect(try Expression("sum(x + x)", limits: limits).evaluate(in: environment) == .number(999_000))
        let error = #expect(throws: ExpressionError.self) {
            try Expression("x + x + x", limits: limits).evaluate(in: environment)
        }
        #expect(error?.message == "evaluation needs more than 2004 steps at column 7")
    }

    @Test func deeplyNestedParenthesesAreAnError() throws {
        let error = failure(String(repeating: "(", count: 100) + "1" + String(repeating: ")", count: 100))
        #expect(error?.message == "expression is nested too deeply (more than 64 levels) at column 65")
        #expect(try Expression(String(repeating: "(", count: 60) + "1" + String(repeating: ")", count: 60))
            .evaluate(in: FakeEnvironment()) == .number(1))
        #expect(failure(String(repeating: "-", count: 3000) + "1")?.message.hasPrefix("expression is nested too deeply") == true)
        #expect(failure(String(repeating: "x[", count: 500) + "0" + String(repeating: "]", count: 500)) != nil)
    }

    @Test func longOperatorChainsAreBoundedToo() throws {
        let chain = Array(repeating: "1", count: 200).joined(separator: " + ")
        #expect(failure(chain)?.message.hasPrefix("expression is nested too deeply") == true)
        #expect(try evaluate(Array(repeating: "1", count: 50).joined(separator: " + ")) == .number(50))
    }

    @Test func overlongExpressionIsAnError() {
        let source = "x + " + String(repeating: " ", count: 10_000) + "1"
        #expect(failure(source)?.message == "expression is too long (10005 characters; the limit is 4096) at column 4097")
    }

    /// The deepest source of each shape that the parser accepts, for the nesting limit of 64.
    static func deepest(_ make: (Int) -> String) -> String {
        var depth = 1
        while (try? Expression(make(depth + 1))) != nil { depth += 1 }
        return make(depth)
    }

    /// Parses and evaluates each source on a new thread with a stack of `kibibytes`; the errors, or nil.
    static func evaluateOnThread(_ sources: [String], stack kibibytes: Int) -> [String?] {
        let environment = FakeEnvironment(["x": .tensor(Tensor(zeros: [1]))])
        let finished = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var errors: [String?] = []
        let thread = Thread {
            for source in sources {
                do {
                    _ = try Expression(source).evaluate(in: environment)
                    errors.append(nil)
                } catch {
                    errors.append("\(error)")
                }
            }
            finished.signal()
        }
        thread.stackSize = kibibytes * 1024
        thread.start()
        finished.wait()
        return errors
    }

    @Test func deepExpressionsNeverOverflowTheStack() throws {
        let sources = [
            Self.deepest { String(repeating: "abs(", count: $0) + "x" + String(repeating: ")", count: $0) },
            Self.deepest { String(repeating: "x[", count: $0) + "0" + String(repeating: "]", count: $0) },
            Self.deepest { String(repeating: "-(", count: $0) + "1" + String(repeating: ")", count: $0) },
            Self.deepest { "x" + String(repeating: ".abs()", count: $0) },
            Self.deepest { Array(repeating: "x", count: $0).joined(separator: " ** ") },
        ]
        for source in sources { #expect(source.count > 60, "\(source)") }
        // A roomy stack evaluates all of them.
        #expect(Self.evaluateOnThread(sources, stack: 4096).allSatisfy { $0 == nil })
        // A small one (debug builds need about 12 KiB per level) turns the deepest into errors, not crashes.
        for error in Self.evaluateOnThread(sources, stack: 256) {
            #expect(error == nil || error!.contains("nested too deeply for this thread's stack"), "\(error ?? "")")
        }
    }

    @Test func oddMembersAndStepsAreErrorsNotCrashes() throws {
        let environment = FakeEnvironment(["x": .tensor(.iota([4, 3]))])
        #expect(failure("x[0].foo", in: environment)?.message == "unknown property 'foo' at column 6")
        #expect(failure("x[0].norm", in: environment)?.message == "unknown property 'norm' at column 6; did you mean 'norm()'?")
        #expect(try evaluate("x[::10 ** 14, ::-10 ** 14]", in: environment) == .tensor(Tensor(shape: [1, 1], data: [2])))
        #expect(try evaluate("x[10 ** 14:, -10 ** 14:1]", in: environment) == .tensor(Tensor(shape: [0, 1], data: [])))
    }
}
