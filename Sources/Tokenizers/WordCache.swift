import Synchronization

/// Remembers the ids of words already merged. Thread-safe; stops growing once full.
final class WordCache: Sendable {
    private let capacity: Int
    private let entries = Mutex<[String: [Int32]]>([:])

    init(capacity: Int = 50_000) {
        self.capacity = capacity
    }

    func ids(for word: String) -> [Int32]? {
        entries.withLock { $0[word] }
    }

    func store(_ ids: [Int32], for word: String) {
        entries.withLock { entries in
            if entries.count < capacity { entries[word] = ids }
        }
    }
}
