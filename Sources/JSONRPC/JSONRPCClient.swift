import Synchronization

/// The client side of a connection: sends requests with fresh integer ids and resumes each caller when
/// its response arrives. Everything else the peer sends comes out of `incoming`.
///
/// Used by tests (with `Connection.pair()`) and by clients such as the REPL.
public final class JSONRPCClient: Sendable {
    private struct State {
        var lastID: Int64 = 0
        var pending: [RequestID: CheckedContinuation<JSONValue, Error>] = [:]
        /// Set when the input has ended; later requests fail with it.
        var ended: ConnectionError?
    }

    public let connection: Connection
    /// The peer's notifications and requests, responses that match no pending request (such as errors
    /// with a null id), invalid messages, and finally `.inputEnded`. Meant for one consumer.
    public let incoming: AsyncStream<ConnectionEvent>
    private let state = Mutex(State())

    /// Starts `connection`, which must not have been started.
    public init(connection: Connection) {
        self.connection = connection
        let (incoming, continuation) = AsyncStream.makeStream(of: ConnectionEvent.self)
        self.incoming = incoming
        connection.start { event in self.receive(event, into: continuation) }
    }

    private func receive(_ event: ConnectionEvent, into incoming: AsyncStream<ConnectionEvent>.Continuation) {
        switch event {
        case .message(.response(let id, let result)):
            if let waiter = state.withLock({ $0.pending.removeValue(forKey: id) }) {
                return waiter.resume(returning: result)
            }
        case .message(.errorResponse(let id?, let error)):
            if let waiter = state.withLock({ $0.pending.removeValue(forKey: id) }) {
                return waiter.resume(throwing: error)
            }
        case .inputEnded(let error):
            let waiters = state.withLock { state in
                state.ended = error ?? .closed
                defer { state.pending = [:] }
                return Array(state.pending.values)
            }
            for waiter in waiters { waiter.resume(throwing: error ?? .closed) }
            incoming.yield(event)
            return incoming.finish()
        default:
            break
        }
        incoming.yield(event)
    }

    /// Sends a request and waits for its result. Throws the `JSONRPCError` of an error response,
    /// or a `ConnectionError` if the connection ends first.
    public func request(_ method: String, params: JSONValue? = nil) async throws -> JSONValue {
        try await withCheckedThrowingContinuation { waiter in
            let registered = state.withLock { state -> Result<RequestID, ConnectionError> in
                if let ended = state.ended { return .failure(ended) }
                state.lastID += 1
                let id = RequestID.integer(state.lastID)
                state.pending[id] = waiter
                return .success(id)
            }
            switch registered {
            case .failure(let error):
                waiter.resume(throwing: error)
            case .success(let id):
                do {
                    try connection.send(.request(id: id, method: method, params: params))
                } catch {
                    state.withLock { $0.pending.removeValue(forKey: id) }?.resume(throwing: error)
                }
            }
        }
    }

    /// Sends a request with `Encodable` params and decodes its result.
    public func request<Result: Decodable>(
        _ method: String, params: some Encodable, as resultType: Result.Type
    ) async throws -> Result {
        let result = try await request(method, params: JSONValueEncoder().encode(params))
        return try JSONValueDecoder().decode(resultType, from: result)
    }

    public func notify(_ method: String, params: JSONValue? = nil) throws {
        try connection.send(.notification(method: method, params: params))
    }

    /// Closes the connection; pending requests fail with `ConnectionError.closed`.
    public func close() {
        connection.close()
    }
}
