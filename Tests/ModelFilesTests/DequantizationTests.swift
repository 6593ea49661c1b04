import Foundation
import Testing
@testable import ModelFiles

/// One golden file written by scripts/make_dequant_references.py.
struct DequantReference: Decodable {
    struct Sample: Decodable {
        let bytes: String
        let values: [String]
    }
    struct RealSample: Decodable {
        let model: String
        let tensor: String
        let values: [String]
    }
    let type: String
    let random: Sample
    let real: RealSample?

    static func load(_ type: String) throws -> DequantReference {
        let data = try Data(contentsOf: Paths.goldenDequant.appendingPathComponent("\(type).json"))
        return try JSONDecoder().decode(DequantReference.self, from: data)
    }

    /// The expected float32 bit patterns.
    static func bits(_ hex: [String]) -> [UInt32] { hex.map { UInt32($0, radix: 16)! } }
}

let dequantTypes: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K]

func dequantizedBits(_ type: GGMLType, _ raw: [UInt8], count: Int) throws -> [UInt32] {
    var output = [Float](repeating: .nan, count: count)
    try raw.withUnsafeBytes { source in
        try output.withUnsafeMutableBufferPointer { try type.dequantize(source, into: $0) }
    }
    return output.map(\.bitPattern)
}

/// Index and values of the first difference, for a readable failure.
func firstDifference(_ actual: [UInt32], _ expected: [UInt32]) -> String {
    guard actual.count == expected.count else { return "\(actual.count) values, expected \(expected.count)" }
    guard let i = actual.indices.first(where: { actual[$0] != expected[$0] }) else { return "equal" }
    return "element \(i): \(Float(bitPattern: actual[i])) (\(String(actual[i], radix: 16))), expected \(Float(bitPattern: expected[i])) (\(String(expected[i], radix: 16)))"
}

@Suite struct DequantizationTests {
    @Test(arguments: dequantTypes)
    func randomBlocksMatchGGUFPy(type: GGMLType) throws {
        let reference = try DequantReference.load(type.name)
        let expected = DequantReference.bits(reference.random.values)
        let actual = try dequantizedBits(type, bytes(hex: reference.random.bytes), count: expected.count)
        #expect(actual == expected, "\(type.name): \(firstDifference(actual, expected))")
    }

    @Test(arguments: dequantTypes)
    func realTensorBlocksMatchGGUFPy(type: GGMLType) throws {
        let reference = try DequantReference.load(type.name)
        guard let real = reference.real else { return }
        let url = Paths.models.appendingPathComponent(real.model)
        guard Paths.exists(url) else { return }
        let file = try GGUFFile(contentsOf: url)
        let info = try #require(file.tensorInfo(named: real.tensor))
        #expect(info.type == type)
        let expected = DequantReference.bits(real.values)
        let byteCount = expected.count / type.blockSize * type.bytesPerBlock
        let raw = Array(file.rawBytes(of: info)[0..<byteCount])
        let actual = try dequantizedBits(type, raw, count: expected.count)
        #expect(actual == expected, "\(real.tensor): \(firstDifference(actual, expected))")
    }

    @Test func halfConversionIsExact() {
        // Every finite half converts exactly: compare with the runtime's own Float16 conversion.
        for bits in UInt16.min...UInt16.max where (bits >> 10) & 0x1F != 0x1F {
            #expect(floatFromHalf(bits) == Float(Float16(bitPattern: bits)), "half bits \(bits)")
        }
        #expect(floatFromHalf(0x7C00) == .infinity)
        #expect(floatFromHalf(0xFC00) == -.infinity)
        #expect(floatFromHalf(0x8000).bitPattern == 0x8000_0000)
        #expect(floatFromHalf(0x7E01).bitPattern == 0x7FC0_2000)
    }

    @Test func unsupportedTypeThrows() {
        let error = modelFileError {
            _ = try dequantizedBits(.iq2_XXS, [UInt8](repeating: 0, count: GGMLType.iq2_XXS.bytesPerBlock), count: 256)
        }
        #expect(error == .unsupportedTensorType(tensor: nil, type: "IQ2_XXS (id 16)"))
    }
}
