import Dispatch
import Synchronization
import Testing
import JSONRPC

/// The first finish decides the exit code and its clean-up runs once, after the work queued before it.
struct ExitLatchTests {
    @Test func theFirstFinishWinsAndItsCleanUpRunsOnceAfterQueuedWork() {
        let latch = ExitLatch()
        let queue = DispatchQueue(label: "exit latch test")
        let events = Mutex<[String]>([])
        queue.async { events.withLock { $0.append("request") } }
        latch.finish(code: 0, on: queue) { events.withLock { $0.append("cleanup 0") } }
        latch.finish(code: 1, on: queue) { events.withLock { $0.append("cleanup 1") } }
        #expect(latch.wait() == 0)
        queue.sync {}
        #expect(events.withLock { $0 } == ["request", "cleanup 0"])
    }
}
