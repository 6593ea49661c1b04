/// A merge rule: two adjacent tokens join into `result`; lower `rank` merges first.
struct Merge {
    var rank: Int32
    var result: Int32
}

/// Merge rules keyed by the pair of token ids, in an open-addressing hash table.
final class MergeTable: @unchecked Sendable {
    private static let empty = UInt64.max
    private let keys: UnsafeMutableBufferPointer<UInt64>
    private let values: UnsafeMutableBufferPointer<Merge>
    private let mask: Int
    private(set) var count = 0

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = .allocate(capacity: size)
        keys.initialize(repeating: Self.empty)
        values = .allocate(capacity: size)
        values.initialize(repeating: Merge(rank: 0, result: 0))
        mask = size - 1
    }

    /// The table of "left right" `merges`, best first, over the vocabulary `index`.
    convenience init(parsing merges: [String], index: [ExactString: Int32]) throws {
        self.init(capacity: merges.count)
        for (rank, merge) in merges.enumerated() {
            let parts = merge.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2,
                  let left = index[ExactString(String(parts[0]))], let right = index[ExactString(String(parts[1]))],
                  let result = index[ExactString(String(parts[0] + parts[1]))]
            else { throw TokenizerError.invalidMerge(merge) }
            insert(left: left, right: right, merge: Merge(rank: Int32(rank), result: result))
        }
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    @inline(__always)
    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always)
    private func slot(of key: UInt64) -> Int {
        var slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
        while keys[slot] != key && keys[slot] != Self.empty { slot = (slot + 1) & mask }
        return slot
    }

    /// Sets the rule for a pair; a later rule for the same pair replaces the earlier, as in HF.
    func insert(left: Int32, right: Int32, merge: Merge) {
        precondition(count * 2 < keys.count, "MergeTable over capacity")
        let key = Self.key(left, right)
        let slot = slot(of: key)
        if keys[slot] == Self.empty {
            keys[slot] = key
            count += 1
        }
        values[slot] = merge
    }

    @inline(__always)
    func merge(_ left: Int32, _ right: Int32) -> Merge? {
        let slot = slot(of: Self.key(left, right))
        return keys[slot] == Self.empty ? nil : values[slot]
    }
}

/// Byte-pair merging of one word: repeatedly joins the adjacent pair with the lowest rank,
/// leftmost first among equals, until no rule applies (as HF's `tokenizers` does).
enum BytePairMerger {
    /// Merges `symbols` (a word's initial token ids) and appends the resulting ids to `output`.
    static func merge(_ symbols: UnsafeMutableBufferPointer<Int32>, rules: MergeTable, into output: inout [Int32]) {
        let count = symbols.count
        guard count > 1 else {
            output.append(contentsOf: symbols)
            return
        }
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2 * count) { links in
            // links[i] is the next live symbol after i, links[count + i] the previous one; -1 for none.
            for index in 0..<count {
                links[index] = index + 1 < count ? Int32(index + 1) : -1
                links[count + index] = Int32(index - 1)
            }
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 3 * count) { heapStorage in
                var heap = MinHeap(storage: heapStorage)
                // A candidate is rank << 32 | position of its left symbol, so the heap's minimum is the
                // lowest rank, then the leftmost.
                func propose(_ left: Int32) {
                    let right = links[Int(left)]
                    guard right >= 0, let merge = rules.merge(symbols[Int(left)], symbols[Int(right)]) else { return }
                    heap.push(UInt64(merge.rank) << 32 | UInt64(left))
                }
                for index in 0..<count - 1 { propose(Int32(index)) }
                while let candidate = heap.pop() {
                    let left = Int(candidate & 0xFFFF_FFFF)
                    let right = Int(links[left])
                    // A merged-away symbol is marked by a next link of -2.
                    guard right >= 0,
                          let merge = rules.merge(symbols[left], symbols[right]),
                          UInt64(merge.rank) == candidate >> 32
                    else { continue }
                    symbols[left] = merge.result
                    let afterRight = links[right]
                    links[left] = afterRight
                    if afterRight >= 0 { links[count + Int(afterRight)] = Int32(left) }
                    links[right] = -2
                    let before = links[count + left]
                    if before >= 0 { propose(before) }
                    propose(Int32(left))
                }
            }
            var index: Int32 = 0
            while index >= 0 {
                output.append(symbols[Int(index)])
                index = links[Int(index)]
            }
        }
    }
}

/// A binary min-heap over caller-provided storage.
private struct MinHeap {
    let storage: UnsafeMutableBufferPointer<UInt64>
    var count = 0

    init(storage: UnsafeMutableBufferPointer<UInt64>) {
        self.storage = storage
    }

    mutating func push(_ value: UInt64) {
        var child = count
        count += 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard storage[parent] > value else { break }
            storage[child] = storage[parent]
            child = parent
        }
        storage[child] = value
    }

    mutating func pop() -> UInt64? {
        guard count > 0 else { return nil }
        let top = storage[0]
        count -= 1
        let last = storage[count]
        var parent = 0
        while true {
            var child = 2 * parent + 1
            guard child < count else { break }
            if child + 1 < count && storage[child + 1] < storage[child] { child += 1 }
            guard storage[child] < last else { break }
            storage[parent] = storage[child]
            parent = child
        }
        storage[parent] = last
        return top
    }
}
