import Tensors
import Transformer

/// Copies the activations of a fixed set of hooks out of one forward pass.
final class HookCapture: HookObserver {
    let hooks: Set<HookPoint>
    private(set) var captured: [HookPoint: Tensor] = [:]

    init(_ hooks: some Sequence<HookPoint>) { self.hooks = Set(hooks) }

    func wants(_ hook: HookPoint) -> Bool { hooks.contains(hook) }

    func observe(_ activation: ActivationView) { captured[activation.hook] = activation.copy() }

    subscript(hook: HookPoint) -> Tensor { captured[hook]! }
}

extension LanguageModel {
    /// Rows `rows` of a [T, width] tensor.
    static func rows(_ tensor: Tensor, _ rows: [Int]) -> Tensor {
        let width = tensor.shape.dropFirst().reduce(1, *)
        var data: [Float] = []
        data.reserveCapacity(rows.count * width)
        for row in rows { data += tensor.data[row * width ..< (row + 1) * width] }
        return Tensor(shape: [rows.count] + tensor.shape.dropFirst(), data: data)
    }
}
