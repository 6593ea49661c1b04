import Foundation

/// The `lmdbg` server as a child process, its stdin and stdout on pipes, its stderr shared with ours.
///
/// It runs in a process group of its own, so that Ctrl-C at the terminal reaches only the REPL (which
/// turns it into `debug/pause`), and with SIGINT and SIGPIPE at their defaults.
public final class ServerProcess: @unchecked Sendable {
    public let pid: pid_t
    /// Read the server's output here.
    public let output: Int32
    /// Write to the server's input here.
    public let input: Int32

    public struct LaunchError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(executable: String, arguments: [String] = []) throws {
        var toChild: [Int32] = [0, 0], fromChild: [Int32] = [0, 0]
        guard pipe(&toChild) == 0, pipe(&fromChild) == 0 else {
            throw LaunchError(description: "cannot make pipes: \(String(cString: strerror(errno)))")
        }
        // Only the duplicates on 0 and 1 reach the server.
        for descriptor in toChild + fromChild { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], STDIN_FILENO)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], STDOUT_FILENO)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        close(toChild[0])
        close(fromChild[1])
        guard status == 0 else {
            close(toChild[1])
            close(fromChild[0])
            throw LaunchError(description: "cannot start \(executable): \(String(cString: strerror(status)))")
        }
        self.pid = pid
        input = toChild[1]
        output = fromChild[0]
    }

    /// Closes the server's input (so it sees end of file).
    public func closeInput() {
        close(input)
    }

    /// Waits up to `timeout` seconds for the server to exit; its exit status, or nil if it is still running.
    public func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { return exitCode(status) }
            if result < 0 && errno != EINTR { return -1 }
            if Date() >= deadline { return nil }
            usleep(10_000)
        }
    }

    /// Ends a server that did not exit by itself.
    public func kill() {
        Foundation.kill(pid, SIGKILL)
        _ = waitForExit(timeout: 5)
    }

    /// The exit code, or 128 + the signal for a server killed by one.
    private func exitCode(_ status: Int32) -> Int32 {
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    /// Where the server is: `explicit` if given (a bare name is looked up on `PATH`), else `lmdbg` beside
    /// this executable, else `lmdbg` on `PATH`.
    public static func locate(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let explicit, explicit.contains("/") { return explicit }
        let name = explicit ?? "lmdbg"
        if explicit == nil {
            let ownPath = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            let sibling = URL(fileURLWithPath: ownPath).deletingLastPathComponent().appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        }
        for directory in (environment["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
