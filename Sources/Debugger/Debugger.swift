// Debugger: see docs/architecture.md.
