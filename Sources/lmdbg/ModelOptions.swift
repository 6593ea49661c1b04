import ArgumentParser
import Foundation
import ModelFiles
import Tensors
import Transformer

/// `--model` and `--threads`, shared by every subcommand that runs the engine.
struct ModelOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "A shipped model's name (smollm2, gemma3), a file in $LMDBG_MODELS, or a path.")
    var model = "smollm2"

    @Option(help: "Threads the engine computes on.")
    var threads = 2

    /// The model file's (or HF directory's) path.
    func resolvedPath() throws -> String {
        do {
            return try ModelCatalog().resolve(model).path
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// Resolves and loads the model, reporting progress on stderr.
    func load() throws -> LanguageModel {
        Threads.count = threads
        let url = URL(fileURLWithPath: try resolvedPath())
        let progress = StderrProgress(title: "loading \(url.lastPathComponent)")
        do {
            let model = try LanguageModel.load(url, progress: progress.report)
            progress.finish()
            return model
        } catch {
            progress.abandon()
            throw CLIError("cannot load \(url.path): \(error)")
        }
    }
}

/// An error the CLI reports as one line on stderr, exiting with status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
