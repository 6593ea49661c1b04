/// `initialize`: the first request; answers the server's version, identity and capabilities.
public struct InitializeRequest: RequestType {
    public static let method = "initialize"
    public typealias Response = InitializeResult

    public var clientInfo: ClientInfo?
    /// The protocol version the client was written against, e.g. `0.1.0`.
    public var protocolVersion: String?

    public init(clientInfo: ClientInfo? = nil, protocolVersion: String? = nil) {
        self.clientInfo = clientInfo
        self.protocolVersion = protocolVersion
    }
}

public struct InitializeResult: Codable, Sendable, Equatable {
    public var protocolVersion: String
    public var serverInfo: ServerInfo
    public var capabilities: ServerCapabilities

    public init(protocolVersion: String = lmdbgProtocolVersion, serverInfo: ServerInfo, capabilities: ServerCapabilities) {
        self.protocolVersion = protocolVersion
        self.serverInfo = serverInfo
        self.capabilities = capabilities
    }
}
