import Debugger
import Foundation
import LMDebugProtocol
import Tensors
import Transformer

// Debugger values ↔ protocol values. Only this module knows both.

extension WireTensor {
    init(_ tensor: Tensor) { self.init(shape: tensor.shape, values: tensor.data) }

    /// The tensor, or invalid params naming `field`.
    func tensor(field: String) throws -> Tensor {
        do {
            return Tensor(shape: shape, data: try values())
        } catch {
            throw ServerError(.invalidParams, "\(field): \(error)")
        }
    }
}

extension LMDebugProtocol.TensorSummary {
    init(_ summary: Debugger.TensorSummary) {
        self.init(norm: FloatValue(summary.norm), mean: FloatValue(summary.mean), min: FloatValue(summary.min),
                  max: FloatValue(summary.max),
                  topDims: summary.topDims.map { TopDim(index: $0.index, value: FloatValue($0.value)) },
                  nanCount: summary.nanCount == 0 ? nil : summary.nanCount,
                  infCount: summary.infCount == 0 ? nil : summary.infCount)
    }
}

extension LMDebugProtocol.StackFrame {
    init(_ frame: Debugger.StackFrame) {
        self.init(id: frame.id, name: frame.name, kind: FrameKind(rawValue: frame.kind.rawValue)!, hook: frame.hook?.name,
                  layer: frame.layer, tokenStep: frame.tokenStep)
    }
}

extension LMDebugProtocol.Variable {
    init(_ variable: Debugger.Variable) {
        self.init(name: variable.name, value: variable.value, type: ValueType(rawValue: variable.type) ?? .string,
                  shape: variable.shape, summary: variable.summary.map(LMDebugProtocol.TensorSummary.init),
                  variablesReference: variable.variablesReference)
    }
}

extension StoppedNotification {
    init(_ stop: StopEvent) {
        self.init(sessionId: stop.runID, reason: LMDebugProtocol.StopReason(rawValue: stop.reason.rawValue)!,
                  hook: stop.hook.name, layer: stop.layer, positions: PositionRange(stop.positions),
                  tokenStep: stop.tokenStep, breakpointIds: stop.breakpointIDs.isEmpty ? nil : stop.breakpointIDs,
                  exceptionFilter: stop.exception.map { ExceptionFilter(rawValue: $0.rawValue)! },
                  recorded: stop.isInPast ? true : nil, description: stop.description)
    }
}

extension TerminatedNotification {
    init(_ summary: RunSummary) {
        self.init(sessionId: summary.runID, reason: TerminationReason(rawValue: summary.ending.rawValue)!,
                  tokens: summary.tokens.map(Int.init), text: summary.text, activePatches: summary.activePatchIDs,
                  message: summary.message)
    }
}

extension OutputNotification {
    init(_ output: OutputEvent) {
        self.init(sessionId: output.runID, category: OutputCategory(rawValue: output.category.rawValue)!,
                  text: output.text, token: output.token.map(Int.init))
    }
}

extension ModelInfo {
    init(model: LanguageModel, url: URL) {
        let config = model.config
        // Sizes no real dimension takes stand for the sequence axes.
        let positions = 1_000_003, cached = 2_000_000
        let hookPoints = model.hookPoints.map { hook in
            HookPointInfo(name: hook.name, shape: (model.hookShape(hook, tokens: positions, cached: cached) ?? []).map { size in
                size == positions ? .pos : size == positions + cached ? .kpos : .size(size)
            })
        }
        self.init(name: url.deletingPathExtension().lastPathComponent, path: url.path,
                  architecture: config.architecture.rawValue,
                  config: LMDebugProtocol.ModelConfig(nLayers: config.layerCount, dModel: config.modelDim,
                                                      nHeads: config.headCount, nKVHeads: config.kvHeadCount,
                                                      dHead: config.headDim, dMLP: config.mlpDim,
                                                      vocabSize: config.vocabularySize,
                                                      contextLength: config.contextLength),
                  hookPoints: hookPoints)
    }
}

extension PatchSpec {
    /// The patch as the debugger takes it; `index` names it in messages (`patches[2].vector`). Feature
    /// operations find their SAE in `session`.
    func patch(index: Int, session: DebugSession) throws -> Debugger.Patch {
        let field = "patches[\(index)]"
        func required<T>(_ value: T?, _ name: String) throws -> T {
            guard let value else { throw ServerError(.invalidParams, "\(field).\(name): required by op '\(op.rawValue)'") }
            return value
        }
        let operation: Debugger.PatchOperation
        switch op {
        case .set: operation = .set(try required(value, "value").tensor(field: "\(field).value"))
        case .add:
            let vector = try required(self.vector, "vector").tensor(field: "\(field).vector")
            let factor = Float(scale ?? 1)
            operation = .add(Tensor(shape: vector.shape, data: vector.data.map { $0 * factor }))
        case .zero: operation = .zero
        case .mean: operation = .mean
        case .scale: operation = .scale(Float(try required(scale, "scale")))
        case .projectOut: operation = .projectOut(try required(self.vector, "vector").tensor(field: "\(field).vector"))
        case .resample: operation = .resample(source: try required(source, "source"))
        case .ablateFeatures, .steerFeatures:
            let mode: FeaturePatch.Mode = op == .ablateFeatures ? .ablate : .steer(scale: Float(scale ?? 1))
            do {
                operation = .features(try session.featurePatch(sae: sae, features: try required(features, "features"), mode: mode))
            } catch let error as DebugError {
                throw ServerError(error, state: session.state)
            }
        }
        let positions: Debugger.PatchPositions = switch self.positions ?? .all {
        case .all: .all
        case .prompt: .prompt
        case .generated: .generated
        case .list(let list): .explicit(list)
        }
        return Debugger.Patch(hook: hook, positions: positions, heads: heads, operation: operation)
    }
}

extension Debugger.SamplingOptions {
    init(_ sampling: Sampling?) {
        self.init(temperature: Float(sampling?.temperature ?? 0), topK: sampling?.topK, topP: sampling?.topP.map(Float.init),
                  seed: UInt64(truncatingIfNeeded: sampling?.seed ?? 0))
    }
}
