# The two commands of the README: `make demo` and `make test`.
SWIFT ?= swift
BIN = .build/release

.PHONY: demo test bootstrap build references bench specs test-vscode test-nvim

bootstrap:
	scripts/bootstrap

build: bootstrap
	$(SWIFT) build -c release --product lmdbg

demo: build
	$(BIN)/lmdbg demo

test: build
	$(SWIFT) test
	python3 scripts/run_specs.py --server $(BIN)/lmdbg Specs/*.jsonrpc Specs/model/*.jsonrpc
	LMDBG_SERVER=$(BIN)/lmdbg python3 -m pytest -q -p no:cacheprovider Clients/python/tests
	$(MAKE) test-vscode test-nvim

# Regenerates the committed golden files (needs torch, transformers and gguf; not run in CI).
references:
	python3 -m pip install -q torch==2.13.0 transformers gguf accelerate safetensors
	HF_HUB_OFFLINE=1 python3 scripts/make_references.py --model smollm2
	HF_HUB_OFFLINE=1 python3 scripts/make_references.py --model gemma3
	HF_HUB_OFFLINE=1 python3 scripts/make_tokenizer_references.py
	python3 scripts/make_dequant_references.py
	python3 scripts/make_safetensors_reference.py
	HF_HUB_OFFLINE=1 python3 scripts/make_analysis_references.py
	HF_HUB_OFFLINE=1 python3 scripts/train_test_sae.py

# Runs the engine against llama.cpp and HF transformers (where installed) and records the table.
bench: build
	$(BIN)/lmdbg bench --write docs/benchmarks.md
	$(BIN)/lmdbg bench --sweep --write docs/benchmarks.md

# Replays the protocol transcripts in Specs/ against the release binary (see Specs/README.md).
specs: build
	python3 scripts/run_specs.py --server $(BIN)/lmdbg Specs/*.jsonrpc Specs/model/*.jsonrpc

# The editor clients against the release binary: the VS Code extension's library over `lmdbg --dap` (node's
# built-in test runner) and the Neovim plugin over the JSON-RPC protocol (headless Neovim).
test-vscode: build
	node --test Clients/vscode/test/

test-nvim: build
	nvim --headless -u NONE -i NONE -n -c "luafile Clients/nvim/test/lmdbg_test.lua"
