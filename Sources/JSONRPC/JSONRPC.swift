// JSONRPC: see docs/architecture.md.
