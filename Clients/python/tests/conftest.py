"""Fixtures for the tests against the real server: the binary, the model, `lmdbg trace` output, a client.

These tests are marked `server`. They never skip: without the binary or the model they fail, saying what
is missing. Deselect them explicitly with `-m "not server"`.
"""
from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import lmdbg

MODEL_DIR = Path(os.environ.get("LMDBG_MODELS", Path.home() / ".cache" / "lmdbg" / "models"))
MODEL_FILE = MODEL_DIR / "SmolLM2-135M-Instruct.Q4_1.gguf"
#: The model file's name without `.gguf`: what `model/load {name}` takes.
MODEL_NAME = MODEL_FILE.stem
PROMPT = "The Eiffel Tower is in the city of"


@pytest.fixture(scope="session")
def server_path() -> str:
    try:
        path = lmdbg.find_server()
    except lmdbg.ServerNotFound as error:
        pytest.fail(f"these tests need the lmdbg server: {error}", pytrace=False)
    if not MODEL_FILE.is_file():
        pytest.fail(f"these tests need SmolLM2 at {MODEL_FILE}: run scripts/bootstrap", pytrace=False)
    return path


def run_trace(server_path: str, prompt: str, hooks: str, out: Path) -> dict[str, np.ndarray]:
    """`lmdbg trace` of a prompt, read back with safetensors."""
    from safetensors.numpy import load_file

    command = [server_path, "trace", "--model", "smollm2", "--prompt", prompt, "--hooks", hooks, "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}", pytrace=False)
    return load_file(str(out))


@pytest.fixture(scope="session")
def trace(server_path: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    """Every hook point of PROMPT's pass, as `lmdbg trace --hooks '*'` writes them."""
    return run_trace(server_path, PROMPT, "*", tmp_path_factory.mktemp("trace") / "all.safetensors")


@pytest.fixture(scope="module")
def dbg(server_path: str) -> Iterator[lmdbg.Client]:
    """A session with SmolLM2 loaded; each test leaves it without breakpoints, patches or a run."""
    with lmdbg.Client(model=MODEL_NAME, server=server_path, timeout=300) as client:
        yield client
