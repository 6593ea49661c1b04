import Dispatch
import Foundation
import JSONRPC
import LMDebugProtocol

/// The protocol's lifecycle and message flow around `DebugServer`, independent of the transport.
///
/// Requests are served one at a time, in order, on a worker queue, so that `$/cancelRequest` and `exit`,
/// handled as they arrive, can overtake a long request. Debugger events produced while a request is
/// being handled are sent after its response, so that a client always hears `{}` before the stop it caused;
/// except the end of a run that the request superseded (`session/launch`, `debug/restart`, `model/load`,
/// `shutdown`), which is sent before the response, after what that run said before it, so that everything
/// after the response belongs to the new state.
final class Endpoint: @unchecked Sendable {
    private enum Phase { case uninitialized, running, shutDown }

    private let send: @Sendable (JSONRPCMessage) -> Void
    private let worker = DispatchQueue(label: "lmdbg requests")
    private let lock = NSLock()
    private var phase = Phase.uninitialized
    private var cancelled: Set<JSONRPC.RequestID> = []
    /// Notifications held back while a request is handled.
    private var held: [JSONRPCMessage]?
    private var server: DebugServer!
    private let exit = ExitLatch()

    init(options: ServerOptions, send: @escaping @Sendable (JSONRPCMessage) -> Void) {
        self.send = send
        server = DebugServer(options: options) { [unowned self] notification in
            post(notification, holding: true)
        }
    }

    /// Takes one incoming message (or the error for one that was not valid).
    func receive(_ message: JSONRPCMessage) {
        switch message {
        case .request(let id, let method, let params):
            worker.async { [self] in serve(id: id, method: method, params: params) }
        case .notification(let method, let params):
            switch method {
            case CancelRequestNotification.method:
                if let id = params?["id"].flatMap(JSONRPC.RequestID.init) { lock.withLock { _ = cancelled.insert(id) } }
            case ExitNotification.method:
                finish(code: lock.withLock { phase == .shutDown } ? 0 : 1)
            default:
                break  // `initialized`, and unknown notifications, which JSON-RPC says to ignore.
            }
        case .response, .errorResponse:
            break  // The server sends no requests, so there is nothing to match.
        }
    }

    func receive(invalid: InvalidMessage) {
        lock.withLock { send(invalid.response) }
    }

    /// The input ended without `exit`: stop as LSP says, with 1 unless shut down.
    func inputEnded() {
        finish(code: lock.withLock { phase == .shutDown } ? 0 : 1)
    }

    /// Blocks until `exit` (or the end of the input) and returns the exit code.
    func waitForExit() -> Int32 { exit.wait() }

    private func finish(code: Int32) {
        exit.finish(code: code, on: worker) { [self] in server.shutdown() }
    }

    private func serve(id: JSONRPC.RequestID, method: String, params: JSONValue?) {
        lock.withLock { held = [] }
        let outcome = answer(id: id, method: method, params: params)
        lock.withLock {
            send(outcome)
            for notification in held ?? [] { send(notification) }
            held = nil
            cancelled.remove(id)
        }
    }

    private func answer(id: JSONRPC.RequestID, method: String, params: JSONValue?) -> JSONRPCMessage {
        let phase = lock.withLock { self.phase }
        func refusal(_ code: JSONRPCError.Code, _ message: String) -> JSONRPCMessage {
            .errorResponse(id: id, error: JSONRPCError(code: code, message: message))
        }
        switch (phase, method) {
        case (.uninitialized, InitializeRequest.method): break
        case (.uninitialized, _): return refusal(.serverNotInitialized, "the server is not initialized: send initialize first")
        case (.running, InitializeRequest.method): return refusal(.invalidRequest, "initialize was already received")
        case (.shutDown, _): return refusal(.invalidRequest, "the server is shut down: only exit is accepted")
        case (.running, _): break
        }
        guard let route = DebugServer.routes[method] else { return refusal(.methodNotFound, "unknown method '\(method)'") }
        let isCancelled = { [self] in lock.withLock { cancelled.contains(id) } }
        guard !isCancelled() else { return refusal(.requestCancelled, "\(method) was cancelled") }
        let context = RequestContext(isCancelled: isCancelled) { [self] token, value in
            post(ProgressNotification(token: token, value: value), holding: false)
        }
        do {
            let result = try route.call(server, params, context)
            lock.withLock {
                if method == InitializeRequest.method { self.phase = .running }
                if method == ShutdownRequest.method { self.phase = .shutDown }
            }
            return .response(id: id, result: result)
        } catch let failure as ServerError {
            return .errorResponse(id: id, error: failure.jsonRPCError)
        } catch let failure as JSONRPCError {
            return .errorResponse(id: id, error: failure)
        } catch {
            return refusal(.internalError, "\(method) failed: \(error)")
        }
    }

    /// Sends a notification now, or after the current response when `holding` and a request is in progress.
    /// A superseded run's end is sent now, after the notifications held so far (which are that run's).
    private func post(_ notification: any NotificationType, holding: Bool) {
        guard let params = try? JSONValueEncoder().encode(notification) else { return }
        let message = JSONRPCMessage.notification(method: type(of: notification).method, params: params)
        let superseded = (notification as? TerminatedNotification)?.reason == .superseded
        lock.withLock {
            if superseded, let earlier = held {
                earlier.forEach(send)
                held = []
                send(message)
            } else if holding, held != nil {
                held!.append(message)
            } else {
                send(message)
            }
        }
    }
}
