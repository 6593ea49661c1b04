// ModelFiles: see docs/architecture.md.
