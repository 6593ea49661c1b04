import Glibc
import Synchronization

/// Why a connection stopped reading or could not send.
public enum ConnectionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The input broke the framing; the connection stops reading.
    case framing(FramingError)
    /// A system call failed.
    case system(call: String, errno: Int32)
    /// `send` after `close`.
    case closed

    public var description: String {
        switch self {
        case .framing(let error): "framing error: \(error)"
        case .system(let call, let code): "\(call) failed: \(String(cString: strerror(code)))"
        case .closed: "connection closed"
        }
    }
}

/// What a connection's reader delivers, in the order the bytes arrived.
public enum ConnectionEvent: Sendable {
    case message(JSONRPCMessage)
    /// A well-framed body that is not a valid message; a server answers with `invalid.response`.
    case invalidMessage(InvalidMessage)
    /// The last event: the input reached its end (nil), `close` was called (nil), the framing broke,
    /// or reading failed. Sending still works until `close`, so a server can report a framing error.
    case inputEnded(ConnectionError?)
}

/// A JSON-RPC transport over two file descriptors, which it owns and closes.
///
/// A reader thread reads the input, frames and parses messages and hands each event to the handler
/// given to `start`, one at a time, on that thread. `send` writes a whole framed message under a lock,
/// so it is safe from any thread and messages never interleave.
///
/// A connection ignores SIGPIPE for the whole process, so that a peer that went away shows up as a
/// failed `send` instead of killing the process.
public final class Connection: Sendable {
    private enum Phase { case idle, running, closed }

    private let input: Int32
    /// The output descriptor, nil once closed; held while writing.
    private let output: Mutex<Int32?>
    private let phase = Mutex(Phase.idle)
    /// Closing `wakeWrite` wakes the reader from `poll`.
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let limits: MessageFramer.Limits

    /// Takes ownership of `input` and `output`; they may be the same descriptor.
    public init(input: Int32, output: Int32, limits: MessageFramer.Limits = .init()) throws(ConnectionError) {
        _ = ignoreSIGPIPE
        let output = input == output ? fcntl(output, F_DUPFD_CLOEXEC, 0) : output
        guard output >= 0 else { throw .system(call: "fcntl", errno: errno) }
        let wake = try makePipe()
        // A tensor read is megabytes: a pipe's default 64 kB buffer makes it cross in a hundred wakeups of
        // the reader. Asking for 1 MB (Linux's default limit) fails harmlessly on descriptors that are not pipes.
        for descriptor in [input, output] { _ = fcntl(descriptor, linuxSetPipeSize, 1 << 20) }
        self.input = input
        self.output = Mutex(output)
        self.wakeRead = wake.read
        self.wakeWrite = wake.write
        self.limits = limits
    }

    deinit {
        close()
    }

    /// Starts the reader thread. Call once.
    public func start(_ handler: @escaping @Sendable (ConnectionEvent) -> Void) {
        phase.withLock { phase in
            precondition(phase == .idle, "Connection.start called twice or after close")
            phase = .running
        }
        startThread { self.readLoop(handler) }
    }

    /// Frames and writes a message; throws `JSONError` if it cannot be serialised, `ConnectionError` if
    /// it cannot be written.
    public func send(_ message: JSONRPCMessage) throws {
        try send(body: message.serialized())
    }

    /// Frames and writes a body as it is, valid JSON or not.
    public func send(body: [UInt8]) throws(ConnectionError) {
        // A large body is written after its header rather than copied behind it.
        let isLarge = body.count > 64 << 10
        let framed = isLarge ? MessageFramer.header(bodyLength: body.count) : MessageFramer.frame(body: body)
        try output.withLock { (output) throws(ConnectionError) in
            guard let output else { throw .closed }
            try writeAll(framed, to: output)
            if isLarge { try writeAll(body, to: output) }
        }
    }

    /// Stops reading and closes both descriptors; the handler then gets `.inputEnded(nil)` unless the
    /// input had already ended. Waits for a `send` in progress to finish.
    public func close() {
        let previous = phase.withLock { phase in
            defer { phase = .closed }
            return phase
        }
        guard previous != .closed else { return }
        output.withLock { output in
            if let descriptor = output { _ = Glibc.close(descriptor) }
            output = nil
        }
        _ = Glibc.close(wakeWrite)
        if previous == .idle {
            _ = Glibc.close(input)
            _ = Glibc.close(wakeRead)
        }
    }

    private func readLoop(_ handler: @Sendable (ConnectionEvent) -> Void) {
        var framer = MessageFramer(limits: limits)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)  // as much as an enlarged pipe holds
        var ending: ConnectionError?
        reading: while true {
            var descriptors = [pollfd(fd: input, events: Int16(POLLIN), revents: 0),
                               pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            if poll(&descriptors, 2, -1) < 0 {
                if errno == EINTR { continue }
                ending = .system(call: "poll", errno: errno)
                break
            }
            if descriptors[1].revents != 0 { break }  // close() was called.
            let count = chunk.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                ending = .system(call: "read", errno: errno)
                break
            }
            if count == 0 {
                do { try framer.finish() } catch { ending = .framing(error) }
                break
            }
            chunk.withUnsafeBytes { framer.append(UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
            do {
                while let body = try framer.nextBody() {
                    do {
                        handler(.message(try JSONRPCMessage(parsing: body)))
                    } catch {
                        handler(.invalidMessage(error))
                    }
                    // The handler may have closed the connection; deliver nothing more.
                    if phase.withLock({ $0 == .closed }) { break reading }
                }
            } catch {
                ending = .framing(error)
                break reading
            }
        }
        _ = Glibc.close(input)
        _ = Glibc.close(wakeRead)
        handler(.inputEnded(ending))
    }
}

extension Connection {
    /// Two connections joined by pipes: what one sends, the other receives. For tests and in-process clients.
    public static func pair(limits: MessageFramer.Limits = .init()) throws(ConnectionError) -> (Connection, Connection) {
        let forward = try makePipe()
        let backward = try makePipe()
        return (try Connection(input: backward.read, output: forward.write, limits: limits),
                try Connection(input: forward.read, output: backward.write, limits: limits))
    }

    /// A connection over the process's stdin and stdout, which are then taken away from everything else:
    /// the protocol gets private duplicates of both, fd 0 then reads /dev/null and fd 1 writes to stderr,
    /// so a stray `print` or `readLine` cannot corrupt the stream. Call once, before anything is printed.
    public static func standardIO(limits: MessageFramer.Limits = .init()) throws(ConnectionError) -> Connection {
        fflush(stdout)
        return try takeOver(input: STDIN_FILENO, output: STDOUT_FILENO, errors: STDERR_FILENO, limits: limits)
    }

    /// `standardIO` for any three descriptors, so tests can use pipes in place of the real ones.
    static func takeOver(input: Int32, output: Int32, errors: Int32, limits: MessageFramer.Limits) throws(ConnectionError)
        -> Connection
    {
        let protocolInput = fcntl(input, F_DUPFD_CLOEXEC, 3)
        guard protocolInput >= 0 else { throw .system(call: "fcntl", errno: errno) }
        let protocolOutput = fcntl(output, F_DUPFD_CLOEXEC, 3)
        guard protocolOutput >= 0 else { throw .system(call: "fcntl", errno: errno) }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard null >= 0 else { throw .system(call: "open", errno: errno) }
        defer { _ = Glibc.close(null) }
        guard dup2(null, input) >= 0 else { throw .system(call: "dup2", errno: errno) }
        guard dup2(errors, output) >= 0 else { throw .system(call: "dup2", errno: errno) }
        return try Connection(input: protocolInput, output: protocolOutput, limits: limits)
    }
}

// MARK: - System helpers

private let ignoreSIGPIPE: Void = {
    _ = signal(SIGPIPE, SIG_IGN)
}()

private func makePipe() throws(ConnectionError) -> (read: Int32, write: Int32) {
    var descriptors: [Int32] = [0, 0]
    guard pipe(&descriptors) == 0 else { throw .system(call: "pipe", errno: errno) }
    for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
    return (descriptors[0], descriptors[1])
}

/// Writes every byte, retrying after signals and waiting out a non-blocking descriptor.
/// `F_SETPIPE_SZ`, which Glibc's Swift module does not export.
private let linuxSetPipeSize: Int32 = 1031

private func writeAll(_ bytes: [UInt8], to descriptor: Int32) throws(ConnectionError) {
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
        if written >= 0 {
            offset += written
        } else if errno == EAGAIN {
            var writable = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            _ = poll(&writable, 1, -1)
        } else if errno != EINTR {
            throw .system(call: "write", errno: errno)
        }
    }
}

private final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

private func startThread(_ run: @escaping @Sendable () -> Void) {
    let context = Unmanaged.passRetained(ThreadBody(run)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(&thread, nil, { context in
        Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().run()
        return nil
    }, context)
    precondition(status == 0, "pthread_create failed: \(status)")
    pthread_detach(thread)
}
