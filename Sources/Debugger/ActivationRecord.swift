import Tensors
import Transformer

/// One activation copied out of a pass: where and when it was seen, and its value.
public struct RecordedActivation: Sendable {
    /// Increases by one per recorded activation in a run; survives eviction of older entries.
    public let serial: Int
    public let tokenStep: Int
    /// The hook's index in the model's execution order.
    public let hookIndex: Int
    public let hook: HookPoint
    public let positions: Range<Int>
    public internal(set) var tensor: Tensor

    var bytes: Int { tensor.count * MemoryLayout<Float>.size }
}

/// The activations of a run so far, oldest first, within a memory budget: beyond it the oldest are evicted.
struct ActivationRecord {
    let budget: Int
    private(set) var entries: [RecordedActivation] = []
    private(set) var bytes = 0
    private(set) var evicted = 0
    private(set) var refused = 0
    private var nextSerial = 0
    /// For each hook index, where its latest evicted or refused activation stood: its serial, or for a refused one
    /// the serial of the entry recorded next. Tells "the budget lost it" from "it was never recorded".
    private var lost: [Int: Int] = [:]

    init(budget: Int) { self.budget = budget }

    /// What recording one activation cost: how many older entries it evicted, or that it did not fit at all.
    enum Outcome: Equatable {
        case recorded(serial: Int, evicted: Int)
        case tooLarge
    }

    mutating func append(tokenStep: Int, hookIndex: Int, view: ActivationView) -> Outcome {
        let size = view.data.count * MemoryLayout<Float>.size
        guard size <= budget else {
            refused += 1
            lost[hookIndex] = nextSerial
            return .tooLarge
        }
        var evictedNow = 0
        while bytes + size > budget, !entries.isEmpty {
            let oldest = entries.removeFirst()
            bytes -= oldest.bytes
            lost[oldest.hookIndex] = max(lost[oldest.hookIndex] ?? oldest.serial, oldest.serial)
            evictedNow += 1
        }
        evicted += evictedNow
        let serial = nextSerial
        nextSerial += 1
        entries.append(RecordedActivation(serial: serial, tokenStep: tokenStep, hookIndex: hookIndex,
                                          hook: view.hook, positions: view.positions, tensor: view.copy()))
        bytes += size
        return .recorded(serial: serial, evicted: evictedNow)
    }

    func entry(serial: Int) -> RecordedActivation? {
        guard let first = entries.first, serial >= first.serial, serial - first.serial < entries.count else { return nil }
        return entries[serial - first.serial]
    }

    mutating func update(serial: Int, from view: ActivationView) {
        guard let first = entries.first, serial >= first.serial, serial - first.serial < entries.count else { return }
        entries[serial - first.serial].tensor = view.copy()
    }

    /// The latest recording of `hook` at or before `serial`.
    func latest(_ hook: HookPoint, atOrBefore serial: Int) -> RecordedActivation? {
        entries.last { $0.serial <= serial && $0.hook == hook }
    }

    /// Whether the budget evicted or refused an activation of hook `hookIndex` at or before `serial`.
    func lost(_ hookIndex: Int, atOrBefore serial: Int) -> Bool {
        lost[hookIndex].map { $0 <= serial } ?? false
    }

    /// Why the record holds nothing earlier than its first entry, for an error message.
    var lossDescription: String {
        var parts: [String] = []
        if evicted > 0 { parts.append(evicted == 1 ? "1 older activation was evicted" : "\(evicted) older activations were evicted") }
        if refused > 0 { parts.append(refused == 1 ? "1 activation was too large to record" : "\(refused) activations were too large to record") }
        let reason = parts.isEmpty ? "nothing earlier was recorded" : parts.joined(separator: " and ")
        return "\(reason) (memory budget \(budget) bytes)"
    }
}
