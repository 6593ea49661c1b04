import Foundation

/// Where models live and the short names they go by.
///
/// `scripts/bootstrap` fetches the shipped models into `$LMDBG_MODELS` (default `~/.cache/lmdbg/models`);
/// `--model NAME|PATH` accepts one of `ModelCatalog.shipped`'s names, a file name in that folder (with or
/// without `.gguf`), or a path.
public struct ModelCatalog: Sendable {
    /// A model the bootstrap fetches.
    public struct Entry: Sendable {
        public let name: String
        public let fileName: String
        public let summary: String
    }

    public static let shipped: [Entry] = [
        Entry(name: "smollm2", fileName: "SmolLM2-135M-Instruct.Q4_1.gguf", summary: "SmolLM2-135M-Instruct, Q4_1 (llama)"),
        Entry(name: "gemma3", fileName: "gemma-3-270m-q4_k_m.gguf", summary: "Gemma-3-270M, Q4_K_M (gemma3)"),
    ]

    public let directory: URL

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let custom = environment["LMDBG_MODELS"], !custom.isEmpty {
            directory = URL(fileURLWithPath: custom)
        } else {
            let home = environment["HOME"] ?? NSHomeDirectory()
            directory = URL(fileURLWithPath: home).appendingPathComponent(".cache/lmdbg/models")
        }
    }

    /// The file a `--model` argument names; throws when it names nothing that exists.
    public func resolve(_ nameOrPath: String) throws -> URL {
        if let entry = Self.shipped.first(where: { $0.name == nameOrPath.lowercased() }) {
            let url = directory.appendingPathComponent(entry.fileName)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw ModelCatalogError.notBootstrapped(name: entry.name, expected: url.path)
            }
            return url
        }
        let inFolder = [nameOrPath, nameOrPath + ".gguf"].map(directory.appendingPathComponent)
        for candidate in [URL(fileURLWithPath: nameOrPath)] + inFolder
        where FileManager.default.fileExists(atPath: candidate.path) {
            return candidate
        }
        throw ModelCatalogError.unknown(nameOrPath, known: Self.shipped.map(\.name), directory: directory.path)
    }

    /// Every model file in the models folder, with its short name when it has one.
    public func installed() -> [(name: String?, url: URL)] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.sorted().filter { $0.hasSuffix(".gguf") || $0.hasSuffix(".safetensors") }.map { file in
            (Self.shipped.first { $0.fileName == file }?.name, directory.appendingPathComponent(file))
        }
    }
}

public enum ModelCatalogError: Error, CustomStringConvertible {
    case notBootstrapped(name: String, expected: String)
    case unknown(String, known: [String], directory: String)

    public var description: String {
        switch self {
        case .notBootstrapped(let name, let expected):
            "model '\(name)' is not installed at \(expected); run scripts/bootstrap (or `make demo`) first"
        case .unknown(let name, let known, let directory):
            "no model named '\(name)': not a file, not in \(directory), and not one of \(known.joined(separator: ", "))"
        }
    }
}
