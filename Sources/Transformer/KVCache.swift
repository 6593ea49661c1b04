import Tensors

/// The keys (after RoPE: `hook_rot_k`) and values of every position run so far, per layer, so that a
/// forward pass over new tokens attends to the old ones without recomputing them.
/// It holds what the forward pass used, including whatever an observer wrote at `rot_k` or `v`.
public final class KVCache {
    public let layerCount: Int
    /// n_kv_heads · d_head: the floats of one position's keys (or values) in one layer.
    public let rowWidth: Int
    /// Positions held.
    public internal(set) var count = 0
    private(set) var capacity: Int
    /// Per layer, [capacity, n_kv_heads, d_head].
    private(set) var keys: [UnsafeMutablePointer<Float>]
    /// Per layer, [capacity, n_kv_heads, d_head].
    private(set) var values: [UnsafeMutablePointer<Float>]

    public convenience init(config: ModelConfig, capacity: Int = 64) {
        self.init(layerCount: config.layerCount, rowWidth: config.kvDim, capacity: max(1, capacity))
    }

    private init(layerCount: Int, rowWidth: Int, capacity: Int) {
        self.layerCount = layerCount
        self.rowWidth = rowWidth
        self.capacity = capacity
        keys = (0..<layerCount).map { _ in .allocate(capacity: capacity * rowWidth) }
        values = (0..<layerCount).map { _ in .allocate(capacity: capacity * rowWidth) }
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }

    /// Makes room for `positions` positions in all, keeping what is held (doubling, to amortise growth).
    func reserve(_ positions: Int) {
        guard positions > capacity else { return }
        let grown = max(positions, 2 * capacity)
        func move(_ old: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
            let new = UnsafeMutablePointer<Float>.allocate(capacity: grown * rowWidth)
            new.initialize(from: old, count: count * rowWidth)
            old.deallocate()
            return new
        }
        keys = keys.map(move)
        values = values.map(move)
        capacity = grown
    }

    /// Forgets the positions from `count` on, e.g. to rerun them differently.
    public func truncate(to count: Int) {
        precondition(count >= 0 && count <= self.count, "cannot truncate a cache of \(self.count) to \(count)")
        self.count = count
    }

    /// An independent copy, to branch a generation or a patch sweep from a shared prefix.
    public func copy() -> KVCache {
        let copy = KVCache(layerCount: layerCount, rowWidth: rowWidth, capacity: max(1, count))
        for layer in 0..<layerCount {
            copy.keys[layer].initialize(from: keys[layer], count: count * rowWidth)
            copy.values[layer].initialize(from: values[layer], count: count * rowWidth)
        }
        copy.count = count
        return copy
    }

    /// The keys held for `layer`, [count, rowWidth] (reshape to [count, n_kv_heads, d_head]).
    public func keys(layer: Int) -> Tensor {
        Tensor(shape: [count, rowWidth], data: Array(UnsafeBufferPointer(start: keys[layer], count: count * rowWidth)))
    }

    /// The values held for `layer`, [count, rowWidth].
    public func values(layer: Int) -> Tensor {
        Tensor(shape: [count, rowWidth], data: Array(UnsafeBufferPointer(start: values[layer], count: count * rowWidth)))
    }
}
