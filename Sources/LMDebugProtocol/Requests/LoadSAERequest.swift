/// `sae/load`: loads a SAELens-format sparse autoencoder and attaches it at its hook.
public struct LoadSAERequest: RequestType {
    public static let method = "sae/load"
    public typealias Response = SAEInfo

    /// A directory holding `cfg.json` and `sae_weights.safetensors`.
    public var path: String
    /// Default: the directory's name.
    public var name: String?

    public init(path: String, name: String? = nil) {
        self.path = path
        self.name = name
    }
}
