import Synchronization

/// Remembers the ids of words already merged. Thread-safe; stops growing once full.
final class WordCache: Sendable {
    private let capacity: Int
    private let entries = Mutex<[ExactString: [Int32]]>([:])

    init(capacity: Int = 50_000) {
        self.capacity = capacity
    }

    func ids(for word: ExactString) -> [Int32]? {
        entries.withLock { $0[word] }
    }

    func store(_ ids: [Int32], for word: ExactString) {
        entries.withLock { entries in
            if entries.count < capacity { entries[word] = ids }
        }
    }
}
