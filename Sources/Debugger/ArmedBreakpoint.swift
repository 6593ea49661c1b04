import Transformer

/// A breakpoint as the session keeps it: resolved to hook indices, its condition and message parsed.
struct ArmedBreakpoint {
    let status: BreakpointStatus
    /// Indices of the hooks it is armed at; empty when not verified.
    let hooks: [Int]
    let hitCondition: HitCondition?
    let logMessage: LogMessage?
    let condition: String?

    /// Whether it can stop the run (a logpoint only writes output).
    var stops: Bool { logMessage == nil && !hooks.isEmpty }

    init(id: Int, spec: BreakpointSpec, hookPoints: [HookPoint]) {
        func refused(_ message: String) -> ArmedBreakpoint {
            ArmedBreakpoint(status: BreakpointStatus(id: id, verified: false, message: message, hookCount: 0),
                            hooks: [], hitCondition: nil, logMessage: nil, condition: nil)
        }
        let hooks: [Int]
        switch resolveHooks(spec.hook, in: hookPoints, field: "hook") {
        case .success(let matched): hooks = matched
        case .failure(let error): self = refused(error.description); return
        }
        var hitCondition: HitCondition?
        if let text = spec.hitCondition {
            guard let parsed = HitCondition(text) else {
                self = refused("hitCondition '\(text)' is not a count such as '5', '>= 3' or '% 2'")
                return
            }
            hitCondition = parsed
        }
        var logMessage: LogMessage?
        if let text = spec.logMessage {
            do { logMessage = try LogMessage(text) } catch { self = refused("\(error)"); return }
        }
        self.init(status: BreakpointStatus(id: id, verified: true, message: nil, hookCount: hooks.count),
                  hooks: hooks, hitCondition: hitCondition, logMessage: logMessage, condition: spec.condition)
    }

    private init(status: BreakpointStatus, hooks: [Int], hitCondition: HitCondition?, logMessage: LogMessage?,
                 condition: String?) {
        self.status = status
        self.hooks = hooks
        self.hitCondition = hitCondition
        self.logMessage = logMessage
        self.condition = condition
    }

    enum Check { case hit, notHit, failed(String) }

    /// Whether the condition holds at this hook (a breakpoint without one always holds).
    func check(in environment: StopEnvironment) -> Check {
        .hit
    }
}

/// A logpoint's message, parsed once.
struct LogMessage {
    let pieces: [LogMessagePiece]

    init(_ text: String) throws { pieces = try LogMessagePiece.parse(text) }

    func render(in environment: StopEnvironment) -> String {
        pieces.map { piece in
            switch piece {
            case .text(let text): text
            case .expression(let source, _): "{\(source)}"
            }
        }.joined()
    }
}
