import Foundation

/// Where models live and the short names they go by.
///
/// `scripts/bootstrap` fetches the shipped models into `$LMDBG_MODELS` (default `~/.cache/lmdbg/models`);
/// `--model NAME|PATH` accepts one of `ModelCatalog.shipped`'s names, a GGUF file name in that folder (with
/// or without `.gguf`), the name of an HF model directory there, or a path.
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

    /// A model found in the models folder.
    public struct InstalledModel: Sendable, Equatable {
        /// The short name of a shipped model.
        public let name: String?
        public let url: URL
        /// An HF directory (config.json and safetensors weights) rather than a GGUF file.
        public let isDirectory: Bool
        /// The GGUF's `general.architecture` or config.json's `model_type`; nil when unreadable.
        public let architecture: String?
    }

    /// The file or HF directory a `--model` argument names; throws when it names nothing that exists, or a
    /// directory that holds no HF model.
    public func resolve(_ nameOrPath: String) throws -> URL {
        if let entry = Self.shipped.first(where: { $0.name == nameOrPath.lowercased() }) {
            let url = directory.appendingPathComponent(entry.fileName)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw ModelCatalogError.notBootstrapped(name: entry.name, expected: url.path)
            }
            return url
        }
        let inFolder = [nameOrPath, nameOrPath + ".gguf"].map(directory.appendingPathComponent)
        var otherDirectory: URL?
        for candidate in [URL(fileURLWithPath: nameOrPath)] + inFolder {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory) else { continue }
            if !isDirectory.boolValue || Self.isHuggingFaceModel(candidate) { return candidate }
            otherDirectory = otherDirectory ?? candidate
        }
        if let otherDirectory { throw ModelCatalogError.notAModelDirectory(otherDirectory.path) }
        throw ModelCatalogError.unknown(nameOrPath, known: Self.shipped.map(\.name), directory: directory.path)
    }

    /// The GGUF files and HF model directories in the models folder, sorted by name.
    public func installed() -> [InstalledModel] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return entries.sorted().compactMap { entry in
            let url = directory.appendingPathComponent(entry)
            if entry.hasSuffix(".gguf") {
                return InstalledModel(name: Self.shipped.first { $0.fileName == entry }?.name, url: url, isDirectory: false,
                                      architecture: try? GGUFFile(contentsOf: url).string(forKey: "general.architecture"))
            }
            guard Self.isHuggingFaceModel(url) else { return nil }
            return InstalledModel(name: nil, url: url, isDirectory: true, architecture: Self.huggingFaceModelType(url))
        }
    }

    /// Whether `url` is a directory with config.json and weights in safetensors (one file, or shards listed
    /// by model.safetensors.index.json).
    public static func isHuggingFaceModel(_ url: URL) -> Bool {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return files.contains("config.json")
            && files.contains { $0.hasSuffix(".safetensors") || $0 == "model.safetensors.index.json" }
    }

    /// config.json's `model_type`, if it can be read.
    static func huggingFaceModelType(_ url: URL) -> String? {
        guard let data = try? Data(contentsOf: url.appendingPathComponent("config.json")),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return json["model_type"] as? String
    }
}

public enum ModelCatalogError: Error, CustomStringConvertible {
    case notBootstrapped(name: String, expected: String)
    case unknown(String, known: [String], directory: String)
    /// A directory without config.json and safetensors weights.
    case notAModelDirectory(String)

    public var description: String {
        switch self {
        case .notBootstrapped(let name, let expected):
            "model '\(name)' is not installed at \(expected); run scripts/bootstrap (or `make demo`) first"
        case .unknown(let name, let known, let directory):
            "no model named '\(name)': not a file, not in \(directory), and not one of \(known.joined(separator: ", "))"
        case .notAModelDirectory(let path):
            "\(path) is a directory without an HF model (config.json and .safetensors weights)"
        }
    }
}
