import Analyses
import Tensors
import Transformer

/// The interpretability analyses, one request away from any stop. Each runs its own forward passes on the
/// session's model (with its own KV caches, beside a suspended run), unpatched.
extension DebugSession {
    /// The engine behind the session; analyses need the real model.
    func languageModel() throws -> LanguageModel {
        guard let model = model as? LanguageModel else {
            throw DebugError.invalidArgument(field: "model", message: "analyses need a loaded language model")
        }
        return model
    }

    /// The tokens an analysis runs on: `prompt`'s, or without one the current (or last) run's tokens so far.
    public func analysisTokens(_ prompt: String?) throws -> [Int32] {
        if let prompt {
            let tokens = model.tokenize(prompt)
            guard !tokens.isEmpty else { throw DebugError.invalidArgument(field: "prompt", message: "has no tokens") }
            return tokens
        }
        guard let tokens = lock.withLock({ run?.allTokens }) else {
            throw DebugError.invalidArgument(field: "prompt", message: "give a prompt, or launch a run to analyse its tokens")
        }
        return tokens
    }

    /// The logit lens over every layer (resid_pre, resid_mid, resid_post, then the output) at `positions`
    /// (default: the last), for `prompt` or the run's tokens.
    public func logitLensTable(prompt: String?, positions: [Int]?, k: Int) throws -> LogitLensTable {
        let model = try languageModel(), tokens = try analysisTokens(prompt)
        return try analysis { try model.logitLensTable(tokens: tokens, positions: positions ?? [-1], k: k) }
    }

    /// The logit lens of each d_model row of an expression's value at the stop (`x[-1]`, `resid_mid` …).
    public func logitLens(expression: String, k: Int) throws -> [[Transformer.TokenScore]] {
        let model = try languageModel(), tensor = try readTensor(expression: expression)
        return try analysis { try model.logitLensTop(tensor, k: k) }
    }

    /// Direct logit attribution of `target` at `position` (default: the last).
    public func attribution(prompt: String?, position: Int?, target: LogitTarget) throws -> LogitAttribution {
        let model = try languageModel(), tokens = try analysisTokens(prompt)
        return try analysis { try model.directLogitAttribution(tokens: tokens, position: position ?? -1, target: target) }
    }

    /// An activation-patching sweep between two prompts of the same token count.
    public func patchingSweep(
        clean: String, corrupted: String, site: PatchSite, metric: PatchMetric, direction: PatchDirection,
        positions: [Int]?, progress: (Double) -> Void, isCancelled: () -> Bool
    ) throws -> PatchingSweepResult {
        let model = try languageModel()
        let spec = PatchingSweepSpec(clean: try analysisTokens(clean), corrupted: try analysisTokens(corrupted),
                                     site: site, metric: metric, direction: direction, positions: positions)
        return try analysis { try model.patchingSweep(spec, progress: progress, isCancelled: isCancelled) }
    }

    /// A steering direction from contrasting prompts at `hook`, as `contrastDirection` computes it.
    public func contrastDirection(pairs: [(positive: String, negative: String)], hook name: String,
                                  reduction: ContrastReduction) throws -> Tensor {
        guard let hook = HookPoint(name: name), hookIndices[hook] != nil else { throw DebugError.unknownHook(name, field: "hook") }
        let model = try languageModel()
        let pairs = try pairs.map { ContrastPair(positive: try analysisTokens($0.positive), negative: try analysisTokens($0.negative)) }
        return try analysis { try model.contrastDirection(pairs: pairs, hook: hook, reduction: reduction) }
    }

    /// Steering: adds `scale × direction` at `hook` on `positions`, as a patch; returns its id.
    public func steer(direction: Tensor, hook: String, scale: Float, positions: PatchPositions = .all) throws -> Int {
        guard scale.isFinite else { throw DebugError.invalidArgument(field: "scale", message: "must be finite") }
        let scaled = Tensor(shape: direction.shape, data: direction.data.map { $0 * scale })
        return try addPatches([Patch(hook: hook, positions: positions, operation: .add(scaled))])[0]
    }

    /// Direction ablation: projects `direction` out of every residual-stream hook (every layer's resid_pre,
    /// resid_mid and resid_post) at every position, as one patch; returns its id.
    public func ablate(direction: Tensor) throws -> Int {
        try addPatches([Patch(hook: Self.residualStreamHooks, operation: .projectOut(direction))])[0]
    }

    /// The glob of every residual-stream hook.
    public static let residualStreamHooks = "blocks.*.hook_resid_*"

    /// Runs an analysis, turning its argument errors into the debugger's.
    private func analysis<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as AnalysisError {
            throw DebugError.invalidArgument(field: error.field, message: error.message)
        }
    }
}
