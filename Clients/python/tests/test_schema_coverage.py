"""Every request and client notification in Protocol/lmdbg.schema.json has a client method, and what that
method sends is valid against the schema."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from fake_server import FakeServer

from lmdbg import Client

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "Protocol" / "lmdbg.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
METHODS = {m["method"]: m for m in SCHEMA["x-methods"]}
CLIENT_TO_SERVER = {name for name, m in METHODS.items() if m["direction"] == "clientToServer"}

# One call of the client's method for each protocol method it sends. The keys must be exactly the
# schema's client → server methods; a method added to the schema without a client method fails below.
CALLS: dict[str, Callable[[Client], Any]] = {
    "initialize": lambda c: c.initialize(),
    "initialized": lambda c: c.initialized(),
    "shutdown": lambda c: c.shutdown(),
    "exit": lambda c: c.exit(),
    "$/cancelRequest": lambda c: c.cancel_request(7),
    "model/load": lambda c: c.load_model("SmolLM2-135M-Instruct.Q4_1", progress=lambda value: None),
    "model/tokenize": lambda c: c.tokenize("The capital of France is"),
    "session/launch": lambda c: c.launch("The capital of France is", max_new_tokens=5, stop_on_entry=True,
                                         sampling={"temperature": 0.7, "topK": 40, "topP": 0.9, "seed": 3}),
    "debug/setBreakpoints": lambda c: c.set_breakpoints([
        "blocks.12.hook_resid_post",
        {"hook": "blocks.*.hook_attn_out", "condition": "x.norm() > 100", "hitCondition": ">= 2"},
        {"hook": "blocks.3.attn.hook_pattern", "logMessage": "layer {layer}"}]),
    "debug/setExceptionBreakpoints": lambda c: c.set_exception_breakpoints(["nan", "massive"],
                                                                           massive_threshold=3000),
    "debug/continue": lambda c: c.continue_(),
    "debug/next": lambda c: c.next("layer"),
    "debug/stepIn": lambda c: c.step_in(),
    "debug/stepOut": lambda c: c.step_out(),
    "debug/stepBack": lambda c: c.step_back(),
    "debug/pause": lambda c: c.pause(),
    "debug/restart": lambda c: c.restart(),
    "debug/stackTrace": lambda c: c.stack_trace(),
    "debug/scopes": lambda c: c.scopes(1),
    "debug/variables": lambda c: c.variables(11, start=0, count=100),
    "debug/evaluate": lambda c: c.evaluate("x[-1].norm()", frame_id=1),
    "tensor/read": lambda c: c.read_tensor("blocks.12.hook_resid_post", slice="[-1, :10]"),
    "patch/set": lambda c: c.set_patches([
        {"hook": "blocks.6.hook_resid_post", "positions": [4], "op": "add", "vector": np.ones(576), "scale": 4},
        {"hook": "blocks.*.attn.hook_z", "heads": [3], "op": "zero"},
        {"hook": "blocks.0.hook_resid_pre", "positions": "prompt", "op": "set", "value": np.zeros(576)},
        {"hook": "blocks.9.hook_resid_pre", "op": "resample", "source": "The capital of Italy is"}]),
    "patch/list": lambda c: c.list_patches(),
    "patch/clear": lambda c: c.clear_patches([2]),
    "analysis/logitLens": lambda c: c.logit_lens("The capital of France is", positions=[2, -1], k=3),
    "analysis/attribution": lambda c: c.attribution(7042, baseline=7268, prompt="The city of", position=-1),
    "analysis/patchSweep": lambda c: c.patch_sweep(
        "When John and Mary went home, John gave a drink to", "When John and Mary went home, Mary gave a drink to",
        "headZ", {"kind": "logitDifference", "token": 5099, "baseline": 2322}, direction="noise", positions=[9],
        progress=lambda value: None),
    "steer/fromContrast": lambda c: c.steer_from_contrast(
        [("I love it", "I hate it")], layer=8, reduction="meanOverPositions", scale=4, positions="generated"),
    "sae/load": lambda c: c.load_sae("/saes/resid8", name="resid8"),
    "sae/features": lambda c: c.sae_features(1, k=3),
}

# The same methods with the fewest arguments, so that optional members are left out, not sent as null.
MINIMAL_CALLS: dict[str, Callable[[Client], Any]] = {
    "model/load": lambda c: c.load_model(path="/models/m.gguf"),
    "session/launch": lambda c: c.launch("x"),
    "debug/next": lambda c: c.next(),
    "debug/variables": lambda c: c.variables(11),
    "debug/evaluate": lambda c: c.evaluate("x"),
    "tensor/read": lambda c: c.read_tensor(expression="x[0]"),
    "patch/clear": lambda c: c.clear_patches(),
    "debug/setExceptionBreakpoints": lambda c: c.set_exception_breakpoints([]),
    "analysis/logitLens": lambda c: c.logit_lens(),
    "analysis/attribution": lambda c: c.attribution(7042),
    "analysis/patchSweep": lambda c: c.patch_sweep("a b", "a c", "residPre", {"kind": "klDivergence"}),
    "steer/fromContrast": lambda c: c.steer_from_contrast([("a", "b")], hook="blocks.3.hook_resid_post"),
    "sae/load": lambda c: c.load_sae("sae"),
    "sae/features": lambda c: c.sae_features(),
}


def validator(ref: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator({**SCHEMA, "$ref": ref})


def example_result(method: str) -> Any:
    """The schema's first example of the method's result, or the value its type allows."""
    definition = SCHEMA["$defs"][METHODS[method]["result"]["$ref"].split("/")[-1]]
    if "examples" in definition:
        return definition["examples"][0]
    return None if definition.get("type") == "null" else {}


def test_every_client_to_server_method_has_a_client_call():
    assert set(CALLS) == CLIENT_TO_SERVER, (
        f"schema methods without a client call: {sorted(CLIENT_TO_SERVER - set(CALLS))}; "
        f"client calls for no schema method: {sorted(set(CALLS) - CLIENT_TO_SERVER)}")


@pytest.mark.parametrize("calls", [CALLS, MINIMAL_CALLS], ids=["full", "minimal"])
def test_each_call_sends_its_method_with_schema_valid_params(calls):
    requests = {name for name in CLIENT_TO_SERVER if METHODS[name]["kind"] == "request"}
    server = FakeServer({name: (lambda params, name=name: example_result(name)) for name in requests})
    client = server.client()
    try:
        for method, call in sorted(calls.items(), key=lambda item: item[0] == "exit"):  # exit ends the fake
            call(client)
            if METHODS[method]["kind"] == "notification":
                message = server.wait_received(method)
            else:  # answered, so received: the last message with this method
                message = [m for m in server.received if m.get("method") == method][-1]
            assert ("id" in message) == (METHODS[method]["kind"] == "request")
            params = message.get("params", {})
            problems = [e.message for e in validator(METHODS[method]["params"]["$ref"]).iter_errors(params)]
            assert not problems, f"{method} sent {params}: {problems}"
    finally:
        client.close(timeout=5)
        server.close()


def test_typed_results_come_from_the_schema_examples():
    requests = {name for name in CLIENT_TO_SERVER if METHODS[name]["kind"] == "request"}
    for name in requests:
        problems = list(validator(METHODS[name]["result"]["$ref"]).iter_errors(example_result(name)))
        assert not problems, f"the fake's answer to {name} is not a valid result"
    server = FakeServer({name: (lambda params, name=name: example_result(name)) for name in requests})
    client = server.client()
    try:
        np.testing.assert_array_equal(CALLS["tensor/read"](client), [[1, 2], [3, 4]])
        assert CALLS["debug/setBreakpoints"](client)[2]["verified"] is False
        assert CALLS["patch/set"](client) == [1, 2, 3]
        assert CALLS["debug/stackTrace"](client)[0]["hook"] == "blocks.12.hook_resid_post"
        assert CALLS["debug/scopes"](client)[0] == {"name": "Current", "variablesReference": 10}
        assert CALLS["debug/variables"](client)["total"] == 1
        assert CALLS["session/launch"](client) == {"sessionId": 1, "promptTokens": [504, 3575, 282, 4649, 314]}
        assert CALLS["model/load"](client)["config"]["nLayers"] == 30
        assert CALLS["debug/continue"](client) is None
    finally:
        client.close(timeout=5)
        server.close()
