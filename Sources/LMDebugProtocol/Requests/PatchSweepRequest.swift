/// `analysis/patchSweep`: an activation-patching sweep over layers and positions (or heads).
public struct PatchSweepRequest: RequestType {
    public static let method = "analysis/patchSweep"
    public typealias Response = PatchSweepResult

    public var clean: String
    /// Must have as many tokens as `clean`.
    public var corrupted: String
    public var site: SweepSite
    public var metric: SweepMetric
    /// Default `denoise`.
    public var direction: SweepDirection?
    /// The grid's positions (for `headZ`: the positions each head is patched at); default all.
    public var positions: [Int]?
    public var workDoneToken: ProgressToken?

    public init(clean: String, corrupted: String, site: SweepSite, metric: SweepMetric, direction: SweepDirection? = nil,
                positions: [Int]? = nil, workDoneToken: ProgressToken? = nil) {
        self.clean = clean
        self.corrupted = corrupted
        self.site = site
        self.metric = metric
        self.direction = direction
        self.positions = positions
        self.workDoneToken = workDoneToken
    }
}

public struct PatchSweepResult: Codable, Sendable, Equatable {
    public var site: SweepSite
    public var direction: SweepDirection
    /// What the columns are: `position`, or `head` for `headZ`.
    public var columnAxis: String
    public var columns: [Int]
    /// [layer][column], raw metric; null where not computed (cancelled).
    public var values: [[Double?]]
    /// [layer][column], `(value − corrupted) / (clean − corrupted)`; null where not computed or undefined.
    public var normalised: [[Double?]]
    /// The metric of the unpatched clean and corrupted runs.
    public var clean: Double
    public var corrupted: Double
    public var completed: Int
    public var total: Int
    /// True when `$/cancelRequest` stopped the sweep early: the grid is partial.
    public var cancelled: Bool

    public init(site: SweepSite, direction: SweepDirection, columnAxis: String, columns: [Int], values: [[Double?]],
                normalised: [[Double?]], clean: Double, corrupted: Double, completed: Int, total: Int, cancelled: Bool) {
        self.site = site
        self.direction = direction
        self.columnAxis = columnAxis
        self.columns = columns
        self.values = values
        self.normalised = normalised
        self.clean = clean
        self.corrupted = corrupted
        self.completed = completed
        self.total = total
        self.cancelled = cancelled
    }
}
