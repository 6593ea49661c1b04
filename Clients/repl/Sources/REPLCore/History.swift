import Foundation

/// Lines entered before, oldest first, kept in a file one per line: each added line is appended at once,
/// and the file is cut back to the newest `limit` lines when loaded.
public struct History: Sendable {
    public private(set) var entries: [String] = []
    public let limit: Int
    /// Where lines are kept; nil keeps them in memory only.
    public let file: URL?

    public init(file: URL?, limit: Int = 1000) {
        self.file = file
        self.limit = limit
        guard let file, let contents = try? String(contentsOf: file, encoding: .utf8) else { return }
        let lines = contents.split(separator: "\n").map(String.init)
        entries = Array(lines.suffix(limit))
        if lines.count > limit { rewrite() }
    }

    /// `$LMDBG_HISTORY`, else `~/.lmdbg_history`.
    public static func defaultFile(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let path = environment["LMDBG_HISTORY"], !path.isEmpty { return URL(fileURLWithPath: path) }
        let home = environment["HOME"].map { URL(fileURLWithPath: $0) } ?? FileManager.default.homeDirectoryForCurrentUser
        return home.appendingPathComponent(".lmdbg_history")
    }

    /// Adds a line unless it is blank or repeats the newest entry; true when added.
    @discardableResult
    public mutating func add(_ line: String) -> Bool {
        let line = line.trimmingCharacters(in: .whitespaces)
        guard !line.isEmpty, !line.contains("\n"), line != entries.last else { return false }
        entries.append(line)
        if entries.count > limit { entries.removeFirst(entries.count - limit) }
        append(line)
        return true
    }

    private func append(_ line: String) {
        guard let file else { return }
        guard let handle = try? FileHandle(forWritingTo: file) else {
            _ = FileManager.default.createFile(atPath: file.path, contents: Data((line + "\n").utf8), attributes: [.posixPermissions: 0o600])
            return
        }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data((line + "\n").utf8))
    }

    private func rewrite() {
        guard let file else { return }
        try? Data(entries.map { $0 + "\n" }.joined().utf8).write(to: file, options: .atomic)
    }
}
