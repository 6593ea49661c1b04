import Foundation
import JSONRPC
import LMDebugProtocol

/// Why a request did not give a result.
public enum ClientError: Error, CustomStringConvertible {
    /// The server answered with an error.
    case server(JSONRPCError)
    /// The connection closed (the server exited) before the answer came.
    case closed(String)
    /// The answer did not have the protocol's shape.
    case badResponse(String)

    public var description: String {
        switch self {
        case .server(let error): return error.message
        case .closed(let reason): return "the server is gone: \(reason)"
        case .badResponse(let reason): return "unexpected answer from the server: \(reason)"
        }
    }
}

/// A JSON-RPC client over a pair of file descriptors (LSP framing). Requests block the caller until
/// their answer; notifications are handed to `onNotification` on the reading thread, in arrival order.
public final class ServerConnection: @unchecked Sendable {
    /// A notification's method and params, with the serial number of the message (see `request`).
    public typealias NotificationHandler = @Sendable (_ method: String, _ params: JSONValue?, _ serial: Int) -> Void

    private let input: Int32
    private let output: Int32
    private let onNotification: NotificationHandler
    private let onClose: @Sendable (_ reason: String) -> Void
    private let lock = NSLock()
    private let writeLock = NSLock()
    private var nextID: Int64 = 1
    private var pending: [Int64: Pending] = [:]
    private var closedReason: String?
    /// Counts the messages read, so that a caller can tell which notifications came after an answer.
    private var serial = 0

    /// A request waiting for its answer. `deliver` runs on the reading thread, before any later message.
    private final class Pending: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        let deliver: (Result<JSONValue, ClientError>) -> Void
        var serial = 0

        init(deliver: @escaping (Result<JSONValue, ClientError>) -> Void) {
            self.deliver = deliver
        }
    }

    /// The typed outcome of a request, written on the reading thread before `done` is signalled.
    private final class Outcome<Response>: @unchecked Sendable {
        var value: Result<Response, ClientError>?
    }

    /// Reads from `input` (the server's stdout) and writes to `output` (its stdin). Call `start`.
    /// `onClose` is called once, on the reading thread, when the server's output ends.
    public init(input: Int32, output: Int32, onNotification: @escaping NotificationHandler,
                onClose: @escaping @Sendable (_ reason: String) -> Void) {
        self.input = input
        self.output = output
        self.onNotification = onNotification
        self.onClose = onClose
    }

    /// Starts the thread that reads the server's messages.
    public func start() {
        let thread = Thread { [self] in readLoop() }
        thread.name = "lmdbg-repl reader"
        thread.start()
    }

    /// Nil while open; why the connection closed otherwise.
    public var closed: String? { lock.withLock { closedReason } }

    /// Sends a request and waits for its answer. `serial` is the number of messages read up to and including
    /// the answer: notifications with a larger serial came after it. `whenAnswered` sees a successful answer
    /// on the reading thread, before any notification that follows it is handled.
    public func request<Request: RequestType>(_ request: Request, whenAnswered: ((Request.Response) -> Void)? = nil)
        throws(ClientError) -> (response: Request.Response, serial: Int)
    {
        let params: JSONValue
        do {
            params = try JSONValueEncoder().encode(request)
        } catch {
            throw .badResponse("cannot encode \(Request.method): \(error)")
        }
        let outcome = Outcome<Request.Response>()
        let waiter = Pending { result in
            outcome.value = result.flatMap { json in
                do {
                    return .success(try JSONValueDecoder().decode(Request.Response.self, from: json))
                } catch {
                    return .failure(.badResponse("\(Request.method): \(error)"))
                }
            }
            if case .success(let response)? = outcome.value { whenAnswered?(response) }
        }
        lock.lock()
        if let closedReason {
            lock.unlock()
            throw .closed(closedReason)
        }
        let id = nextID
        nextID += 1
        pending[id] = waiter
        lock.unlock()
        do {
            try send(.request(id: .integer(id), method: Request.method, params: params))
        } catch {
            lock.withLock { _ = pending.removeValue(forKey: id) }
            throw error
        }
        waiter.done.wait()
        return (try outcome.value!.get(), waiter.serial)
    }

    public func notify<Notification: NotificationType>(_ notification: Notification) throws(ClientError) {
        let params: JSONValue
        do {
            params = try JSONValueEncoder().encode(notification)
        } catch {
            throw .badResponse("cannot encode \(Notification.method): \(error)")
        }
        try send(.notification(method: Notification.method, params: params))
    }

    /// Asks the server to cancel every request still waiting for its answer; true if there was one.
    @discardableResult
    public func cancelPendingRequests() -> Bool {
        let ids = lock.withLock { Array(pending.keys) }
        for id in ids { try? notify(CancelRequestNotification(id: .integer(.init(id)))) }
        return !ids.isEmpty
    }

    private func send(_ message: JSONRPCMessage) throws(ClientError) {
        let body: [UInt8]
        do {
            body = try message.serialized()
        } catch {
            throw .badResponse("cannot serialize: \(error)")
        }
        let framed = MessageFramer.frame(body: body)
        writeLock.lock()
        defer { writeLock.unlock() }
        var offset = 0
        while offset < framed.count {
            let written = framed[offset...].withUnsafeBytes { Foundation.write(output, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw .closed("cannot write to the server (\(String(cString: strerror(errno))))") }
            offset += written
        }
    }

    private func readLoop() {
        var framer = MessageFramer()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var reason = "the server closed its output"
        reading: while true {
            let count = buffer.withUnsafeMutableBytes { Foundation.read(input, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            framer.append(Array(buffer[..<count]))
            do {
                while let body = try framer.nextBody() { handle(body) }
            } catch {
                reason = "bad framing from the server: \(error)"
                break reading
            }
        }
        let waiters = lock.withLock {
            closedReason = reason
            defer { pending = [:] }
            return Array(pending.values)
        }
        for waiter in waiters {
            waiter.deliver(.failure(.closed(reason)))
            waiter.done.signal()
        }
        onClose(reason)
    }

    private func handle(_ body: [UInt8]) {
        let message: JSONRPCMessage
        do {
            message = try JSONRPCMessage(parsing: body)
        } catch {
            return
        }
        let serial = lock.withLock {
            self.serial += 1
            return self.serial
        }
        switch message {
        case .notification(let method, let params):
            onNotification(method, params, serial)
        case .response(.integer(let id), let result):
            finish(id, .success(result), serial: serial)
        case .errorResponse(.integer(let id)?, let error):
            finish(id, .failure(.server(error)), serial: serial)
        case .request(let id, let method, _):
            let error = JSONRPCError(code: .methodNotFound, message: "the REPL serves no requests (\(method))")
            try? send(.errorResponse(id: id, error: error))
        case .response, .errorResponse:
            break
        }
    }

    private func finish(_ id: Int64, _ outcome: Result<JSONValue, ClientError>, serial: Int) {
        guard let waiter = lock.withLock({ pending.removeValue(forKey: id) }) else { return }
        waiter.serial = serial
        waiter.deliver(outcome)
        waiter.done.signal()
    }
}
