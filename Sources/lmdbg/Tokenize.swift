import ArgumentParser
import Foundation

/// `lmdbg tokenize`: a text's token ids and pieces, as JSON on stdout.
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a text's token ids and pieces as JSON.")

    @OptionGroup var model: ModelOptions

    @Argument(help: "The text to tokenize.")
    var text: String

    func run() throws {
        let lm = try model.load()
        let ids = lm.tokenizer.encode(text)
        let json: [String: Any] = ["ids": ids.map(Int.init), "pieces": ids.map(lm.tokenizer.piece)]
        let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes])
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}
