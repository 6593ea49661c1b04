# The two commands of the README: `make demo` and `make test`.
SWIFT ?= swift
BIN = .build/release

.PHONY: demo test bootstrap build references bench specs test-vscode test-nvim test-acceptance

bootstrap:
	scripts/bootstrap

build: bootstrap
	$(SWIFT) build -c release --product lmdbg
	$(SWIFT) build -c release --product lmdbg-repl

# The REPL on SmolLM2, stopped at a breakpoint in the middle of the model; `help` lists the commands.
DEMO_PROMPT ?= The capital of France is
demo: build
	$(BIN)/lmdbg-repl --model smollm2 --prompt "$(DEMO_PROMPT)" \
		--ex "break blocks.15.hook_resid_post" --ex run --ex "print x[-1].norm()" --ex lens

test: build
	$(SWIFT) test
	python3 scripts/run_specs.py --server $(BIN)/lmdbg
	LMDBG_SERVER=$(BIN)/lmdbg python3 -m pytest -q -p no:cacheprovider Clients/python/tests
	$(MAKE) test-vscode test-nvim test-acceptance

# Regenerates the committed golden files (needs torch, transformers and gguf; not run in CI).
references:
	python3 -m pip install -q torch==2.13.0 transformers gguf accelerate safetensors
	HF_HUB_OFFLINE=1 python3 scripts/make_references.py --model smollm2
	HF_HUB_OFFLINE=1 python3 scripts/make_references.py --model gemma3
	HF_HUB_OFFLINE=1 python3 scripts/make_hf_fixtures.py
	HF_HUB_OFFLINE=1 python3 scripts/make_tokenizer_references.py
	python3 scripts/make_dequant_references.py
	python3 scripts/make_safetensors_reference.py
	HF_HUB_OFFLINE=1 python3 scripts/make_analysis_references.py
	HF_HUB_OFFLINE=1 python3 scripts/make_attribution_references.py
	HF_HUB_OFFLINE=1 python3 scripts/train_test_sae.py

# Runs the engine against llama.cpp and HF transformers (where installed), and the server over pipes, and
# records the tables (`lmdbg bench --sections server --write docs/benchmarks.md` redoes only the server's);
# then activation-patching sweeps against the naive loop in transformers, on 1 and on 2 threads.
bench: build
	$(BIN)/lmdbg bench --write docs/benchmarks.md
	$(BIN)/lmdbg bench --sections sweep --threads 1 --write docs/benchmarks.md
	$(BIN)/lmdbg bench --sections sweep --threads 2 --write docs/benchmarks.md

# Replays the protocol transcripts in Specs/ against the release binary (see Specs/README.md).
specs: build
	python3 scripts/run_specs.py --server $(BIN)/lmdbg

# A generic third-party JSON-RPC client (python-lsp-jsonrpc) drives the release binary on SmolLM2.
test-acceptance: build
	LMDBG_SERVER=$(BIN)/lmdbg python3 -m pytest -q -p no:cacheprovider tests/acceptance

# The editor clients against the release binary: the VS Code extension's library over `lmdbg --dap` (node's
# built-in test runner) and the Neovim plugin over the JSON-RPC protocol (headless Neovim).
test-vscode: build
	node --test Clients/vscode/test/

test-nvim: build
	nvim --headless -u NONE -i NONE -n -c "luafile Clients/nvim/test/lmdbg_test.lua"
