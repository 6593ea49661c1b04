"""The spawn path with real processes: finding the binary, stderr capture, exit codes, a dying server."""
import os
import sys
from pathlib import Path

import pytest

import lmdbg

STUB = str(Path(__file__).resolve().parent / "stub_server.py")
#: The stub imports lmdbg.framing: let it find the package whether or not it is installed.
STUB_ENV = {"PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]),
                                                        os.environ.get("PYTHONPATH")]))}


def test_a_spawned_server_is_initialized_and_shut_down_with_exit_code_0():
    with lmdbg.Client(server=sys.executable, server_args=[STUB], env=STUB_ENV, timeout=30) as client:
        assert client.initialize_result["serverInfo"]["name"] == "stub"
        with pytest.raises(lmdbg.RPCError) as caught:
            client.tokenize("x")
        assert caught.value.code == lmdbg.ErrorCode.METHOD_NOT_FOUND
    assert client.returncode == 0
    assert "stub server ready" in client.server_stderr


def test_a_server_that_dies_raises_server_exited_with_its_status_and_stderr():
    script = "import sys; sys.stderr.write('fatal: no model directory\\n'); sys.exit(3)"
    client = lmdbg.Client(server=sys.executable, server_args=["-c", script], timeout=30)
    with pytest.raises(lmdbg.ServerExited) as caught:
        client.start()
    assert caught.value.returncode == 3
    assert "fatal: no model directory" in str(caught.value)
    client.close()


def test_the_server_is_found_from_the_argument_then_the_environment(monkeypatch, tmp_path):
    binary = tmp_path / "lmdbg"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    monkeypatch.setenv("LMDBG_SERVER", str(binary))
    assert lmdbg.find_server() == str(binary)
    assert lmdbg.find_server(sys.executable) == sys.executable
    monkeypatch.setenv("LMDBG_SERVER", str(tmp_path / "missing"))
    with pytest.raises(lmdbg.ServerNotFound, match=r"\$LMDBG_SERVER"):
        lmdbg.find_server()


def test_without_argument_or_environment_the_build_then_path_are_tried(monkeypatch, tmp_path):
    monkeypatch.delenv("LMDBG_SERVER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    root = Path(lmdbg.__file__).resolve().parents[3]
    if any((root / ".build" / build / "lmdbg").exists() for build in ("release", "debug")):
        assert lmdbg.find_server().startswith(str(root / ".build"))
    else:
        with pytest.raises(lmdbg.ServerNotFound, match="PATH"):
            lmdbg.find_server()
