import Foundation
import JSONRPC

/// DAP over two file descriptors with the Content-Length framing DAP shares with JSON-RPC (the JSONRPC module's
/// framer and JSON value). A reader thread delivers each body, parsed, in order; `send` numbers outgoing messages
/// (`seq`) and writes each whole under a lock, from any thread.
final class DAPTransport: @unchecked Sendable {
    enum Incoming {
        case message(JSONValue)
        /// A well-framed body that is not JSON.
        case unreadable(String)
        /// The input ended, or its framing broke (the error), or reading failed.
        case ended(String?)
    }

    private let input: Int32
    private let output: FileHandle
    private let lock = NSLock()
    private var nextSeq: Int64 = 1

    /// Takes ownership of both descriptors.
    init(input: Int32, output: Int32) {
        self.input = input
        self.output = FileHandle(fileDescriptor: output, closeOnDealloc: true)
    }

    /// Starts the reader thread, which closes the input when it ends.
    func start(_ handler: @escaping @Sendable (Incoming) -> Void) {
        let thread = Thread { [input] in
            var framer = MessageFramer()
            var chunk = [UInt8](repeating: 0, count: 64 << 10)
            defer { close(input) }
            while true {
                let count = chunk.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count < 0 { return handler(.ended("read failed: \(String(cString: strerror(errno)))")) }
                if count == 0 {
                    do { try framer.finish(); handler(.ended(nil)) } catch { handler(.ended("\(error)")) }
                    return
                }
                framer.append(Array(chunk[..<count]))
                do {
                    while let body = try framer.nextBody() {
                        do { handler(.message(try JSONValue(parsing: body))) } catch { handler(.unreadable("\(error)")) }
                    }
                } catch {
                    return handler(.ended("framing error: \(error)"))
                }
            }
        }
        thread.name = "lmdbg dap reader"
        thread.start()
    }

    /// Numbers, serialises, frames and writes one message; a peer that went away is ignored.
    func send(_ message: DAPOutgoing) {
        lock.withLock {
            guard let body = try? message.json(seq: nextSeq).serialized() else { return }
            nextSeq += 1
            try? output.write(contentsOf: MessageFramer.frame(body: body))
        }
    }
}

/// Duplicates the process's stdin and stdout for the protocol and points fd 0 at /dev/null and fd 1 at stderr,
/// so that nothing else the process prints can corrupt the stream.
func takeOverStandardIO() throws -> (input: Int32, output: Int32) {
    fflush(stdout)
    let input = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3)
    let output = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3)
    let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
    guard input >= 0, output >= 0, null >= 0,
          dup2(null, STDIN_FILENO) >= 0, dup2(STDERR_FILENO, STDOUT_FILENO) >= 0 else {
        throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
    }
    close(null)
    return (input, output)
}
