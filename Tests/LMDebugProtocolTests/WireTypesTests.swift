import Foundation
import JSONRPC
import LMDebugProtocol
import Testing

struct WireTypesTests {
    @Test func wireTensorMatchesTheDocumentedExample() throws {
        // Protocol/README.md: [[1, 2], [3, 4]] is "AACAPwAAAEAAAEBAAACAQA==".
        let tensor = WireTensor(shape: [2, 2], values: [1, 2, 3, 4])
        #expect(tensor.data == "AACAPwAAAEAAAEBAAACAQA==")
        #expect(tensor.dtype == .float32)
        #expect(try tensor.values() == [1, 2, 3, 4])
    }

    @Test func wireTensorRoundTripsSpecialValues() throws {
        let values: [Float] = [0, -0.0, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 1e-30]
        let tensor = WireTensor(shape: [values.count], values: values)
        #expect(try tensor.values().map(\.bitPattern) == values.map(\.bitPattern))
        let nan = WireTensor(shape: [], values: [.nan])
        #expect(nan.data == "AADAfw==")
        #expect(try nan.values().first?.isNaN == true)
        #expect(WireTensor(shape: [0, 3], values: []).data == "")
    }

    @Test func wireTensorRejectsBadData() {
        #expect(throws: WireTensorError.sizeMismatch(shape: [3], expectedBytes: 12, actualBytes: 8)) {
            try WireTensor(shape: [3], data: "AACAPwAAAEA=").values()
        }
        #expect(throws: WireTensorError.notBase64) { try WireTensor(shape: [1], data: "not base64!").values() }
        #expect(throws: WireTensorError.negativeDimension([-1])) { try WireTensor(shape: [-1], data: "").values() }
    }

    @Test func floatValuesCarryNonFiniteNumbersAsStrings() throws {
        let encoder = JSONValueEncoder()
        #expect(try encoder.encode(FloatValue(Double.nan)) == .string("NaN"))
        #expect(try encoder.encode(FloatValue(Double.infinity)) == .string("Infinity"))
        #expect(try encoder.encode(FloatValue(-Double.infinity)) == .string("-Infinity"))
        #expect(try encoder.encode(FloatValue(2.5)).numberValueForTest == 2.5)
        let decoder = JSONValueDecoder()
        #expect(try decoder.decode(FloatValue.self, from: .string("-Infinity")).value == -.infinity)
        #expect(try decoder.decode(FloatValue.self, from: .string("NaN")).value.isNaN)
        #expect(try decoder.decode(FloatValue.self, from: .integer(3)) == 3)
        #expect(FloatValue(Double.nan) == FloatValue(Double.nan))
        #expect(FloatValue(1) != FloatValue(Double.nan))
    }

    @Test func shapesAndPositions() throws {
        let encoder = JSONValueEncoder()
        #expect(try encoder.encode([ShapeDimension.size(9), .pos, .kpos]) == .array([.integer(9), .string("pos"), .string("kpos")]))
        #expect(try encoder.encode(PatchPositions.list([1, 2])) == .array([.integer(1), .integer(2)]))
        #expect(try encoder.encode(PatchPositions.generated) == .string("generated"))
        #expect(PositionRange(3..<5).range == 3..<5)
        #expect(PositionRange(start: 5, end: 3).range == nil)
    }

    @Test func progressCarriesItsKind() throws {
        let encoded = try JSONValueEncoder().encode(WorkDoneProgress.report(WorkDoneProgressReport(percentage: 5)))
        #expect(encoded == .object(["kind": .string("report"), "percentage": .integer(5)]))
        #expect(throws: (any Error).self) {
            try JSONValueDecoder().decode(WorkDoneProgressBegin.self, from: .object(["kind": .string("end"), "title": .string("x")]))
        }
    }

    @Test func patchKeepsItsSpec() {
        let spec = PatchSpec(hook: "blocks.1.hook_z", heads: [0], op: .zero)
        let patch = Patch(id: 4, hooks: 2, spec: spec)
        #expect(patch.positions == .all)
        #expect(patch.spec == PatchSpec(hook: "blocks.1.hook_z", positions: .all, heads: [0], op: .zero))
    }
}

extension JSONValue {
    var numberValueForTest: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }
}
