import Foundation
import ModelFiles

/// Repository and model locations for the tests.
enum Paths {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let goldenDequant = repository.appendingPathComponent("Tests/Golden/dequant")
    static let models = ModelCatalog().directory
    static let smolLM2 = models.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf")
    static let gemma3 = models.appendingPathComponent("gemma-3-270m-q4_k_m.gguf")

    static func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }
}

/// Bytes from a hex string.
func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}

/// The error `body` throws as a `ModelFileError`, or nil when it throws nothing (or something else).
func modelFileError(_ body: () throws -> Void) -> ModelFileError? {
    do {
        try body()
        return nil
    } catch let error as ModelFileError {
        return error
    } catch {
        return nil
    }
}

/// A scratch file in a fresh temporary directory.
func temporaryFile(_ name: String, contents: [UInt8]) throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lmdbg-modelfiles-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let url = directory.appendingPathComponent(name)
    try Data(contents).write(to: url)
    return url
}
