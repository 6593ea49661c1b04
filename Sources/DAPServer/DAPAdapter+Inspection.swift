import Debugger
import Foundation
import JSONRPC
import Tensors

// Frames, scopes, variables, evaluation, writes and memory at a stop.
extension DAPAdapter {
    func stackTrace(_ arguments: StackTraceArguments) throws -> JSONValue? {
        let session = try liveSession()
        let frames = try session.stackTrace()
        let stop = session.currentStop
        let all = frames.map { frame in
            var name = frame.name
            if frame.kind == .token, let stop {
                name += ": positions \(stop.positions.lowerBound)..<\(stop.positions.upperBound)"
            }
            return StackFrame(id: frame.id, name: name, presentationHint: frame.kind == .hook ? "normal" : "label")
        }
        let start = min(max(arguments.startFrame ?? 0, 0), all.count)
        let levels = arguments.levels.flatMap { $0 > 0 ? $0 : nil } ?? all.count
        return ["stackFrames": encoded(Array(all[start..<min(all.count, start + levels)])),
                "totalFrames": .integer(Int64(all.count))]
    }

    func scopes(_ arguments: ScopesArguments) throws -> JSONValue? {
        let scopes = try liveSession().scopes(frameID: arguments.frameId)
        for scope in scopes { register(scope.variablesReference, as: .scope) }
        return ["scopes": encoded(scopes.map {
            Scope(name: $0.name, presentationHint: $0.name == "Current" ? "locals" : nil,
                  variablesReference: $0.variablesReference)
        })]
    }

    /// A scope's variables (named), or a tensor's slices along its first axis (indexed, paged with start/count).
    func variables(_ arguments: VariablesArguments) throws -> JSONValue? {
        let session = try liveSession()
        let container = container(arguments.variablesReference)
        switch (container, arguments.filter) {
        case (.scope?, "indexed"?), (.tensor?, "named"?): return ["variables": []]
        default: break
        }
        let page = try session.variables(reference: arguments.variablesReference, start: arguments.start ?? 0,
                                         count: arguments.count)
        let live = liveNames(session)
        return ["variables": encoded(page.variables.map { variable -> Variable in
            let expression: String?
            let childContainer: Container
            switch container {
            case .tensor(let root, let isLive)?:
                expression = subscripted(root, variable.name)
                childContainer = .tensor(root: root, live: isLive)
            default:
                expression = variable.name == "hook" ? nil : variable.name
                childContainer = .tensor(root: variable.name, live: live.contains(variable.name))
            }
            register(variable.variablesReference, as: childContainer)
            return Variable(name: variable.name, value: variable.value, type: typeName(variable.type, shape: variable.shape),
                            evaluateName: expression, variablesReference: variable.variablesReference,
                            indexedVariables: variable.variablesReference > 0 ? variable.shape?.first : nil,
                            memoryReference: variable.type == "tensor" ? expression : nil)
        })]
    }

    func evaluate(_ arguments: EvaluateArguments) throws -> JSONValue? {
        let session = try liveSession()
        let evaluation = try session.evaluate(arguments.expression, frameID: arguments.frameId)
        let shape = evaluation.summary?.shape
        register(evaluation.variablesReference,
                 as: .tensor(root: arguments.expression, live: isLiveActivation(arguments.expression, in: session)))
        var body = EvaluateBody(result: evaluation.text, type: typeName(evaluation.value.kind.rawValue, shape: shape),
                                variablesReference: evaluation.variablesReference,
                                indexedVariables: evaluation.variablesReference > 0 ? shape?.first : nil,
                                memoryReference: shape == nil ? nil : arguments.expression)
        if arguments.context == "lmdbg.data" { body.data = try data(of: evaluation.value) }
        return encoded(body)
    }

    /// Writes `value` (an expression) into the activation at the stop: the variable `x` or the stop's hook in a
    /// scope, or a slice of it.
    func setVariable(_ arguments: SetVariableArguments) throws -> JSONValue? {
        let session = try liveSession()
        let expression: String
        let slice: TensorSlice?
        switch container(arguments.variablesReference) {
        case .scope?:
            guard liveNames(session).contains(arguments.name) else { throw notWritable(arguments.name, session) }
            expression = arguments.name
            slice = nil
        case .tensor(let root, let live)?:
            expression = subscripted(root, arguments.name)
            guard live else { throw notWritable(expression, session) }
            slice = try TensorSlice(parsing: arguments.name)
        case nil:
            throw DAPError(.invalidParams, "variablesReference: \(arguments.variablesReference) is not a reference at this stop")
        }
        return try write(arguments.value, to: expression, slice: slice, in: session)
    }

    /// Writes `value` into the activation at the stop named by `expression`: `x` or the stop's hook name,
    /// optionally subscripted (`x[-1, :10]`).
    func setExpression(_ arguments: SetExpressionArguments) throws -> JSONValue? {
        let session = try liveSession()
        let text = arguments.expression.trimmingCharacters(in: .whitespaces)
        let base = String(text.prefix { $0 != "[" }).trimmingCharacters(in: .whitespaces)
        let subscripts = text.dropFirst(text.prefix { $0 != "[" }.count)
        guard liveNames(session).contains(base), subscripts.isEmpty || subscripts.hasSuffix("]") else {
            throw notWritable(text, session)
        }
        return try write(arguments.value, to: text, slice: subscripts.isEmpty ? nil : try TensorSlice(parsing: String(subscripts)),
                         in: session)
    }

    /// Raw float32 bytes (little-endian) of the tensor that `memoryReference`, an expression, evaluates to.
    func readMemory(_ arguments: ReadMemoryArguments) throws -> JSONValue? {
        let offset = arguments.offset ?? 0
        guard offset >= 0, arguments.count >= 0 else { throw DAPError(.invalidParams, "offset and count must not be negative") }
        guard arguments.count <= options.memoryBudget else {
            throw DAPError(.memoryBudgetExceeded, "count: \(arguments.count) bytes is more than the memory budget allows")
        }
        let tensor = try liveSession().readTensor(expression: arguments.memoryReference)
        let bytes = littleEndianBytes(tensor.data)
        let available = max(0, min(arguments.count, bytes.count - offset))
        let data = available > 0 ? Data(bytes[offset..<(offset + available)]) : Data()
        return encoded(ReadMemoryBody(address: "0x" + String(offset, radix: 16),
                                      unreadableBytes: arguments.count > available ? arguments.count - available : nil,
                                      data: data.base64EncodedString()))
    }

    func exceptionInfo() throws -> JSONValue? {
        guard let stop = try liveSession().currentStop, stop.reason == .exception, let kind = stop.exception else {
            throw DAPError(.invalidSessionState, "the run is not stopped at an exception")
        }
        return encoded(ExceptionInfoBody(exceptionId: kind.rawValue, description: stop.description))
    }

    // MARK: Helpers

    /// Evaluates `value`, writes it at `slice` of the live activation, and answers the new value of `expression`.
    private func write(_ value: String, to expression: String, slice: TensorSlice?, in session: DebugSession) throws -> JSONValue? {
        let tensor = try session.readTensor(expression: value)
        try session.write(tensor, slice: slice)
        forgetReferences()
        if clientSupportsInvalidated {
            post(.event("invalidated", body: ["areas": ["variables"], "threadId": .integer(Int64(Self.threadID))]))
        }
        let evaluation = try session.evaluate(expression)
        register(evaluation.variablesReference, as: .tensor(root: expression, live: true))
        let shape = evaluation.summary?.shape
        return encoded(SetValueBody(value: evaluation.text, type: typeName(evaluation.value.kind.rawValue, shape: shape),
                                    variablesReference: evaluation.variablesReference,
                                    indexedVariables: evaluation.variablesReference > 0 ? shape?.first : nil,
                                    memoryReference: shape == nil ? nil : expression))
    }

    /// The names that denote the live activation at the shown stop: `x` and the stop's hook; none in the past.
    private func liveNames(_ session: DebugSession) -> Set<String> {
        guard let stop = session.currentStop, !stop.isInPast else { return [] }
        return ["x", stop.hook.name]
    }

    private func isLiveActivation(_ expression: String, in session: DebugSession) -> Bool {
        liveNames(session).contains(expression.trimmingCharacters(in: .whitespaces))
    }

    private func notWritable(_ expression: String, _ session: DebugSession) -> DAPError {
        guard let stop = session.currentStop, !stop.isInPast else {
            return DAPError(.invalidParams, "this stop is in the recorded past: step forward to the live stop to write")
        }
        return DAPError(.invalidParams, "'\(expression)' is not the activation at this stop: only x (\(stop.hook.name)) and its "
            + "slices can be set; patch other hooks with the lmdbg protocol's patch/set")
    }

    /// The value as data for `context: "lmdbg.data"`.
    private func data(of value: ExpressionValue) throws -> EvaluatedData {
        switch value {
        case .tensor(let tensor):
            guard tensor.count * 4 <= options.memoryBudget else {
                throw DAPError(.memoryBudgetExceeded, "the tensor \(tensor.shape) is larger than the memory budget; evaluate a slice")
            }
            return EvaluatedData(kind: "tensor", tensor: TensorData(shape: tensor.shape,
                                                                   data: Data(littleEndianBytes(tensor.data)).base64EncodedString()))
        case .number(let number): return EvaluatedData(kind: "number", number: NumberValue(value: number))
        case .bool(let flag): return EvaluatedData(kind: "bool", bool: flag)
        case .string(let text): return EvaluatedData(kind: "string", string: text)
        case .tokens(let rows):
            return EvaluatedData(kind: "tokens", tokens: rows.map {
                EvaluatedData.TokenRow(token: $0.token, piece: $0.piece, score: NumberValue(value: $0.score))
            })
        }
    }
}

/// `root` indexed by `subscripts` (`[2, 5]`), with parentheses around a root that is not a plain name.
func subscripted(_ root: String, _ subscripts: String) -> String {
    let plain = root.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }
    return plain ? root + subscripts : "(\(root))" + subscripts
}

/// `float32[5, 576]` for a tensor, else the value's kind.
func typeName(_ kind: String, shape: [Int]?) -> String {
    guard kind == "tensor", let shape else { return kind }
    return "float32[" + shape.map(String.init).joined(separator: ", ") + "]"
}

/// The elements as IEEE-754 float32, little-endian.
func littleEndianBytes(_ values: [Float]) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: values.count * 4)
    bytes.withUnsafeMutableBytes { raw in
        for (index, value) in values.enumerated() {
            raw.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: index * 4, as: UInt32.self)
        }
    }
    return bytes
}
