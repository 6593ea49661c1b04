/// `debug/variables`: the children of a reference, paged.
public struct VariablesRequest: RequestType {
    public static let method = "debug/variables"
    public typealias Response = VariablesResult

    public var variablesReference: Int
    /// Default 0.
    public var start: Int?
    /// All when nil.
    public var count: Int?

    public init(variablesReference: Int, start: Int? = nil, count: Int? = nil) {
        self.variablesReference = variablesReference
        self.start = start
        self.count = count
    }
}

public struct VariablesResult: Codable, Sendable, Equatable {
    public var variables: [Variable]
    /// The number of children in all.
    public var total: Int

    public init(variables: [Variable], total: Int) {
        self.variables = variables
        self.total = total
    }
}
