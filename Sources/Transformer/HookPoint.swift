import Tensors

/// A site in the forward pass where an activation can be observed or replaced.
/// Names and meanings are TransformerLens's, verbatim (see docs/hook-points.md).
public enum HookPoint: Hashable, Sendable, CustomStringConvertible {
    case embed
    case posEmbed
    case block(Int, BlockHook)
    case lnFinalScale
    case lnFinalNormalized
    case logits

    /// The hook points inside `blocks.L`, in the order the forward pass reaches them.
    public enum BlockHook: String, CaseIterable, Sendable {
        case residPre = "hook_resid_pre"
        case ln1Scale = "ln1.hook_scale"
        case ln1Normalized = "ln1.hook_normalized"
        case q = "attn.hook_q"
        case k = "attn.hook_k"
        case v = "attn.hook_v"
        case rotQ = "attn.hook_rot_q"
        case rotK = "attn.hook_rot_k"
        case attnScores = "attn.hook_attn_scores"
        case pattern = "attn.hook_pattern"
        case z = "attn.hook_z"
        case attnOut = "hook_attn_out"
        case residMid = "hook_resid_mid"
        case ln2Scale = "ln2.hook_scale"
        case ln2Normalized = "ln2.hook_normalized"
        case mlpPre = "mlp.hook_pre"
        case mlpPreLinear = "mlp.hook_pre_linear"
        case mlpPost = "mlp.hook_post"
        case mlpOut = "hook_mlp_out"
        case residPost = "hook_resid_post"
    }

    /// The TransformerLens name, e.g. `blocks.12.hook_resid_post`.
    public var name: String {
        switch self {
        case .embed: "hook_embed"
        case .posEmbed: "hook_pos_embed"
        case .block(let layer, let hook): "blocks.\(layer).\(hook.rawValue)"
        case .lnFinalScale: "ln_final.hook_scale"
        case .lnFinalNormalized: "ln_final.hook_normalized"
        case .logits: "logits"
        }
    }

    public var description: String { name }

    /// The layer this hook belongs to, if it is inside a block.
    public var layer: Int? {
        if case .block(let layer, _) = self { return layer }
        return nil
    }

    /// Parses a TransformerLens name; nil when it names no hook point.
    public init?(name: String) {
        switch name {
        case "hook_embed": self = .embed
        case "hook_pos_embed": self = .posEmbed
        case "ln_final.hook_scale": self = .lnFinalScale
        case "ln_final.hook_normalized": self = .lnFinalNormalized
        case "logits": self = .logits
        default:
            guard name.hasPrefix("blocks.") else { return nil }
            let rest = name.dropFirst("blocks.".count)
            guard let dot = rest.firstIndex(of: "."),
                  let layer = Int(rest[..<dot]), layer >= 0,
                  String(layer) == rest[..<dot],
                  let hook = BlockHook(rawValue: String(rest[rest.index(after: dot)...]))
            else { return nil }
            self = .block(layer, hook)
        }
    }
}

/// A glob over hook names: `*` matches any run of characters (`blocks.*.hook_resid_post`, `*`).
public struct HookPattern: Hashable, Sendable, CustomStringConvertible {
    public let text: String

    public init(_ text: String) { self.text = text }

    public var description: String { text }

    public func matches(_ hook: HookPoint) -> Bool { matches(hook.name) }

    public func matches(_ name: String) -> Bool {
        Self.glob(Array(text.utf8)[...], Array(name.utf8)[...])
    }

    private static func glob(_ pattern: ArraySlice<UInt8>, _ name: ArraySlice<UInt8>) -> Bool {
        guard let first = pattern.first else { return name.isEmpty }
        if first == UInt8(ascii: "*") {
            let rest = pattern.dropFirst()
            var tail = name
            while true {
                if glob(rest, tail) { return true }
                guard !tail.isEmpty else { return false }
                tail = tail.dropFirst()
            }
        }
        guard let head = name.first, head == first else { return false }
        return glob(pattern.dropFirst(), name.dropFirst())
    }
}

/// One activation at one hook point, lent to an observer for the duration of `observe`.
///
/// `data` points into the forward pass's own buffer: writes change what the rest of the pass computes.
/// It is valid only during the call; an observer that keeps it calls `copy()`.
public struct ActivationView {
    public let hook: HookPoint
    /// Row-major shape with no batch dimension, e.g. [T, d_model] or [n_heads, T, T_total].
    public let shape: [Int]
    /// The absolute token positions this pass computes (the rows, or the query axis of scores and patterns).
    public let positions: Range<Int>
    public let data: UnsafeMutableBufferPointer<Float>

    public init(hook: HookPoint, shape: [Int], positions: Range<Int>, data: UnsafeMutableBufferPointer<Float>) {
        precondition(shape.reduce(1, *) == data.count)
        self.hook = hook
        self.shape = shape
        self.positions = positions
        self.data = data
    }

    public func copy() -> Tensor { Tensor(shape: shape, data: Array(data)) }
}

/// Ask, then observe: before a pass the forward asks `wants` for each hook point; only those are
/// materialised and handed to `observe`. Hooks nobody asked for cost nothing.
public protocol HookObserver: AnyObject {
    func wants(_ hook: HookPoint) -> Bool
    /// Sees an activation it asked for and may change it in place. May block (a debugger stop).
    func observe(_ activation: ActivationView)
}
