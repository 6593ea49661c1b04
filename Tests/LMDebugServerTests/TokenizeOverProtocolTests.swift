import JSONRPC
import ModelFiles
import Testing
@testable import LMDebugServer

/// `model/tokenize` on Gemma 3, whose file asks for BOS before every text.
@Suite struct TokenizeOverProtocolTests {
    @Test func addSpecialTokensFalseLeavesOutTheBOS() throws {
        let client = EndpointClient()
        _ = client.request("initialize", [:])
        _ = client.request("model/load", ["path": .string(try ModelCatalog().resolve("gemma3").path)])
        let launchLike = try #require(client.request("model/tokenize", ["text": " Paris"]).value?["tokens"]?.array)
        let alone = try #require(client.request("model/tokenize", ["text": " Paris", "addSpecialTokens": false])
            .value?["tokens"]?.array)
        #expect(launchLike.first == 2)
        #expect(alone.count == 1 && Array(launchLike.dropFirst()) == alone)
        #expect(client.request("model/tokenize", ["text": "x", "addSpecialTokens": "no"]).code == -32602)
    }
}
