import Dispatch
import Foundation

/// The end of a server's life, decided once: the first `finish(code:on:cleanup:)` records the exit code and
/// runs its clean-up on the server's queue, after the work queued there; `wait()` returns the code after that.
/// Later calls to `finish` (an `exit` after the input ended, say) change nothing.
public final class ExitLatch: @unchecked Sendable {
    private let lock = NSLock()
    private var code: Int32?
    private let finished = DispatchSemaphore(value: 0)

    public init() {}

    public func finish(code: Int32, on queue: DispatchQueue, cleanup: @escaping @Sendable () -> Void) {
        let first = lock.withLock { () -> Bool in
            guard self.code == nil else { return false }
            self.code = code
            return true
        }
        guard first else { return }
        queue.async { [self] in
            cleanup()
            finished.signal()
        }
    }

    /// Blocks until the clean-up of the first `finish` has run; returns its exit code.
    public func wait() -> Int32 {
        finished.wait()
        return lock.withLock { code ?? 1 }
    }
}
