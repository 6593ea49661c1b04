# The two commands of the README: `make demo` and `make test`.
SWIFT ?= swift
BIN = .build/release

.PHONY: demo test bootstrap build references bench

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
