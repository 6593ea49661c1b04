import Foundation
import JSONRPC

/// The lmdbg protocol schema (`Protocol/lmdbg.schema.json`) read as tables: its methods and error codes,
/// plus checks of whole JSON-RPC messages against it. The server's tests use it to check what the server
/// sends; LMDebugProtocolTests use it to check the Swift message types.
public struct ProtocolDescription: Sendable {
    /// One row of `x-methods`.
    public struct Method: Sendable, Equatable {
        public enum Kind: String, Sendable { case request, notification }
        public enum Direction: String, Sendable { case clientToServer, serverToClient }

        public var method: String
        public var kind: Kind
        public var direction: Direction
        public var swiftType: String
        /// A local pointer, e.g. `#/$defs/SetBreakpointsParams`.
        public var params: String
        /// For requests.
        public var result: String?
        /// For requests: every code the request may be answered with.
        public var errors: [Int]
        public var description: String

        /// The `$defs` name `params` points to.
        public var paramsDefinition: String { Self.definitionName(params) }
        /// The `$defs` name `result` points to.
        public var resultDefinition: String? { result.map(Self.definitionName) }

        static func definitionName(_ pointer: String) -> String {
            pointer.hasPrefix("#/$defs/") ? String(pointer.dropFirst("#/$defs/".count)) : pointer
        }
    }

    /// One row of `x-errors`.
    public struct ErrorCode: Sendable, Equatable {
        public var code: Int
        public var name: String
        public var description: String
        /// A pointer to the schema of `error.data`, when the code defines one.
        public var data: String?
    }

    /// Codes any request may get because of the envelope rather than the method.
    public static let envelopeErrorCodes: Set<Int> = [-32700, -32600, -32601, -32002]

    public let schema: JSONSchema
    /// `x-protocolVersion`.
    public let version: String
    /// `x-methods`, in the schema's order.
    public let methods: [Method]
    /// `x-errors`, in the schema's order.
    public let errorCodes: [ErrorCode]

    public init(schema: JSONSchema) throws {
        self.schema = schema
        guard case .object(let root) = schema.document else { throw SchemaError.malformed("#", "not an object") }
        guard case .string(let version)? = root["x-protocolVersion"] else {
            throw SchemaError.malformed("#/x-protocolVersion", "missing")
        }
        self.version = version
        guard case .array(let rows)? = root["x-methods"] else { throw SchemaError.malformed("#/x-methods", "missing") }
        methods = try rows.enumerated().map { index, row in
            let path = "#/x-methods/\(index)"
            guard case .object(let m) = row,
                  case .string(let method)? = m["method"],
                  case .string(let kindText)? = m["kind"], let kind = Method.Kind(rawValue: kindText),
                  case .string(let directionText)? = m["direction"], let direction = Method.Direction(rawValue: directionText),
                  case .string(let swiftType)? = m["swiftType"],
                  case .object(let params)? = m["params"], case .string(let paramsRef)? = params["$ref"],
                  case .string(let description)? = m["description"]
            else { throw SchemaError.malformed(path, "a method row needs method, kind, direction, swiftType, params, description") }
            var resultRef: String?
            if case .object(let result)? = m["result"], case .string(let ref)? = result["$ref"] { resultRef = ref }
            var codes: [Int] = []
            if case .array(let list)? = m["errors"] {
                codes = list.compactMap { if case .integer(let code) = $0 { Int(code) } else { nil } }
            }
            return Method(method: method, kind: kind, direction: direction, swiftType: swiftType, params: paramsRef,
                          result: resultRef, errors: codes, description: description)
        }
        guard case .array(let errorRows)? = root["x-errors"] else { throw SchemaError.malformed("#/x-errors", "missing") }
        errorCodes = try errorRows.enumerated().map { index, row in
            guard case .object(let e) = row, case .integer(let code)? = e["code"], case .string(let name)? = e["name"],
                  case .string(let description)? = e["description"]
            else { throw SchemaError.malformed("#/x-errors/\(index)", "an error row needs code, name, description") }
            var data: String?
            if case .object(let d)? = e["data"], case .string(let ref)? = d["$ref"] { data = ref }
            return ErrorCode(code: Int(code), name: name, description: description, data: data)
        }
    }

    public init(contentsOf url: URL) throws {
        try self.init(schema: try JSONSchema(contentsOf: url))
    }

    /// Finds `Protocol/lmdbg.schema.json` in the repository that holds `filePath` (pass `#filePath`).
    public static func schemaURL(nearFile filePath: String = #filePath) -> URL? {
        var directory = URL(fileURLWithPath: filePath).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("Protocol/lmdbg.schema.json")
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        return nil
    }

    public func method(named name: String) -> Method? { methods.first { $0.method == name } }

    /// Problems with a message the server sent; empty when it follows the schema.
    /// - Parameter requestMethod: the method of the request a response id answers, if the client sent one.
    public func checkServerMessage(_ message: JSONValue, requestMethod: (JSONValue) -> String?) -> [String] {
        var problems = schema.validate(message, definition: "Message").map { "message: \($0)" }
        guard problems.isEmpty, case .object(let members) = message else { return problems }
        if case .string(let name)? = members["method"] {
            if members["id"] != nil { return ["the server sent a request (\(name)); this protocol has none"] }
            guard let entry = method(named: name), entry.kind == .notification, entry.direction == .serverToClient else {
                return ["the server sent \(name), which is not a server → client notification"]
            }
            return schema.validate(members["params"] ?? .object([:]), at: entry.params).map { "params: \($0)" }
        }
        let entry = members["id"].flatMap(requestMethod).flatMap(method(named:))
        if case .object(let error)? = members["error"] {
            guard case .integer(let rawCode)? = error["code"] else { return ["error.code: not an integer"] }
            let code = Int(rawCode)
            if !(Self.envelopeErrorCodes.contains(code) || (entry?.errors.contains(code) ?? false)) {
                let name = errorCodes.first { $0.code == code }?.name ?? "unknown"
                problems.append("error code \(code) (\(name)) is not listed for \(entry?.method ?? "this request") in the schema")
            }
            if let data = error["data"], let pointer = errorCodes.first(where: { $0.code == code })?.data {
                problems += schema.validate(data, at: pointer).map { "error.data: \($0)" }
            }
            return problems
        }
        guard let entry, let result = entry.result else {
            return ["a result for an id that names no request of the protocol"]
        }
        return schema.validate(members["result"] ?? .null, at: result).map { "result: \($0)" }
    }
}
