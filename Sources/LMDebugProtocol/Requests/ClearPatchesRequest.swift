/// `patch/clear`: removes the listed patches, or all when `ids` is nil.
public struct ClearPatchesRequest: RequestType {
    public static let method = "patch/clear"
    public typealias Response = EmptyResult

    public var ids: [Int]?

    public init(ids: [Int]? = nil) { self.ids = ids }
}
