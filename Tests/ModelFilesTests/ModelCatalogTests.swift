import Foundation
import Testing
@testable import ModelFiles

struct ModelCatalogTests {
    /// A models folder holding one shipped model's file name, a GGUF file of architecture gpt2, a text
    /// file, two HF model directories (one sharded) and a directory that is no model.
    private func folder() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lmdbg-catalog-\(UUID())")
        func write(_ contents: [UInt8], _ path: String) throws {
            let url = directory.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(contents).write(to: url)
        }
        for name in ["SmolLM2-135M-Instruct.Q4_1.gguf", "notes.txt", "vocab/ggml-vocab-gpt-2.gguf.inp"] {
            try write(Array("x".utf8), name)
        }
        var gguf = GGUFBuilder()
        gguf.metadata = [("general.architecture", .string("gpt2"))]
        try write(gguf.build().bytes, "mine.gguf")
        try write(Array(#"{"model_type": "gpt2"}"#.utf8), "tiny-gpt2/config.json")
        try write(Array("x".utf8), "tiny-gpt2/model.safetensors")
        try write(Array(#"{"model_type": "llama"}"#.utf8), "sharded/config.json")
        try write(Array("{}".utf8), "sharded/model.safetensors.index.json")
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
        #expect(catalog.installed().map(\.url.lastPathComponent)
                == ["SmolLM2-135M-Instruct.Q4_1.gguf", "mine.gguf", "sharded", "tiny-gpt2"])
        #expect(catalog.installed().map(\.name) == ["smollm2", nil, nil, nil])
    }

    @Test func findsHuggingFaceDirectoriesWithTheirArchitecture() throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let catalog = ModelCatalog(environment: ["LMDBG_MODELS": directory.path])
        #expect(try catalog.resolve("tiny-gpt2").path == directory.appendingPathComponent("tiny-gpt2").path)
        #expect(try catalog.resolve("sharded").lastPathComponent == "sharded")
        let installed = catalog.installed()
        #expect(installed.map(\.isDirectory) == [false, false, true, true])
        // The shipped name's file here is not a GGUF, so its architecture cannot be read.
        #expect(installed.map(\.architecture) == [nil, "gpt2", "llama", "gpt2"])
        #expect(ModelCatalog.isHuggingFaceModel(directory.appendingPathComponent("tiny-gpt2")))
        #expect(!ModelCatalog.isHuggingFaceModel(directory.appendingPathComponent("vocab")))
        #expect(!ModelCatalog.isHuggingFaceModel(directory.appendingPathComponent("mine.gguf")))
    }

    @Test func aDirectoryWithoutAModelIsNamed() throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let catalog = ModelCatalog(environment: ["LMDBG_MODELS": directory.path])
        let vocab = directory.appendingPathComponent("vocab").path
        #expect(throws: ModelCatalogError.self) { try catalog.resolve("vocab") }
        do {
            _ = try catalog.resolve("vocab")
        } catch {
            #expect("\(error)".contains(vocab) && "\(error)".contains("config.json"))
        }
        #expect(throws: ModelCatalogError.self) { try catalog.resolve(vocab) }
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
