"""examples/activation_patching.py, run as a script against the real server."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MODEL_FILE

pytestmark = pytest.mark.server
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
SCRIPT = PACKAGE_ROOT / "examples" / "activation_patching.py"


def test_activation_patching_prints_a_table_from_corrupted_to_clean(server_path):
    path = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, str(SCRIPT), "--model", str(MODEL_FILE), "--server", server_path],
                          capture_output=True, text=True, timeout=1800, env={**os.environ, "PYTHONPATH": path})
    assert done.returncode == 0, done.stderr
    clean = float(re.search(r"^clean: .* = ([-+.\d]+)$", done.stdout, re.MULTILINE).group(1))
    corrupted = float(re.search(r"^corrupted: .* = ([-+.\d]+)$", done.stdout, re.MULTILINE).group(1))
    rows = [(int(layer), float(diff), float(recovery)) for layer, diff, recovery in
            re.findall(r"^\s+(\d+)\s+([-+.\d]+)\s+([-+.\d]+)", done.stdout, re.MULTILINE)]
    assert clean > 0 > corrupted, done.stdout  # Paris wins the clean run, Rome the corrupted one
    assert [layer for layer, _, _ in rows] == list(range(30))
    # Layer 0's residual at the last position is the embedding of " of", the same in both prompts.
    assert rows[0][1] == pytest.approx(corrupted, abs=1e-3) and abs(rows[0][2]) < 1e-3
    # Late in the network the last position already carries the answer.
    assert rows[-1][2] > 0.5, done.stdout
    for _, diff, recovery in rows:
        assert recovery == pytest.approx((diff - corrupted) / (clean - corrupted), abs=2e-3)
