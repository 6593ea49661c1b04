import Foundation
import JSONRPC
import ProtocolSchema
import Testing

/// The repository root: the directory above this file that holds `Protocol/lmdbg.schema.json`.
let repositoryRoot: URL = {
    guard let schema = ProtocolDescription.schemaURL(nearFile: #filePath) else {
        fatalError("Protocol/lmdbg.schema.json not found above \(#filePath)")
    }
    return schema.deletingLastPathComponent().deletingLastPathComponent()
}()

/// The protocol schema, loaded once.
let lmdbgProtocol: ProtocolDescription = {
    let url = repositoryRoot.appendingPathComponent("Protocol/lmdbg.schema.json")
    do {
        return try ProtocolDescription(contentsOf: url)
    } catch {
        fatalError("cannot load \(url.path): \(error)")
    }
}()

/// Parses JSON text (for inline test schemas and instances).
func json(_ text: String) throws -> JSONValue {
    try JSONValue(parsing: text)
}

func parseJSON(_ data: Data) throws -> JSONValue {
    try JSONValue(parsing: [UInt8](data))
}

/// The `examples` array of a `$defs` entry.
func examples(of definition: String) -> [JSONValue] {
    guard case .object(let schema)? = lmdbgProtocol.schema.resolve("#/$defs/\(definition)"),
          case .array(let list)? = schema["examples"] else { return [] }
    return list
}
