// swift-tools-version:6.0
import PackageDescription

/// Engine modules do heavy math in Swift loops; debug builds run those ~1000× slower,
/// so they are always optimised (the tests exercise them on real models).
let optimised: [SwiftSetting] = [.unsafeFlags(["-O"])]

let package = Package(
    name: "lmdbg",
    products: [
        .executable(name: "lmdbg", targets: ["lmdbg"]),
        .executable(name: "lmdbg-repl", targets: ["lmdbg-repl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries, found through pkg-config.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CJansson", pkgConfig: "jansson", providers: [.apt(["libjansson-dev"])]),

        // Protocol side: JSON-RPC ← protocol types ← server.
        .target(name: "JSONRPC", dependencies: ["CJansson"]),
        .target(name: "LMDebugProtocol", dependencies: ["JSONRPC"]),
        // Reads Protocol/lmdbg.schema.json and validates JSON against it (for tests of the protocol and server).
        .target(name: "ProtocolSchema", dependencies: ["JSONRPC"]),

        // Engine side: tensors ← model files / tokenizer ← transformer ← debugger.
        // AVX2/AVX-512 sgemm, chosen at run time: OpenBLAS 0.3.21 does not recognise recent Xeons and runs
        // its SSE3 (Prescott) kernels there, at a third of the speed.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "Tensors", dependencies: ["CBLAS", "CKernels"], swiftSettings: optimised),
        .target(name: "ModelFiles", dependencies: ["Tensors"], swiftSettings: optimised),
        .target(name: "Tokenizers", dependencies: ["ModelFiles"], swiftSettings: optimised),
        .target(name: "Transformer", dependencies: ["Tensors", "ModelFiles", "Tokenizers"], swiftSettings: optimised),
        // Interpretability analyses on the engine: logit lens, attribution, patching sweeps, steering, SAEs.
        .target(name: "Analyses", dependencies: ["Transformer", "Tensors", "ModelFiles"], swiftSettings: optimised),
        .target(name: "Debugger", dependencies: ["Transformer", "Analyses"]),

        // Where the two meet.
        .target(name: "LMDebugServer", dependencies: ["LMDebugProtocol", "Debugger", "Analyses", "ModelFiles"]),
        // The Debug Adapter Protocol in front of the same debugger (`lmdbg --dap`).
        .target(name: "DAPServer", dependencies: ["JSONRPC", "Debugger", "Transformer", "ModelFiles"]),
        .executableTarget(name: "lmdbg", dependencies: [
            "JSONRPC", "LMDebugServer", "DAPServer", "Analyses", "Transformer", "ModelFiles", "Tokenizers",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: optimised),

        // The REPL client: speaks the protocol only.
        .target(name: "REPLCore", dependencies: ["JSONRPC", "LMDebugProtocol"], path: "Clients/repl/Sources/REPLCore"),
        .executableTarget(name: "lmdbg-repl", dependencies: ["REPLCore"], path: "Clients/repl/Sources/lmdbg-repl"),

        .testTarget(name: "REPLTests", dependencies: ["REPLCore", "JSONRPC", "LMDebugProtocol"],
                    path: "Clients/repl/Tests/REPLTests"),
        .testTarget(name: "JSONRPCTests", dependencies: ["JSONRPC"]),
        .testTarget(name: "LMDebugProtocolTests", dependencies: ["LMDebugProtocol", "ProtocolSchema", "JSONRPC"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "ModelFilesTests", dependencies: ["ModelFiles"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "ModelFiles"]),
        .testTarget(name: "TransformerTests", dependencies: ["Transformer", "ModelFiles"]),
        .testTarget(name: "AnalysesTests", dependencies: ["Analyses", "Transformer", "ModelFiles"]),
        .testTarget(name: "DebuggerTests", dependencies: ["Debugger"]),
        .testTarget(name: "LMDebugServerTests", dependencies: ["LMDebugServer", "ProtocolSchema", "ModelFiles"]),
        .testTarget(name: "DAPServerTests", dependencies: ["DAPServer", "JSONRPC", "Transformer", "ModelFiles"]),
    ],
    swiftLanguageModes: [.v5]
)
