// libFuzzer entry point for the JSONRPC module; built by scripts/fuzz-jsonrpc together with
// Sources/JSONRPC into one module, so it calls the module's types without importing them.

/// The first byte picks a chunk size; the rest is fed through the framer, and every body, as well as
/// the whole input, through the message parser. A message that parses must serialise and parse back
/// to itself; anything else that goes wrong must be a typed error.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONRPC(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let chunkSize = Int(data[0]) + 1
    var framer = MessageFramer(limits: .init(maximumContentLength: 1 << 20, maximumHeaderLineLength: 128))
    var bodies: [[UInt8]] = [input]
    var offset = 0
    do {
        while offset < input.count {
            let end = min(input.count, offset + chunkSize)
            framer.append(Array(input[offset..<end]))
            offset = end
            while let body = try framer.nextBody() { bodies.append(body) }
        }
        try framer.finish()
    } catch {
        _ = error.description
    }
    for body in bodies {
        guard let message = try? JSONRPCMessage(parsing: body) else { continue }
        let again = try? JSONRPCMessage(parsing: message.serialized())
        precondition(again == message, "round trip changed \(message) into \(String(describing: again))")
    }
    return 0
}
