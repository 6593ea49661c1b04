import Foundation
import Testing

/// The Python side of Protocol/ and Specs/, run from `swift test` so that nothing depends on remembering it:
/// the jsonschema meta-schema check, the generated README's freshness, and the Specs runner's own tests.
struct ToolingTests {
    /// Runs `python3 <arguments>` in the repository root; returns its exit status and output.
    func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        process.currentDirectoryURL = repositoryRoot
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    @Test func schemaPassesTheJSONSchemaMetaSchemaAndItsOwnChecks() throws {
        let run = try python(["scripts/check_protocol_schema.py",
                              "--instances", "Tests/LMDebugProtocolTests/Fixtures/schema-instances.json"])
        #expect(run.status == 0, "\(run.output)")
    }

    @Test func generatedReadmeIsUpToDate() throws {
        let run = try python(["scripts/gen_protocol_docs.py", "--check"])
        #expect(run.status == 0, "\(run.output)")
    }

    @Test func specsRunnerPassesItsTests() throws {
        let run = try python(["-m", "unittest", "scripts/test_run_specs.py"])
        #expect(run.status == 0, "\(run.output)")
    }
}
