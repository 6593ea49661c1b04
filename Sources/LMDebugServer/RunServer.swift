import Foundation
import JSONRPC

/// Serves the lmdbg protocol over `connection` until `exit` or the end of its input; returns the exit code
/// (0 after `shutdown`, 1 otherwise).
public func runServer(connection: Connection, options: ServerOptions = ServerOptions()) -> Int32 {
    let endpoint = Endpoint(options: options) { message in try? connection.send(message) }
    connection.start { event in
        switch event {
        case .message(let message):
            endpoint.receive(message)
        case .invalidMessage(let invalid):
            endpoint.receive(invalid: invalid)
        case .inputEnded(let error):
            if let error {
                endpoint.receive(invalid: InvalidMessage(error: JSONRPCError(code: .parseError, message: "\(error)")))
            }
            endpoint.inputEnded()
        }
    }
    let code = endpoint.waitForExit()
    connection.close()
    return code
}

/// Serves the protocol on two file descriptors. On the process's stdin and stdout it first takes them over,
/// so that nothing else the process prints can corrupt the stream.
public func runServer(input: Int32, output: Int32, options: ServerOptions = ServerOptions()) -> Int32 {
    do {
        let connection = input == STDIN_FILENO && output == STDOUT_FILENO
            ? try Connection.standardIO() : try Connection(input: input, output: output)
        return runServer(connection: connection, options: options)
    } catch {
        FileHandle.standardError.write(Data("lmdbg: cannot serve: \(error)\n".utf8))
        return 1
    }
}
