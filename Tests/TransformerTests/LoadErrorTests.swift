import Foundation
import Testing
@testable import Transformer

/// Files the engine cannot run are refused with an error that names why.
struct LoadErrorTests {
    /// A GGUF file with no tensors and one metadata entry, `general.architecture` = `architecture`.
    static func ggufNaming(_ architecture: String) throws -> URL {
        var bytes = Array("GGUF".utf8)
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        func append(_ string: String) {
            append(UInt64(string.utf8.count))
            bytes += string.utf8
        }
        append(UInt32(3))  // version
        append(UInt64(0))  // tensors
        append(UInt64(1))  // metadata entries
        append("general.architecture")
        append(UInt32(8))  // string
        append(architecture)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lmdbg-\(architecture)-\(UUID()).gguf")
        try Data(bytes).write(to: url)
        return url
    }

    @Test func otherArchitecturesAreRejectedByName() throws {
        let url = try Self.ggufNaming("mamba")
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: TransformerError.unsupportedArchitecture("mamba")) { try LanguageModel.load(url) }
        let description = TransformerError.unsupportedArchitecture("mamba").description
        #expect(description.contains("'mamba'") && description.contains("llama, gemma3"))
    }
}
