import ArgumentParser
import Foundation
import ModelFiles

/// `lmdbg models`: the shipped models and whatever else is in the models folder.
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
        for other in installed where other.name == nil {
            print("  \(other.url.lastPathComponent)")
        }
    }
}
