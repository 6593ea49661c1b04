import Foundation
import ModelFiles
import Testing
import Tensors
@testable import Analyses

/// Loading SAELens-format SAEs and encoding with each architecture.
struct SparseAutoencoderTests {
    static let fixture = References.repository.appendingPathComponent("Tests/Fixtures/sae/smollm2-resid8-relu512")

    /// The trained fixture encodes HF's activations as numpy does (scripts/train_test_sae.py).
    @Test func theFixtureEncodesAsNumpyDoes() throws {
        let sae = try SparseAutoencoder(directory: Self.fixture)
        #expect(sae.hookName == "blocks.8.hook_resid_pre" && sae.inputWidth == 576 && sae.featureCount == 512)
        #expect(sae.architecture == .relu)
        let golden = try SafetensorsFile(contentsOf: References.repository.appendingPathComponent("Tests/Golden/sae/features.safetensors"))
        let activations = try golden.tensor(named: "activations"), expected = try golden.tensor(named: "features")
        let features = sae.encode(activations)
        #expect(features.shape == expected.shape)
        #expect(maxDifference(features.data, expected.data) < 1e-3)
        #expect(features.data.contains { $0 > 0 } && features.data.contains { $0 == 0 })
    }

    /// A 2 → 3 SAE written here, with weights simple enough to encode by hand.
    func tinySAE(architecture: String, extra: [String: Any] = [:], threshold: [Float]? = nil) throws -> SparseAutoencoder {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lmdbg-sae-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var config: [String: Any] = ["architecture": architecture, "d_in": 2, "d_sae": 3,
                                     "metadata": ["hook_name": "blocks.0.hook_resid_pre"]]
        config.merge(extra) { $1 }
        try JSONSerialization.data(withJSONObject: config).write(to: directory.appendingPathComponent("cfg.json"))
        var writer = SafetensorsWriter()
        writer.add("W_enc", Tensor(shape: [2, 3], data: [1, 0, 1, 0, 1, -1]))
        writer.add("b_enc", Tensor(shape: [3], data: [0, -0.5, 0]))
        writer.add("W_dec", Tensor(shape: [3, 2], data: [1, 0, 0, 1, 0.5, 0.5]))
        writer.add("b_dec", Tensor(shape: [2], data: [0.25, 0.25]))
        if let threshold { writer.add("threshold", Tensor(shape: [3], data: threshold)) }
        try writer.write(to: directory.appendingPathComponent("sae_weights.safetensors"))
        return try SparseAutoencoder(directory: directory)
    }

    // x = [2.25, 1.25] → x − b_dec = [2, 1] → pre = [2, 1 − 0.5, 2 − 1] = [2, 0.5, 1].
    @Test func architectures() throws {
        let x = Tensor(shape: [1, 2], data: [2.25, 1.25])
        #expect(try tinySAE(architecture: "standard").encode(x).data == [2, 0.5, 1])
        #expect(try tinySAE(architecture: "jumprelu", threshold: [1, 0, 1]).encode(x).data == [2, 0.5, 0])
        #expect(try tinySAE(architecture: "topk", extra: ["k": 2]).encode(x).data == [2, 0, 1])
        #expect(try tinySAE(architecture: "standard", extra: ["activation_fn_str": "topk", "activation_fn_kwargs": ["k": 1]])
            .encode(x).data == [2, 0, 0])
        #expect(try tinySAE(architecture: "standard", extra: ["apply_b_dec_to_input": false]).encode(x).data == [2.25, 0.75, 1])
        // decode: f · W_dec + b_dec
        #expect(try tinySAE(architecture: "standard").decode(Tensor(shape: [1, 3], data: [2, 0.5, 1])).data == [2.75, 1.25])
    }

    @Test func refusesWhatItCannotRun() throws {
        #expect(throws: AnalysisError.self) { try tinySAE(architecture: "gated") }
        #expect(throws: AnalysisError.self) { try tinySAE(architecture: "jumprelu") }  // no threshold
        #expect(throws: AnalysisError.self) { try tinySAE(architecture: "topk") }  // no k
        #expect(throws: AnalysisError.self) { try tinySAE(architecture: "standard", extra: ["normalize_activations": "layer_norm"]) }
        #expect(throws: AnalysisError.self) { try tinySAE(architecture: "standard", extra: ["d_in": 4]) }  // shapes
    }
}
