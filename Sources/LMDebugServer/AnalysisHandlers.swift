import Analyses
import Debugger
import Foundation
import LMDebugProtocol
import Tensors
import Transformer

/// The handlers of the analysis requests: `analysis/*`, `steer/*` and `sae/*`.
extension DebugServer {
    func logitLens(_ request: LogitLensRequest, _ context: RequestContext) throws -> LogitLensResult {
        let session = try modelSession()
        let k = request.k ?? 5
        if let expression = request.expression {
            guard request.prompt == nil, request.positions == nil else {
                throw ServerError(.invalidParams, "expression: not with prompt or positions")
            }
            let rows = try debug(session) { try session.logitLens(expression: expression, k: k) }
            return LogitLensResult(rows: rows.enumerated().map { LensRow(index: $0, top: $1.map(lensToken)) })
        }
        let table = try debug(session) { try session.logitLensTable(prompt: request.prompt, positions: request.positions, k: k) }
        return LogitLensResult(tokens: table.tokens.map(Int.init), rows: table.entries.map {
            LensRow(hook: $0.hook.name, position: $0.position, top: $0.top.map(lensToken))
        })
    }

    func attribution(_ request: AttributionRequest, _ context: RequestContext) throws -> AttributionResult {
        let session = try modelSession()
        let target = LogitTarget(token: try tokenID(request.token, field: "token"),
                                 baseline: try request.baseline.map { try tokenID($0, field: "baseline") })
        let attribution = try debug(session) {
            try session.attribution(prompt: request.prompt, position: request.position, target: target)
        }
        return AttributionResult(position: attribution.position, token: request.token, baseline: request.baseline,
                                 logit: Double(attribution.logit), total: Double(attribution.total),
                                 finalScale: Double(attribution.finalScale), embed: Double(attribution.embed),
                                 posEmbed: attribution.positionEmbed.map(Double.init),
                                 attention: attribution.attention.map(Double.init),
                                 heads: attribution.heads.map { $0.map(Double.init) }, mlp: attribution.mlps.map(Double.init),
                                 constant: attribution.constant == 0 ? nil : Double(attribution.constant))
    }

    func patchSweep(_ request: PatchSweepRequest, _ context: RequestContext) throws -> PatchSweepResult {
        let session = try modelSession()
        let metric: PatchMetric
        switch request.metric.kind {
        case .logitDifference:
            guard let token = request.metric.token, let baseline = request.metric.baseline else {
                throw ServerError(.invalidParams, "metric: logitDifference needs token and baseline")
            }
            metric = .logitDifference(try tokenID(token, field: "metric.token"), try tokenID(baseline, field: "metric.baseline"))
        case .probability:
            guard let token = request.metric.token else { throw ServerError(.invalidParams, "metric: probability needs token") }
            metric = .probability(try tokenID(token, field: "metric.token"))
        case .klDivergence: metric = .klDivergence
        }
        let site = PatchSite(rawValue: request.site.rawValue)!
        let direction = PatchDirection(rawValue: (request.direction ?? .denoise).rawValue)!
        let report = { (value: WorkDoneProgress) in
            if let token = request.workDoneToken { context.progress(token, value) }
        }
        report(.begin(WorkDoneProgressBegin(title: "Patching sweep (\(request.site.rawValue))", percentage: 0)))
        var lastPercentage = 0
        let result: Analyses.PatchingSweepResult
        do {
            result = try debug(session) {
                try session.patchingSweep(clean: request.clean, corrupted: request.corrupted, site: site, metric: metric,
                                          direction: direction, positions: request.positions,
                                          progress: { fraction in
                                              let percentage = Int(fraction * 100)
                                              guard percentage > lastPercentage else { return }
                                              lastPercentage = percentage
                                              report(.report(WorkDoneProgressReport(percentage: percentage)))
                                          },
                                          isCancelled: context.isCancelled)
            }
        } catch {
            report(.end(WorkDoneProgressEnd(message: "failed")))
            throw error
        }
        report(.end(WorkDoneProgressEnd(message: result.cancelled ? "cancelled after \(result.completed) of \(result.total) cells" : "done")))
        func wire(_ grid: [[Float?]]) -> [[Double?]] { grid.map { $0.map { $0.map(Double.init) } } }
        return PatchSweepResult(site: request.site, direction: request.direction ?? .denoise,
                                columnAxis: site == .headZ ? "head" : "position", columns: result.columns,
                                values: wire(result.values), normalised: wire(result.normalised),
                                clean: Double(result.clean), corrupted: Double(result.corrupted),
                                completed: result.completed, total: result.total, cancelled: result.cancelled)
    }

    func steerFromContrast(_ request: SteerFromContrastRequest, _ context: RequestContext) throws -> SteerFromContrastResult {
        let session = try modelSession()
        let hook: String
        switch (request.layer, request.hook) {
        case (let layer?, nil): hook = HookPoint.block(layer, .residPre).name
        case (nil, let name?): hook = name
        default: throw ServerError(.invalidParams, "give exactly one of layer and hook")
        }
        let reduction = ContrastReduction(rawValue: (request.reduction ?? .lastPosition).rawValue)!
        let direction = try debug(session) {
            try session.contrastDirection(pairs: request.pairs.map { ($0.positive, $0.negative) }, hook: hook, reduction: reduction)
        }
        let norm = Double(direction.data.reduce(0) { $0 + $1 * $1 }.squareRoot())
        let spec: PatchSpec? = switch request.apply ?? .add {
        case .directionOnly: nil
        case .add: PatchSpec(hook: hook, positions: request.positions ?? .all, op: .add, vector: WireTensor(direction),
                             scale: request.scale ?? 1)
        case .ablate: PatchSpec(hook: DebugSession.residualStreamHooks, positions: .all, op: .projectOut, vector: WireTensor(direction))
        }
        var patch: LMDebugProtocol.Patch?
        if let spec {
            let id = try debug(session) { try session.addPatches([try spec.patch(index: 0, session: session)])[0] }
            let hooks = session.listPatches().first { $0.id == id }?.hooks.count ?? 0
            patchSpecs.append((id: id, hooks: hooks, spec: spec))
            patch = LMDebugProtocol.Patch(id: id, hooks: hooks, spec: spec)
        }
        return SteerFromContrastResult(hook: hook, direction: WireTensor(direction), norm: norm, patch: patch)
    }

    func loadSAE(_ request: LoadSAERequest, _ context: RequestContext) throws -> SAEInfo {
        let session = try modelSession()
        let directory = URL(fileURLWithPath: request.path).standardizedFileURL
        let attached = try debug(session) { try session.attachSAE(directory: directory, name: request.name) }
        let sae = attached.sae
        let (architecture, k): (SAEArchitectureName, Int?) = switch sae.architecture {
        case .relu: (.relu, nil)
        case .jumpReLU: (.jumprelu, nil)
        case .topK(let k): (.topk, k)
        }
        return SAEInfo(id: attached.id, name: attached.name, hook: attached.hook.name, dIn: sae.inputWidth,
                       dSae: sae.featureCount, architecture: architecture, k: k)
    }

    func saeFeatures(_ request: SAEFeaturesRequest, _ context: RequestContext) throws -> SAEFeaturesResult {
        let session = try runningSession()
        let k = request.k ?? 10
        guard k >= 1 else { throw ServerError(.invalidParams, "k: must be at least 1") }
        let reading = try debug(session) { try session.saeReading(id: request.sae) }
        let width = reading.sae.sae.featureCount
        let rows = reading.top(k).enumerated().map { row, top in
            FeatureRow(position: reading.positions.lowerBound + row,
                       features: top.map { FeatureActivation(feature: $0.feature, activation: Double($0.activation)) },
                       l0: reading.features.data[row * width ..< (row + 1) * width].filter { $0 > 0 }.count,
                       errorNorm: Double(reading.errorNorms[row]), relativeError: Double(reading.relativeErrors[row]))
        }
        return SAEFeaturesResult(sae: reading.sae.id, hook: reading.sae.hook.name, rows: rows)
    }

    // MARK: Helpers

    private func lensToken(_ score: Transformer.TokenScore) -> LensToken {
        LensToken(token: Int(score.token), piece: model?.tokenizer.piece(score.token) ?? "", logit: Double(score.logit),
                  probability: Double(score.probability))
    }

    private func tokenID(_ token: Int, field: String) throws -> Int32 {
        guard let id = Int32(exactly: token), id >= 0, Int(id) < (model?.config.vocabularySize ?? 0) else {
            throw ServerError(.invalidParams, "\(field): token \(token) is outside the vocabulary")
        }
        return id
    }
}
