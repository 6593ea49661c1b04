import Transformer

/// A breakpoint as the session keeps it: resolved to hook indices, its condition and message parsed.
struct ArmedBreakpoint {
    let status: BreakpointStatus
    /// Indices of the hooks it is armed at; empty when not verified.
    let hooks: [Int]
    let hitCondition: HitCondition?
    let logMessage: LogMessage?
    let condition: Expression?

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
        var condition: Expression?
        if let text = spec.condition {
            do { condition = try Expression(text) } catch { self = refused("condition: \(error.message)"); return }
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
                  hooks: hooks, hitCondition: hitCondition, logMessage: logMessage, condition: condition)
    }

    private init(status: BreakpointStatus, hooks: [Int], hitCondition: HitCondition?, logMessage: LogMessage?,
                 condition: Expression?) {
        self.status = status
        self.hooks = hooks
        self.hitCondition = hitCondition
        self.logMessage = logMessage
        self.condition = condition
    }

    enum Check { case hit, notHit, failed(String) }

    /// Whether the condition holds at this hook (a breakpoint without one always holds). A condition that
    /// fails to evaluate counts as `failed`: the run stops and says why.
    func check(in environment: StopEnvironment) -> Check {
        guard let condition else { return .hit }
        do {
            return try condition.evaluateCondition(in: environment) ? .hit : .notHit
        } catch {
            return .failed("condition failed: \(error.message)")
        }
    }
}

/// A logpoint's message: text and `{expression}` holes, parsed once.
struct LogMessage {
    enum Piece {
        case text(String)
        case expression(Expression)
    }

    let pieces: [Piece]

    init(_ text: String) throws {
        pieces = try LogMessagePiece.parse(text).map { piece in
            switch piece {
            case .text(let text): return .text(text)
            case .expression(let source, let offset):
                do throws(ExpressionError) { return .expression(try Expression(source)) } catch {
                    throw DebugError.invalidArgument(field: "logMessage",
                        message: "{\(source)} at position \(offset): \(error.message)")
                }
            }
        }
    }

    /// The message with each hole's value; a hole that fails to evaluate shows its error.
    func render(in environment: StopEnvironment) -> String {
        pieces.map { piece in
            switch piece {
            case .text(let text): return text
            case .expression(let expression):
                do throws(ExpressionError) { return try expression.evaluate(in: environment).description } catch {
                    return "<\(expression.source): \(error.message)>"
                }
            }
        }.joined()
    }
}
