// LMDebugProtocol: see docs/architecture.md.
