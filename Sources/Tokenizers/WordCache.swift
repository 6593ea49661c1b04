import Synchronization

/// Remembers the ids of short words already merged. Thread-safe; stops growing once full.
final class WordCache: Sendable {
    /// A word of at most 24 bytes packed into integers: cheap to hash and compare, never allocated.
    struct Key: Hashable {
        private var head: UInt64 = 0
        private var middle: UInt64 = 0
        private var tail: UInt64 = 0
        private var length: Int

        static let maximumLength = 24

        /// The key of `bytes`, or nil if it is too long to cache.
        init?(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard bytes.count <= Self.maximumLength else { return nil }
            length = bytes.count
            for (index, byte) in bytes.enumerated() {
                let shifted = UInt64(byte) << (8 * UInt64(index % 8))
                switch index / 8 {
                case 0: head |= shifted
                case 1: middle |= shifted
                default: tail |= shifted
                }
            }
        }
    }

    private let capacity: Int
    private let entries = Mutex<[Key: [Int32]]>([:])

    init(capacity: Int = 50_000) {
        self.capacity = capacity
    }

    func ids(for word: Key) -> [Int32]? {
        entries.withLock { $0[word] }
    }

    func store(_ ids: [Int32], for word: Key) {
        entries.withLock { entries in
            if entries.count < capacity { entries[word] = ids }
        }
    }
}
