import Testing
import Tensors
@testable import Debugger

/// resid [3, 2]: three positions of a two-dimensional residual stream.
private let environment = FakeEnvironment([
    "resid": .tensor(Tensor(shape: [3, 2], data: [1, 2, 3, 4, 0.5, -0.5])),
    "blocks.3.hook_resid_post": .tensor(Tensor(shape: [3, 2], data: [1, 0, 0, 1, 3, 4])),
    "blocks.3": .number(-1),
    "x": .tensor(Tensor(shape: [2], data: [3, 4])),
    "y": .tensor(Tensor(shape: [2], data: [-4, 3])),
    "logits": .tensor(Tensor(shape: [2, 8], data: [0, 1, 2, 3, 4, 5, 6, 7, 9, 2, 0, 0, 8, -1, 0, 1])),
    "layer": .number(12),
    "name": .string(" Paris"),
])

private func value(_ source: String) throws -> ExpressionValue {
    try evaluate(source, in: environment)
}

private func number(_ source: String) throws -> Double? {
    if case .number(let x) = try value(source) { return x }
    return nil
}

private func tensor(_ source: String) throws -> Tensor? {
    if case .tensor(let t) = try value(source) { return t }
    return nil
}

struct ExpressionEvaluationTests {
    @Test func dottedNamesAreVariablesOrMembers() throws {
        #expect(try tensor("blocks.3.hook_resid_post")?.shape == [3, 2])
        #expect(try number("blocks.3.hook_resid_post[-1].norm()") == 5)
        #expect(try tensor("blocks.3.hook_resid_post.shape")?.data == [3, 2])
        #expect(try number("blocks.3 + 1") == 0)
        #expect(try number("x.norm()") == 5)
        #expect(try number("x . norm ( )") == 5)
        #expect(try number("resid.T.shape[0]") == 2)
        #expect(try number("resid.ndim + resid.size") == 8)
    }

    @Test func unknownNamesSuggestTheIntendedOne() {
        #expect(failure("resdi[0]", in: environment)?.message == "unknown variable 'resdi' at column 1; did you mean 'resid'?")
        #expect(failure("nrm(x)", in: environment)?.message == "unknown function 'nrm' at column 1; did you mean 'norm'?")
        #expect(failure("x.nrm()", in: environment)?.message == "unknown method 'nrm' at column 3; did you mean 'norm'?")
        #expect(failure("1 + x.norm", in: environment)?.message == "unknown variable 'x.norm' at column 5; did you mean 'x.norm()'?")
        #expect(failure("x.shap", in: environment)?.message == "'x' has no property 'shap' at column 1; did you mean 'shape'?")
        #expect(failure("norm(x, axs=0)", in: environment)?.message == "norm has no parameter 'axs' at column 9; did you mean 'axis'?")
        #expect(failure("norm()", in: environment)?.message == "norm needs 'x' at column 1; usage: norm(x, axis=…)")
        #expect(failure("abs(x, 1)", in: environment)?.message == "abs takes at most 1 argument at column 8; usage: abs(x)")
        #expect(failure("norm(x, x=x)", in: environment)?.message == "norm got 'x' twice at column 9")
    }

    @Test func indexingErrorsPointAtTheIndex() {
        #expect(failure("resid[3]", in: environment)?.message == "index 3 is out of range for axis 0 with size 3 at column 7")
        #expect(failure("resid[0, -3]", in: environment)?.message == "index -3 is out of range for axis 1 with size 2 at column 10")
        #expect(failure("resid[0, 0, 0]", in: environment)?.message == "too many indices: 3 for a tensor of rank 2 at column 6")
        #expect(failure("resid[0.5]", in: environment)?.message == "index must be an integer, not 0.5 at column 7")
        #expect(failure("resid[::0]", in: environment)?.message == "slice step cannot be zero at column 9")
        #expect(failure("resid[..., ...]", in: environment)?.message == "an index can hold only one '...' at column 6")
        #expect(failure("layer[0]", in: environment)?.message == "a number cannot be indexed at column 6")
    }

    @Test func broadcasting() throws {
        #expect(try tensor("resid + x")?.data == [4, 6, 6, 8, 3.5, 3.5])
        #expect(try tensor("resid * 2 - 1")?.data == [1, 3, 5, 7, 0, -2])
        #expect(try tensor("resid[:, :1] * x") == Tensor(shape: [3, 2], data: [3, 4, 9, 12, 1.5, 2]))
        #expect(try tensor("1 / x")?.data == [1.0 / 3, 0.25])
        #expect(try tensor("x ** 2")?.data == [9, 16])
        #expect(try tensor("-x")?.data == [-3, -4])
        let error = failure("resid + logits", in: environment)
        #expect(error?.message == "shapes [3, 2] and [2, 8] cannot be broadcast together at column 7")
        #expect(failure("x + name", in: environment)?.message
            == "'+' cannot combine a tensor of shape [2] and a string at column 3")
    }

    @Test func scalarsStayDoubles() throws {
        #expect(try number("0.1 + 0.2") == 0.1 + 0.2)
        #expect(try number("7 % -3") == -2)
        #expect(try number("2 ** 0.5") == 2.0.squareRoot())
        #expect(try number("true + true") == 2)
        #expect(try number("nan")?.isNaN == true)
        #expect(try number("-inf") == -.infinity)
    }

    @Test func reductions() throws {
        #expect(try number("sum(resid)") == 10)
        #expect(try number("mean(resid)") == 10.0 / 6)
        #expect(try tensor("sum(resid, axis=0)")?.data == [4.5, 5.5])
        #expect(try tensor("resid.max(axis=-1)")?.data == [2, 4, 0.5])
        #expect(try number("resid.min()") == -0.5)
        #expect(try tensor("norm(blocks.3.hook_resid_post, axis=1)")?.data == [1, 1, 5])
        #expect(try number("std(x)") == 0.5)
        #expect(try number("sum(x, axis=0)") == 7)
        #expect(failure("sum(resid, axis=2)", in: environment)?.message
            == "axis 2 is out of range for a tensor of rank 2 at column 12")
        #expect(failure("max(resid[:0])", in: environment)?.message == "max of an empty tensor at column 1")
        #expect(try number("sum(resid[:0])") == 0)
    }

    @Test func argmaxAndTopk() throws {
        #expect(try number("argmax(logits)") == 8)
        #expect(try tensor("argmax(logits, axis=-1)")?.data == [7, 0])
        #expect(try number("logits[1].argmin()") == 5)
        #expect(try number("argmax(x - nan)") == 0)
        guard case .tokens(let rows) = try value("topk(logits[-1], 3)") else {
            Issue.record("topk of a vocabulary-sized vector is a token table")
            return
        }
        #expect(rows == [TokenScore(token: 0, piece: " Paris", score: 9),
                         TokenScore(token: 4, piece: " France", score: 8),
                         TokenScore(token: 1, piece: " the", score: 2)])
        #expect(try value("topk(logits[-1], k=2)").description == "' Paris' 9, ' France' 8")
        #expect(try tensor("topk(logits[1], 3).indices")?.data == [0, 4, 1])
        #expect(try tensor("topk(logits[1], 3).values")?.data == [9, 8, 2])
        #expect(try value("topk(x, 1)").description == "#1 4")
        #expect(failure("topk(logits[0], 100)", in: environment)?.message == "k must be between 1 and 8, not 100 at column 17")
        #expect(failure("topk(logits, 2)", in: environment)?.message
            == "topk needs a vector for 'x', not a tensor of shape [2, 8] at column 6; index a row first, e.g. x[-1]")
        #expect(try value("topk(logits[0], 2)[1]").description == "'\\n' 6")
    }

    @Test func topkOfALongVectorMatchesSorting() throws {
        let data = (0..<1000).map { Float(($0 * 7919) % 1000) / 10 }
        let environment = FakeEnvironment(["v": .tensor(Tensor(shape: [1000], data: data))])
        let expected = data.indices.sorted { data[$0] > data[$1] }.prefix(100).map(Float.init)
        #expect(try evaluate("topk(v, 100).indices", in: environment) == .tensor(Tensor(shape: [100], data: expected)))
    }

    @Test func dotAndCosine() throws {
        #expect(try number("dot(x, y)") == 0)
        #expect(try number("x @ x") == 25)
        #expect(try number("cos(x, y)") == 0)
        #expect(try number("cos(x, x * 3)").map { abs($0 - 1) < 1e-6 } == true)
        #expect(try tensor("cos(blocks.3.hook_resid_post, x)").map { $0.data.map { ($0 * 1000).rounded() / 1000 } }
            == [0.6, 0.8, 1])
        #expect(try tensor("resid @ x")?.data == [11, 25, -0.5])
        #expect(failure("cos(resid, logits)", in: environment)?.message
            == "cos needs vectors of the same length, not shapes [3, 2] and [2, 8] at column 1")
        #expect(failure("x @ 2", in: environment)?.message
            == "'@' needs two tensors, not a tensor of shape [2] and a number at column 3; use '*' to scale")
        #expect(failure("logits @ resid", in: environment)?.message
            == "'@' needs matching inner dimensions, got [2, 8] @ [3, 2] at column 8")
    }

    @Test func breakpointConditions() throws {
        let condition = try Expression("x.norm() > 100 and layer >= 10")
        #expect(try condition.evaluateCondition(in: environment) == false)
        #expect(try Expression("x.norm() > 4 and layer >= 10").evaluateCondition(in: environment))
        #expect(try Expression("x.norm() > 4 and layer >= 13").evaluateCondition(in: environment) == false)
        #expect(try Expression("layer < 3 or 0 < x[0] < 5").evaluateCondition(in: environment))
        #expect(try Expression("not (layer == 12)").evaluateCondition(in: environment) == false)
        #expect(try Expression("any(isnan(resid)) or all(resid > 0)").evaluateCondition(in: environment) == false)
        #expect(try Expression("token(argmax(logits[-1])) == ' Paris'").evaluateCondition(in: environment))
        #expect(try Expression("name != ' London'").evaluateCondition(in: environment))
        #expect(try Expression("resid[0, 0]").evaluateCondition(in: environment))
        let ambiguous = #expect(throws: ExpressionError.self) { try Expression("resid > 0").evaluateCondition(in: environment) }
        #expect(ambiguous?.message == "a condition needs a single truth value, not a tensor of shape [3, 2] at column 1; use any(…) or all(…)")
    }

    @Test func logicOnTensorsIsElementwise() throws {
        #expect(try tensor("resid > 1")?.data == [0, 1, 1, 1, 0, 0])
        #expect(try tensor("resid > 1 and resid < 4")?.data == [0, 1, 1, 0, 0, 0])
        #expect(try tensor("resid < 1 or resid == 4")?.data == [0, 0, 0, 1, 1, 1])
        #expect(try tensor("not resid > 1")?.data == [1, 0, 0, 0, 1, 1])
        #expect(try tensor("0 < resid <= 3")?.data == [1, 1, 1, 0, 1, 0])
        #expect(try value("false and resid") == .bool(false))
        #expect(try value("layer and x > 3")  == .tensor(Tensor(shape: [2], data: [0, 1])))
    }

    @Test func shortCircuitSkipsTheRightOperand() throws {
        #expect(try value("layer > 20 and missing > 0") == .bool(false))
        #expect(try value("layer > 0 or missing > 0") == .bool(true))
        #expect(failure("layer > 0 and missing > 0", in: environment)?.position == 14)
    }

    @Test func elementwiseFunctions() throws {
        #expect(try tensor("abs(y)")?.data == [4, 3])
        #expect(try tensor("sqrt(x * x)")?.data == [3, 4])
        #expect(try number("exp(0) + log(1)") == 1)
        #expect(try tensor("isinf(x / 0)")?.data == [1, 1])
        #expect(try value("isnan(nan)") == .bool(true))
        let probabilities = try #require(try tensor("softmax(logits)"))
        #expect(abs(probabilities.data[..<8].reduce(0, +) - 1) < 1e-6)
        #expect(try tensor("softmax(x + log(x > 3))")?.data == [0, 1])
        #expect(try tensor("shape(logits)")?.data == [2, 8])
        #expect(try number("len(resid) + len(name)") == 9)
    }

    @Test func lensAndTokensGoThroughTheEnvironment() throws {
        guard case .tokens(let rows) = try value("lens(x, k=2)") else {
            Issue.record("lens gives a token table")
            return
        }
        #expect(rows.map(\.token) == [2, 1])
        #expect(try value("lens(blocks.3.hook_resid_post[0], 3)").description == "' Paris' 0.255, ' France' 0.209, ' the' 0.154")
        #expect(try value("len(lens(x))") == .number(8))
        #expect(failure("lens(resid)", in: environment)?.message
            == "lens needs a vector for 'x', not a tensor of shape [3, 2] at column 6; index a row first, e.g. x[-1]")
        #expect(failure("lens(logits[0])", in: environment)?.message
            == "lens failed: expected a vector of 2, got 8 at column 1")
        #expect(try value("token(4)") == .string(" France"))
        #expect(try value("tokens(topk(logits[1], 2))") == .string(" Paris France"))
        #expect(try value("tokens(argmax(logits, axis=1))") == .string(" is Paris"))
        #expect(failure("token(99)", in: environment)?.message == "token 99 is outside the vocabulary at column 7")
    }

    @Test func descriptions() throws {
        #expect(ExpressionValue.number(12).description == "12")
        #expect(ExpressionValue.number(3.14159265).description == "3.14159")
        #expect(ExpressionValue.number(1e-7).description == "1e-07")
        #expect(ExpressionValue.bool(true).description == "true")
        #expect(ExpressionValue.string("it's\n").description == "'it\\'s\\n'")
        #expect(try value("x").description == "[3, 4]")
        #expect(try value("resid[:2]").description == "[[1, 2], [3, 4]]")
        #expect(try value("resid[:, :0]").description == "tensor[3, 0] (empty)")
        #expect(try value("logits").description == "tensor[2, 8] norm=17.1 mean=2.94 min=-1 max=9")
        #expect(try value("logits / (logits > 8)").description == "tensor[2, 8] norm=9 mean=9 min=9 max=9 nan=4 inf=11")
        let table = ExpressionValue.tokens((0..<12).map { TokenScore(token: $0, piece: "t\($0)", score: 0.5) })
        #expect(table.description.hasSuffix("'t9' 0.5, …"))
        #expect(table.kind == .tokens)
    }
}
