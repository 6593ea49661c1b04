/// `debug/scopes`: the scopes of a frame.
public struct ScopesRequest: RequestType {
    public static let method = "debug/scopes"
    public typealias Response = ScopesResult

    public var frameId: Int

    public init(frameId: Int) { self.frameId = frameId }
}

public struct ScopesResult: Codable, Sendable, Equatable {
    public var scopes: [Scope]

    public init(scopes: [Scope]) { self.scopes = scopes }
}
