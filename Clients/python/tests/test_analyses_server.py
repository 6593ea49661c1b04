"""The analysis requests against the real lmdbg server with SmolLM2: the logit lens ends in the model's output,
attributions sum to the logit, a sweep restores the clean run where the prompts differ, cancellation answers
the cells done so far, steering makes a patch, and the test SAE reads its hook at a stop."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import PROMPT
from test_server import clean_session, next_event  # noqa: F401  (the fixture resets the session per test)

import lmdbg

pytestmark = pytest.mark.server
SAE = Path(__file__).resolve().parents[3] / "Tests" / "Fixtures" / "sae" / "smollm2-resid8-relu512"
CLEAN = "When John and Mary went home, John gave a drink to"
CORRUPTED = "When John and Mary went home, Mary gave a drink to"


def token(dbg: lmdbg.Client, text: str) -> int:
    tokens = dbg.tokenize(text)["tokens"]
    assert len(tokens) == 1
    return tokens[0]


def test_the_lens_of_the_last_layer_is_the_output_and_attributions_sum_to_the_logit(dbg):
    lens = dbg.logit_lens(PROMPT, k=2)
    assert len(lens["rows"]) == 30 * 3 + 1
    last_layer, output = lens["rows"][-2], lens["rows"][-1]
    assert last_layer["hook"] == "blocks.29.hook_resid_post" and output["hook"] == "logits"
    assert [t["token"] for t in last_layer["top"]] == [t["token"] for t in output["top"]]
    assert output["top"][0]["piece"] == " Paris"

    attribution = dbg.attribution(token(dbg, " Paris"), baseline=token(dbg, " Rome"), prompt=PROMPT)
    parts = attribution["embed"] + np.sum(attribution["attention"]) + np.sum(attribution["mlp"])
    assert np.allclose(np.sum(attribution["heads"], axis=1), attribution["attention"], atol=1e-4)
    assert abs(parts - attribution["logit"]) < 1e-3 and np.shape(attribution["heads"]) == (30, 9)


def test_a_sweep_restores_the_clean_run_where_the_prompts_differ_and_cancels_with_partial_cells(dbg):
    metric = {"kind": "logitDifference", "token": token(dbg, " Mary"), "baseline": token(dbg, " John")}
    reports: list[lmdbg.types.WorkDoneProgress] = []
    differing = [i for i, (a, b) in enumerate(zip(dbg.tokenize(CLEAN)["tokens"], dbg.tokenize(CORRUPTED)["tokens"]))
                 if a != b]
    sweep = dbg.patch_sweep(CLEAN, CORRUPTED, "residPre", metric, positions=differing, progress=reports.append)
    assert sweep["values"].shape == (30, 1) and not sweep["cancelled"]
    assert abs(sweep["normalised"][0, 0] - 1) < 1e-4 and sweep["clean"] > 0 > sweep["corrupted"]
    assert reports[0]["kind"] == "begin" and reports[-1]["kind"] == "end"

    pending = dbg.request("analysis/patchSweep", {"clean": CLEAN, "corrupted": CORRUPTED, "site": "mlpOut",
                                                  "metric": metric, "workDoneToken": "cancel-me"})
    dbg.wait_for("$/progress", timeout=300,
                 predicate=lambda e: e["token"] == "cancel-me" and e["value"]["kind"] == "report")
    pending.cancel()
    result = pending.result(300)
    assert result["cancelled"] and 0 < result["completed"] < result["total"]
    cells = [value for row in result["values"] for value in row if value is not None]
    assert len(cells) == result["completed"]


def test_steering_makes_a_patch(dbg):
    steered = dbg.steer_from_contrast([("I love this", "I hate this")], layer=8, scale=2)
    assert steered["direction"].shape == (576,) and steered["patch"]["op"] == "add"
    np.testing.assert_allclose(steered["patch"]["vector"], steered["direction"])
    assert [p["id"] for p in dbg.list_patches()] == [steered["patch"]["id"]]


def test_the_sae_reads_its_hook_at_a_stop(dbg):
    sae = dbg.load_sae(SAE)
    assert sae["hook"] == "blocks.8.hook_resid_pre" and sae["dSae"] == 512
    dbg.set_breakpoints([{"hook": sae["hook"], "condition": f"any(feature(0, sae={sae['id']}) >= 0)"}])
    session = dbg.launch(PROMPT)["sessionId"]
    stop = next_event(dbg, session)
    assert stop.method == "debug/stopped" and stop["hook"] == sae["hook"]
    features = dbg.sae_features(sae["id"], k=4)
    assert len(features["rows"]) == 9 and all(row["l0"] >= len(row["features"]) for row in features["rows"])
    strongest = features["rows"][3]["features"][0]
    column = dbg.read_tensor(expression=f"feature({strongest['feature']}, sae={sae['id']})")
    assert abs(column[3] - strongest["activation"]) < 1e-4
