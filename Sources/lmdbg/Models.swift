import ArgumentParser
import Foundation
import ModelFiles

/// `lmdbg models`: the shipped models and whatever else is in the models folder: GGUF files and HF model
/// directories, each with its architecture.
struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the models --model can name.")

    func run() {
        let catalog = ModelCatalog()
        print("models in \(catalog.directory.path) ($LMDBG_MODELS):")
        let installed = catalog.installed()
        for entry in ModelCatalog.shipped {
            let present = installed.contains { $0.name == entry.name }
            print("  \(entry.name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(entry.summary)\(present ? "" : "  (not installed: run scripts/bootstrap)")")
        }
        let others = installed.filter { $0.name == nil }
        let width = others.map { $0.url.lastPathComponent.count + 1 }.max() ?? 0
        for other in others {
            let name = other.url.lastPathComponent + (other.isDirectory ? "/" : "")
            let kind = other.isDirectory ? "HF directory" : "GGUF"
            print("  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(kind), \(other.architecture ?? "architecture unreadable")")
        }
    }
}
