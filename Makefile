# The two commands of the README: `make demo` and `make test`.
SWIFT ?= swift
BIN = .build/release

.PHONY: demo test bootstrap build references bench specs

bootstrap:
	scripts/bootstrap

build: bootstrap
	$(SWIFT) build -c release --product lmdbg

demo: build
	$(BIN)/lmdbg demo

test: bootstrap
	$(SWIFT) build -c release --product lmdbg
	$(SWIFT) test

# Regenerates the committed golden files (needs torch, transformers and gguf; not run in CI).
references:
	python3 -m pip install -q torch==2.13.0 transformers gguf accelerate safetensors
	HF_HUB_OFFLINE=1 python3 scripts/make_references.py

bench: build
	$(BIN)/lmdbg bench

# Replays the protocol transcripts in Specs/ against the release binary (see Specs/README.md).
specs: build
	python3 scripts/run_specs.py --server $(BIN)/lmdbg
