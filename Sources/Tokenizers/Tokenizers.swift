// Tokenizers: see docs/architecture.md.
