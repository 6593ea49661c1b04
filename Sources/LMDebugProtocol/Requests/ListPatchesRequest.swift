/// `patch/list`: the patches in force, in the order they apply.
public struct ListPatchesRequest: RequestType {
    public static let method = "patch/list"
    public typealias Response = ListPatchesResult

    public init() {}
}

public struct ListPatchesResult: Codable, Sendable, Equatable {
    public var patches: [Patch]

    public init(patches: [Patch]) { self.patches = patches }
}
