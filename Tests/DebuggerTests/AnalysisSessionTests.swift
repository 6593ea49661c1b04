import Foundation
import ModelFiles
import Testing
import Tensors
import Transformer
@testable import Analyses
@testable import Debugger

/// The analyses through a debug session on SmolLM2-135M: steering and direction ablation against HF transformers
/// (scripts/make_analysis_references.py), SAE features at stops against numpy (scripts/train_test_sae.py).
@Suite(.serialized) struct AnalysisSessionTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let saeDirectory = repository.appendingPathComponent("Tests/Fixtures/sae/smollm2-resid8-relu512")

    static func golden(_ path: String) throws -> SafetensorsFile {
        try SafetensorsFile(contentsOf: repository.appendingPathComponent(path))
    }

    static func settings(_ analysis: String) throws -> [String: Any] {
        let file = try golden("Tests/Golden/analyses/references.safetensors")
        let all = try JSONSerialization.jsonObject(with: Data(file.metadata["settings"]!.utf8)) as! [String: Any]
        return all[analysis] as! [String: Any]
    }

    @Test func steeringReproducesHFsGreedyContinuation() throws {
        let (session, log) = try SmolLM2.session()
        let references = try Self.golden("Tests/Golden/analyses/references.safetensors")
        let settings = try Self.settings("steer")
        let hook = "blocks.\(settings["layer"] as! Int).hook_resid_pre"
        let pairs = (settings["pairs"] as! [[String]]).map { (positive: $0[0], negative: $0[1]) }
        let direction = try session.contrastDirection(pairs: pairs, hook: hook, reduction: .lastPosition)
        let reference = try references.tensor(named: "steer.direction")
        let norm = reference.data.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(zip(direction.data, reference.data).allSatisfy { abs($0 - $1) < 1e-3 * norm })

        let prompt = settings["prompt"] as! String, count = settings["tokens"] as! Int
        try session.launch(LaunchConfiguration(prompt: prompt, maxNewTokens: count))
        let unsteered = try #require(log.termination())
        #expect(unsteered.tokens == (try references.int32Values(named: "steer.unsteered")))

        let id = try session.steer(direction: direction, hook: hook, scale: Float(settings["scale"] as! Double))
        #expect(session.listPatches().map(\.id) == [id])
        try session.launch(LaunchConfiguration(prompt: prompt, maxNewTokens: count))
        let steered = try #require(log.termination())
        #expect(steered.tokens == (try references.int32Values(named: "steer.tokens")), "HF: steered greedy continuation")
        #expect(steered.tokens != unsteered.tokens)
    }

    @Test func directionAblationMatchesHF() throws {
        let (session, log) = try SmolLM2.session()
        let references = try Self.golden("Tests/Golden/analyses/references.safetensors")
        let direction = try references.tensor(named: "steer.direction")
        let id = try session.ablate(direction: direction)
        #expect(session.listPatches().first { $0.id == id }?.hooks.count == 90, "resid_pre, resid_mid, resid_post of 30 layers")
        try session.launch(LaunchConfiguration(prompt: try Self.settings("ablate")["prompt"] as! String))
        let logits = try #require(log.termination()).finalLogits
        let expected = try references.tensor(named: "ablate.logits").data
        #expect(zip(logits, expected).map { abs($0 - $1) }.max()! < 5e-3)
    }

    /// Stops at the SAE's hook on the golden prompt; returns the session, the event log and the stop.
    func stopAtTheSAEHook(condition: String? = nil, patches: (DebugSession, AttachedSAE) throws -> Void = { _, _ in })
        throws -> (DebugSession, EventLog, AttachedSAE, StopEvent?) {
        let (session, log) = try SmolLM2.session()
        let attached = try session.attachSAE(directory: Self.saeDirectory)
        try patches(session, attached)
        session.setBreakpoints([BreakpointSpec(hook: attached.hook.name, condition: condition)])
        let prompt = try Self.golden("Tests/Golden/sae/features.safetensors").metadata["prompt"]!
        try session.launch(LaunchConfiguration(prompt: prompt))
        return (session, log, attached, log.nextStop())
    }

    @Test func featuresAtAStopEqualNumpysEncoding() throws {
        let golden = try Self.golden("Tests/Golden/sae/features.safetensors")
        let (session, _, attached, stop) = try stopAtTheSAEHook()
        #expect(attached.hook == .block(8, .residPre) && stop?.hook == attached.hook)
        let expected = try golden.tensor(named: "features")
        let reading = try session.saeReading()
        #expect(reading.features.shape == expected.shape)
        #expect(zip(reading.features.data, expected.data).allSatisfy { abs($0 - $1) < 2e-3 })
        #expect(reading.relativeErrors.allSatisfy { $0 < 1 })

        // feature(i) is the column of the encoding; the scope lists the SAE's reading.
        let strongest = (0..<expected.shape[1]).max { expected.data[expected.shape[1] + $0] < expected.data[expected.shape[1] + $1] }!
        let column = try session.readTensor(expression: "feature(\(strongest))")
        #expect(column.shape == [expected.shape[0]])
        #expect(abs(column.data[1] - expected.data[expected.shape[1] + strongest]) < 2e-3)
        let scopes = try session.scopes(frameID: 1)
        let scope = try #require(scopes.first { $0.name.hasPrefix("SAE 1 features") })
        let variables = try session.variables(reference: scope.variablesReference, start: 0, count: nil).variables
        #expect(variables.first { $0.name == "features" }?.shape == expected.shape)
        #expect(variables.first { $0.name == "top[1]" }?.value.hasPrefix("#\(strongest) ") == true)
        session.terminate()
    }

    @Test func featureConditionsDecideTheStop() throws {
        let golden = try Self.golden("Tests/Golden/sae/features.safetensors").tensor(named: "features")
        let width = golden.shape[1]
        let strongest = (0..<width).max { golden.data[width + $0] < golden.data[width + $1] }!
        let peak = (0..<golden.shape[0]).map { golden.data[$0 * width + strongest] }.max()!
        let (stopping, _, _, stop) = try stopAtTheSAEHook(condition: "any(feature(\(strongest)) > \(peak / 2))")
        #expect(stop != nil)
        stopping.terminate()
        let (passing, _, _, none) = try stopAtTheSAEHook(condition: "any(feature(\(strongest), sae=1) > \(peak * 2))")
        #expect(none == nil && passing.state == .terminated)
    }

    /// Ablation removes exactly f_i(x) · W_dec[i]; steering adds scale · W_dec[i]. Checked with numpy's
    /// features and W_dec read straight from the file.
    @Test func featurePatchesEditTheActivation() throws {
        let golden = try Self.golden("Tests/Golden/sae/features.safetensors").tensor(named: "features")
        let weights = try SafetensorsFile(contentsOf: Self.saeDirectory.appendingPathComponent("sae_weights.safetensors"))
        let decoder = try weights.tensor(named: "W_dec")
        let width = golden.shape[1], d = decoder.shape[1]
        let feature = (0..<width).max { golden.data[width + $0] < golden.data[width + $1] }!
        let row = Array(decoder.data[feature * d ..< (feature + 1) * d])

        let (plain, _, _, _) = try stopAtTheSAEHook()
        let x = try plain.readTensor()
        plain.terminate()
        let (ablated, _, _, _) = try stopAtTheSAEHook { session, _ in
            _ = try session.patchFeatures(sae: nil, features: [feature], mode: .ablate)
        }
        let without = try ablated.readTensor()
        ablated.terminate()
        let (steered, _, _, _) = try stopAtTheSAEHook { session, attached in
            _ = try session.patchFeatures(sae: attached.id, features: [feature], mode: .steer(scale: 3), positions: .explicit([2]))
        }
        let with = try steered.readTensor()
        steered.terminate()

        for position in 0..<golden.shape[0] {
            let f = golden.data[position * width + feature]
            for i in 0..<d {
                #expect(abs(without.data[position * d + i] - (x.data[position * d + i] - f * row[i])) < 2e-3)
                let added: Float = position == 2 ? 3 * row[i] : 0
                #expect(abs(with.data[position * d + i] - (x.data[position * d + i] + added)) < 1e-4)
            }
        }
    }

    @Test func analysesRunOnTheStoppedRunsTokens() throws {
        let (session, log) = try SmolLM2.session()
        session.setBreakpoints([BreakpointSpec(hook: "blocks.5.hook_resid_post")])
        try session.launch(LaunchConfiguration(prompt: "The capital of France is"))
        _ = log.nextStop()
        let table = try session.logitLensTable(prompt: nil, positions: nil, k: 3)
        #expect(table.tokens == session.model.tokenize("The capital of France is") && table.positions == [4])
        let atStop = try session.logitLens(expression: "x[-1]", k: 3)
        let inTable = table.entries.first { $0.hook == .block(5, .residPost) }!.top
        #expect(atStop.count == 1 && atStop[0].map(\.token) == inTable.map(\.token))
        #expect(zip(atStop[0], inTable).allSatisfy { abs($0.logit - $1.logit) < 1e-4 })
        #expect(throws: DebugError.self) { try session.logitLens(expression: "x[-1, :3]", k: 3) }
        session.terminate()
    }
}
