// LMDebugServer: see docs/architecture.md.
