#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tells a recursive parser or evaluator when the current thread's stack is nearly used up, so that a
/// deep expression becomes an error rather than a crash on a thread with a small stack.
struct StackGuard {
    static let exhausted = "expression is nested too deeply for this thread's stack"

    /// Stack addresses below this leave less than the margin (stacks grow downwards).
    private let floor: UInt

    /// Measures the current thread's stack; `margin` is what one more level and a leaf operation may need.
    init(margin: Int = 128 * 1024) {
        floor = StackGuard.lowestAddress().map { $0 + UInt(margin) } ?? 0
    }

    /// Whether the caller's frame is within the margin of the stack's end.
    var isExhausted: Bool {
        var marker = 0
        return withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) } < floor
    }

    private static func lowestAddress() -> UInt? {
        #if os(Linux)
        // pthread_getattr_np is a GNU extension the Glibc module does not export; look it up instead.
        typealias GetAttributes = @convention(c) (pthread_t, UnsafeMutablePointer<pthread_attr_t>) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pthread_getattr_np") else { return nil }
        let getAttributes = unsafeBitCast(symbol, to: GetAttributes.self)
        var attributes = pthread_attr_t()
        guard getAttributes(pthread_self(), &attributes) == 0 else { return nil }
        defer { pthread_attr_destroy(&attributes) }
        var address: UnsafeMutableRawPointer?
        var size = 0
        guard pthread_attr_getstack(&attributes, &address, &size) == 0, let address else { return nil }
        return UInt(bitPattern: address)
        #elseif canImport(Darwin)
        let top = UInt(bitPattern: pthread_get_stackaddr_np(pthread_self()))
        return top - UInt(pthread_get_stacksize_np(pthread_self()))
        #else
        return nil
        #endif
    }
}
