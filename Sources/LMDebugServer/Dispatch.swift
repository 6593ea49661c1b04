import JSONRPC
import LMDebugProtocol

/// How one request method is served: decode its params, call its handler, encode its result.
struct Route {
    let call: (DebugServer, JSONValue?, RequestContext) throws -> JSONValue
}

extension DebugServer {
    /// Every request method the server answers, with its handler. `initialize` and `shutdown` are also
    /// subject to the lifecycle rules in `Endpoint`.
    static let routes: [String: Route] = Dictionary(uniqueKeysWithValues: [
        route(InitializeRequest.self) { $0.initialize },
        route(ShutdownRequest.self) { $0.shutdown },
        route(LoadModelRequest.self) { $0.loadModel },
        route(TokenizeRequest.self) { $0.tokenize },
        route(LaunchRequest.self) { $0.launch },
        route(RestartRequest.self) { $0.restart },
        route(SetBreakpointsRequest.self) { $0.setBreakpoints },
        route(SetExceptionBreakpointsRequest.self) { $0.setExceptionBreakpoints },
        route(ContinueRequest.self) { server in { _, _ in try server.resume(.continue) } },
        route(NextRequest.self) { $0.next },
        route(StepInRequest.self) { server in { _, _ in try server.resume(.stepIn) } },
        route(StepOutRequest.self) { server in { _, _ in try server.resume(.stepOut) } },
        route(StepBackRequest.self) { $0.stepBack },
        route(PauseRequest.self) { $0.pause },
        route(StackTraceRequest.self) { $0.stackTrace },
        route(ScopesRequest.self) { $0.scopes },
        route(VariablesRequest.self) { $0.variables },
        route(EvaluateRequest.self) { $0.evaluate },
        route(ReadTensorRequest.self) { $0.readTensor },
        route(SetPatchesRequest.self) { $0.setPatches },
        route(ListPatchesRequest.self) { $0.listPatches },
        route(ClearPatchesRequest.self) { $0.clearPatches },
        route(LogitLensRequest.self) { $0.logitLens },
        route(AttributionRequest.self) { $0.attribution },
        route(PatchSweepRequest.self) { $0.patchSweep },
        route(SteerFromContrastRequest.self) { $0.steerFromContrast },
        route(LoadSAERequest.self) { $0.loadSAE },
        route(SAEFeaturesRequest.self) { $0.saeFeatures },
    ])

    private static func route<Request: RequestType>(
        _ type: Request.Type,
        _ handler: @escaping (DebugServer) -> (Request, RequestContext) throws -> Request.Response
    ) -> (String, Route) {
        (Request.method, Route { server, params, context in
            let request: Request
            do {
                request = try JSONValueDecoder().decode(Request.self, from: params ?? .object([:]))
            } catch {
                throw JSONRPCError.invalidParams(error)
            }
            return try JSONValueEncoder().encode(try handler(server)(request, context))
        })
    }
}

extension ServerError {
    var jsonRPCError: JSONRPCError {
        let encoded: JSONValue? = switch data {
        case .sessionState(let state): try? JSONValueEncoder().encode(state)
        case .expression(let expression): try? JSONValueEncoder().encode(expression)
        case nil: nil
        }
        return JSONRPCError(code: JSONRPCError.Code(rawValue: Int64(code.rawValue)), message: message, data: encoded)
    }
}
