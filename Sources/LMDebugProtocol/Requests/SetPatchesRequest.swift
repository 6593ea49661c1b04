/// `patch/set`: adds patches (all or none) and answers their ids.
public struct SetPatchesRequest: RequestType {
    public static let method = "patch/set"
    public typealias Response = SetPatchesResult

    public var patches: [PatchSpec]

    public init(patches: [PatchSpec]) { self.patches = patches }
}

public struct SetPatchesResult: Codable, Sendable, Equatable {
    /// One per patch, in order.
    public var ids: [Int]

    public init(ids: [Int]) { self.ids = ids }
}
