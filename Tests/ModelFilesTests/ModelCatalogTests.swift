import Foundation
import Testing
@testable import ModelFiles

struct ModelCatalogTests {
    /// A models folder holding one shipped model's file name and one other file.
    private func folder() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lmdbg-catalog-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in ["SmolLM2-135M-Instruct.Q4_1.gguf", "mine.gguf", "notes.txt"] {
            try Data("x".utf8).write(to: directory.appendingPathComponent(name))
        }
        return directory
    }

    @Test func resolvesNamesFilesStemsAndPaths() throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let catalog = ModelCatalog(environment: ["LMDBG_MODELS": directory.path])
        #expect(catalog.directory.path == directory.path)
        let smol = directory.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf")
        #expect(try catalog.resolve("smollm2").path == smol.path)
        #expect(try catalog.resolve("SmolLM2").path == smol.path)
        #expect(try catalog.resolve("mine").lastPathComponent == "mine.gguf")
        #expect(try catalog.resolve("mine.gguf").lastPathComponent == "mine.gguf")
        #expect(try catalog.resolve(smol.path).path == smol.path)
        #expect(catalog.installed().map(\.url.lastPathComponent) == ["SmolLM2-135M-Instruct.Q4_1.gguf", "mine.gguf"])
        #expect(catalog.installed().map(\.name) == ["smollm2", nil])
    }

    @Test func namesWhatIsMissing() throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let catalog = ModelCatalog(environment: ["LMDBG_MODELS": directory.path])
        #expect(throws: ModelCatalogError.self) { try catalog.resolve("gemma3") }
        do {
            _ = try catalog.resolve("gemma3")
        } catch {
            #expect("\(error)".contains("scripts/bootstrap"))
        }
        do {
            _ = try catalog.resolve("nothing-here")
        } catch {
            #expect("\(error)".contains("nothing-here"))
            #expect("\(error)".contains("smollm2, gemma3"))
        }
    }

    @Test func defaultsToTheCacheFolder() {
        let catalog = ModelCatalog(environment: ["HOME": "/home/someone"])
        #expect(catalog.directory.path == "/home/someone/.cache/lmdbg/models")
    }
}
