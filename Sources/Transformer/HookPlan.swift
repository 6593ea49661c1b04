/// The observer's answers for one forward pass: asked once, before the pass, for every hook point.
struct HookPlan {
    let observer: HookObserver?
    private let wanted: Set<HookPoint>

    init(observer: HookObserver?, hookPoints: [HookPoint]) {
        self.observer = observer
        wanted = observer.map { observer in Set(hookPoints.filter { observer.wants($0) }) } ?? []
    }

    func wants(_ hook: HookPoint) -> Bool { wanted.contains(hook) }

    /// Hands `count` floats at `pointer` to the observer if it asked for `hook`; what it writes there
    /// is what the rest of the pass uses.
    func observe(_ hook: HookPoint, _ shape: [Int], positions: Range<Int>, _ pointer: UnsafeMutablePointer<Float>) {
        guard let observer, wanted.contains(hook) else { return }
        observer.observe(ActivationView(
            hook: hook, shape: shape, positions: positions,
            data: UnsafeMutableBufferPointer(start: pointer, count: shape.reduce(1, *))))
    }
}
