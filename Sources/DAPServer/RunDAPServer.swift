import Foundation

/// Serves the Debug Adapter Protocol on two file descriptors until `disconnect` (exit code 0) or the end of the
/// input (1). On the process's stdin and stdout it first takes them over, so that nothing else the process prints
/// can corrupt the stream.
public func runDAPServer(input: Int32, output: Int32, options: DAPOptions = DAPOptions()) -> Int32 {
    signal(SIGPIPE, SIG_IGN)
    var descriptors = (input: input, output: output)
    if input == STDIN_FILENO && output == STDOUT_FILENO {
        do {
            descriptors = try takeOverStandardIO()
        } catch {
            FileHandle.standardError.write(Data("lmdbg: cannot serve DAP on stdio: \(error)\n".utf8))
            return 1
        }
    }
    let transport = DAPTransport(input: descriptors.input, output: descriptors.output)
    let adapter = DAPAdapter(options: options) { message in transport.send(message) }
    transport.start { incoming in
        switch incoming {
        case .message(let body): adapter.receive(body)
        case .unreadable(let problem):
            adapter.post(.event("output", body: encoded(OutputBody(category: "console",
                                                                   output: "lmdbg: ignored a message that is not JSON: \(problem)\n"))),
                         holding: false)
        case .ended(let problem):
            if let problem { FileHandle.standardError.write(Data("lmdbg: DAP input ended: \(problem)\n".utf8)) }
            adapter.inputEnded()
        }
    }
    return adapter.waitForExit()
}
