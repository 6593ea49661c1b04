"""The client against the real lmdbg server with SmolLM2: lifecycle, conditional breakpoints, reads that
equal `lmdbg trace`, step back, zero ablation against an independent forward, and malformed messages."""
from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from conftest import MODEL_FILE, MODEL_NAME, PROMPT
from reference import LlamaReference

import lmdbg
from lmdbg import ServerExited, ErrorCode, RPCError

pytestmark = pytest.mark.server
N_LAYERS = 30
EVENT_TIMEOUT = 300


def next_event(dbg: lmdbg.Client, session: int) -> lmdbg.Event:
    """The run's next stop or its end (events of earlier runs are skipped)."""
    return dbg.wait_for("debug/stopped", "debug/terminated", timeout=EVENT_TIMEOUT,
                        predicate=lambda e: e["sessionId"] == session)


def run_to_end(dbg: lmdbg.Client, session: int, event: lmdbg.Event | None = None, limit: int = 200) -> lmdbg.Event:
    """Continues from stop to stop until the run's `debug/terminated`; that event."""
    for _ in range(limit):
        if event is not None and event.method == "debug/terminated":
            return event
        if event is not None:
            dbg.continue_()
        event = next_event(dbg, session)
    raise AssertionError(f"the run did not end within {limit} stops")


@pytest.fixture(autouse=True)
def clean_session(dbg: lmdbg.Client):
    """Each test starts without breakpoints, patches, queued events or a stopped run (a failed test may
    leave its run stopped: it is continued to its end)."""
    dbg.set_breakpoints([])
    dbg.clear_patches()
    dbg.set_exception_breakpoints([])
    try:
        dbg.continue_()
    except RPCError as error:
        assert error.code == ErrorCode.INVALID_SESSION_STATE and error.data["state"] != "stopped"
    else:
        dbg.wait_for("debug/terminated", timeout=EVENT_TIMEOUT)
    dbg.clear_events()


def test_initialize_answers_the_protocol_version_and_capabilities(dbg):
    result = dbg.initialize_result
    assert result is not None
    assert result["protocolVersion"] == lmdbg.PROTOCOL_VERSION
    assert result["serverInfo"]["name"] == "lmdbg"
    capabilities = dbg.capabilities
    assert capabilities["stepBack"] and capabilities["conditionalBreakpoints"]
    assert "set" in capabilities["patchOperations"] and "zero" in capabilities["patchOperations"]
    assert capabilities["tensorDtypes"] == ["float32"]


def test_load_answers_config_and_the_hook_points_trace_records(dbg, trace):
    kinds: list[str] = []
    info = dbg.load_model(MODEL_NAME, progress=lambda value: kinds.append(value["kind"]))
    assert kinds[0] == "begin" and kinds[-1] == "end" and set(kinds) <= {"begin", "report", "end"}
    assert info["path"] == str(MODEL_FILE) and info["architecture"] == "llama"
    assert info["config"]["nLayers"] == N_LAYERS and info["config"]["dModel"] == 576
    names = [hook["name"] for hook in info["hookPoints"]]
    assert set(names) == set(trace) - {"tokens"}
    assert names.index("blocks.0.hook_resid_pre") < names.index("blocks.0.hook_resid_post") < names.index("logits")


def test_a_missing_model_is_model_load_failed_and_the_old_model_stays(dbg):
    with pytest.raises(RPCError) as caught:
        dbg.load_model(path="/nonexistent/model.gguf")
    assert caught.value.code == ErrorCode.MODEL_LOAD_FAILED
    assert dbg.tokenize("Paris")["tokens"]


def test_the_shipped_short_name_loads(server_path):
    with lmdbg.Client(model="smollm2", server=server_path, timeout=300) as client:
        assert client.model_info is not None and client.model_info["config"]["nLayers"] == N_LAYERS
    assert client.returncode == 0


def test_tokenize_agrees_with_launch_and_trace(dbg, trace):
    tokens = dbg.tokenize(PROMPT)
    assert tokens["tokens"] == trace["tokens"].tolist()
    assert "".join(tokens["pieces"]) == PROMPT
    launched = dbg.launch(PROMPT)
    assert launched["promptTokens"] == tokens["tokens"]
    end = run_to_end(dbg, launched["sessionId"])
    assert end["sessionId"] == launched["sessionId"] and end["tokens"] == []


def test_conditional_breakpoint_stops_in_layer_order_with_reads_equal_to_trace(dbg, trace):
    norms = np.array([np.linalg.norm(trace[f"blocks.{layer}.hook_resid_post"][-1]) for layer in range(N_LAYERS)])
    ordered = np.sort(norms)
    middle = N_LAYERS // 2
    threshold = float((ordered[middle - 1] + ordered[middle]) / 2)  # half the layers pass, none is close
    expected = [layer for layer in range(N_LAYERS) if norms[layer] > threshold]
    assert 0 < len(expected) < N_LAYERS

    [breakpoint] = dbg.set_breakpoints([{"hook": "blocks.*.hook_resid_post",
                                         "condition": f"x[-1].norm() > {threshold:.6f}"}])
    assert breakpoint["verified"] and breakpoint["hooks"] == N_LAYERS
    session = dbg.launch(PROMPT)["sessionId"]
    positions = len(trace["tokens"])
    layers = []
    event = next_event(dbg, session)
    while event.method == "debug/stopped":
        hook = f"blocks.{event['layer']}.hook_resid_post"
        assert event["reason"] == "breakpoint" and event["breakpointIds"] == [breakpoint["id"]]
        assert event["hook"] == hook and event["sessionId"] == session and event["tokenStep"] == 0
        assert event["positions"] == {"start": 0, "end": positions}
        read = dbg.read_tensor(hook)
        assert read.dtype == np.float32 and read.shape == trace[hook].shape
        np.testing.assert_allclose(read, trace[hook], rtol=1e-5, atol=1e-5, err_msg=hook)
        np.testing.assert_array_equal(dbg.read_tensor(hook, slice="[-1, :10]"), read[-1, :10])
        layers.append(event["layer"])
        dbg.continue_()
        event = next_event(dbg, session)
    assert layers == expected
    assert event["reason"] == "maxNewTokens" and event["sessionId"] == session


def test_step_back_returns_through_the_stepped_hooks_with_their_recorded_values(dbg, trace):
    names = [hook["name"] for hook in dbg.model_info["hookPoints"]]
    dbg.set_breakpoints(["blocks.5.hook_resid_pre"])
    session = dbg.launch(PROMPT)["sessionId"]
    stop = next_event(dbg, session)
    first = names.index("blocks.5.hook_resid_pre")
    assert stop["hook"] == names[first]
    for ahead in (1, 2, 3):
        dbg.next()
        stop = next_event(dbg, session)
        assert stop["reason"] == "step" and stop["hook"] == names[first + ahead] and not stop.get("recorded")
    for back in (2, 1, 0):
        dbg.step_back()
        stop = next_event(dbg, session)
        hook = names[first + back]
        assert stop.method == "debug/stopped" and stop["reason"] == "step" and stop["recorded"] is True
        assert stop["hook"] == hook
        np.testing.assert_allclose(dbg.read_tensor(hook), trace[hook], rtol=1e-5, atol=1e-5, err_msg=hook)
        frames = dbg.stack_trace()
        assert frames[0]["hook"] == hook and frames[-1]["kind"] == "token"
    assert run_to_end(dbg, session, stop)["reason"] == "maxNewTokens"


def test_step_back_before_the_record_is_invalid_session_state(dbg):
    """The schema: stepBack answers -32003 when there is no earlier hook point (-32005 when it was evicted)."""
    dbg.set_breakpoints(["blocks.2.hook_resid_pre"])
    session = dbg.launch(PROMPT)["sessionId"]
    stop = next_event(dbg, session)
    with pytest.raises(RPCError) as caught:
        dbg.step_back()
    assert caught.value.code == ErrorCode.INVALID_SESSION_STATE, caught.value
    assert dbg.stack_trace()[0]["hook"] == "blocks.2.hook_resid_pre"
    run_to_end(dbg, session, stop)


def test_zero_ablating_attention_out_in_layer_3_matches_an_independent_forward(dbg, trace):
    [patch_id] = dbg.set_patches([{"hook": "blocks.3.hook_attn_out", "op": "zero"}])
    assert dbg.list_patches()[0]["id"] == patch_id
    dbg.set_breakpoints(["logits", "blocks.3.hook_resid_mid"])
    session = dbg.launch(PROMPT)["sessionId"]
    stop = next_event(dbg, session)
    assert stop["hook"] == "blocks.3.hook_resid_mid"
    np.testing.assert_allclose(dbg.read_tensor("blocks.3.hook_resid_mid"), trace["blocks.3.hook_resid_pre"],
                               rtol=1e-6, atol=1e-6)
    dbg.continue_()
    stop = next_event(dbg, session)
    assert stop["hook"] == "logits"
    patched = dbg.read_tensor("logits")
    end = run_to_end(dbg, session, stop)
    assert end["activePatches"] == [patch_id]

    reference = LlamaReference.load(MODEL_FILE)
    clean = reference.logits_from(0, trace["hook_embed"])
    np.testing.assert_allclose(clean, trace["logits"], atol=1e-3)  # the reference itself agrees with the engine
    ablated = reference.logits_from(3, trace["blocks.3.hook_resid_pre"], zero_attention_in=3)
    assert np.abs(ablated - trace["logits"]).max() > 1.0  # the ablation matters
    np.testing.assert_allclose(patched, ablated, atol=1e-3)
    assert np.argmax(patched[-1]) == np.argmax(ablated[-1])


def test_set_patch_overwrites_the_selected_position(dbg, trace):
    value = np.linspace(-1, 1, 576, dtype=np.float32)
    dbg.set_patches([{"hook": "blocks.2.hook_resid_pre", "positions": [1], "op": "set", "value": value}])
    dbg.set_breakpoints(["blocks.2.hook_resid_pre"])
    session = dbg.launch(PROMPT)["sessionId"]
    stop = next_event(dbg, session)
    read = dbg.read_tensor("blocks.2.hook_resid_pre")
    np.testing.assert_array_equal(read[1], value)
    np.testing.assert_allclose(np.delete(read, 1, axis=0), np.delete(trace["blocks.2.hook_resid_pre"], 1, axis=0),
                               rtol=1e-5, atol=1e-5)
    run_to_end(dbg, session, stop)


def test_inspection_errors_carry_codes_and_data(dbg):
    with pytest.raises(RPCError) as no_run:
        dbg.read_tensor("blocks.0.hook_resid_post")
    assert no_run.value.code == ErrorCode.INVALID_SESSION_STATE and no_run.value.data["state"] in (
        "none", "terminated")
    dbg.set_breakpoints(["blocks.1.hook_resid_pre"])
    session = dbg.launch(PROMPT)["sessionId"]
    stop = next_event(dbg, session)
    with pytest.raises(RPCError) as bad_expression:
        dbg.evaluate("x.norm(")
    assert bad_expression.value.code == ErrorCode.EXPRESSION_ERROR
    assert bad_expression.value.data["expression"] == "x.norm(" and bad_expression.value.data["position"] >= 6
    with pytest.raises(RPCError) as unknown_hook:
        dbg.read_tensor("blocks.99.hook_resid_pre")
    assert unknown_hook.value.code in (ErrorCode.INVALID_PARAMS, ErrorCode.EXPRESSION_ERROR)
    assert dbg.evaluate("x.shape")["type"] == "tensor"
    run_to_end(dbg, session, stop)


def test_a_stop_on_entry_is_at_the_first_hook_point_and_next_goes_on_from_there(dbg):
    session = dbg.launch(PROMPT, stop_on_entry=True)["sessionId"]
    stop = next_event(dbg, session)
    hooks = [hook["name"] for hook in dbg.model_info["hookPoints"]]
    assert stop["reason"] == "entry" and stop["hook"] == hooks[0] == "hook_embed"
    assert [frame["kind"] for frame in dbg.stack_trace()] == ["hook", "token"]
    dbg.next()
    stop = next_event(dbg, session)
    assert stop["reason"] == "step" and stop["hook"] == hooks[1]
    run_to_end(dbg, session, stop)


def raw(dbg: lmdbg.Client, body: bytes) -> dict[str, Any]:
    """Sends a framed body as it is and returns the answer that names no pending request."""
    dbg.transport.send_raw(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    return dbg.transport.unmatched.get(timeout=30)


def test_malformed_messages_get_their_error_codes_and_the_session_goes_on(dbg, trace):
    dbg.set_breakpoints(["blocks.7.hook_resid_post"])
    session = dbg.launch(PROMPT)["sessionId"]
    stop = next_event(dbg, session)
    # (body, the ids the answer may carry, its error code). The schema lets an invalid request's answer
    # carry id null, even when the message had an id.
    cases = [
        (b"{not json", {None}, ErrorCode.PARSE_ERROR),
        (b"\xff\xfe\x00", {None}, ErrorCode.PARSE_ERROR),
        (b"[1, 2]", {None}, ErrorCode.INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": "raw-1", "params": {}}', {None, "raw-1"}, ErrorCode.INVALID_REQUEST),
        (b'{"jsonrpc": "1.0", "id": "raw-2", "method": "model/tokenize", "params": {"text": "a"}}',
         {None, "raw-2"}, ErrorCode.INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": "raw-3", "method": "no/such"}', {"raw-3"}, ErrorCode.METHOD_NOT_FOUND),
        (b'{"jsonrpc": "2.0", "id": "raw-4", "method": "model/tokenize", "params": {"txt": "a"}}', {"raw-4"},
         ErrorCode.INVALID_PARAMS),
        (b'{"jsonrpc": "2.0", "id": "raw-5", "method": "debug/scopes", "params": {"frameId": "one"}}',
         {"raw-5"}, ErrorCode.INVALID_PARAMS),
        (b'{"jsonrpc": "2.0", "id": "raw-6", "method": "initialize", "params": {}}', {"raw-6"},
         ErrorCode.INVALID_REQUEST),
    ]
    for body, ids, code in cases:
        answer = raw(dbg, body)
        assert answer["id"] in ids and answer["error"]["code"] == code, (body, answer)
    notification = json.dumps({"jsonrpc": "2.0", "method": "no/notification"}).encode()
    dbg.transport.send_raw(b"Content-Length: %d\r\n\r\n%s" % (len(notification), notification))  # ignored

    # Still stopped at the same place, with the same values, and the run goes on.
    assert dbg.stack_trace()[0]["hook"] == "blocks.7.hook_resid_post"
    np.testing.assert_allclose(dbg.read_tensor("blocks.7.hook_resid_post"), trace["blocks.7.hook_resid_post"],
                               rtol=1e-5, atol=1e-5)
    assert run_to_end(dbg, session, stop)["reason"] == "maxNewTokens"
    assert dbg.transport.unmatched.empty()


def test_a_header_without_content_length_is_a_parse_error_and_ends_the_connection(server_path):
    """The schema (-32700): a broken frame is answered with id null, then the server closes the
    connection and exits 1, since the byte stream cannot be resynchronised."""
    client = lmdbg.Client(server=server_path, timeout=60)
    with pytest.raises(ServerExited):
        with client:
            client.transport.send_raw(b"Content-Type: application/json\r\n\r\n")
            answer = client.transport.unmatched.get(timeout=30)
            assert answer["id"] is None and answer["error"]["code"] == ErrorCode.PARSE_ERROR
            client.tokenize("a")
    assert client.returncode == 1


def test_generation_sends_output_and_the_generated_tokens(dbg):
    outputs: list[str] = []
    unsubscribe = dbg.on("debug/output", lambda e: outputs.append(e["text"]) if e["category"] == "generated" else None)
    try:
        session = dbg.launch(PROMPT, max_new_tokens=3)["sessionId"]
        end = run_to_end(dbg, session)
    finally:
        unsubscribe()
    assert end["reason"] in ("maxNewTokens", "endOfSequence") and len(end["tokens"]) == len(outputs) <= 3
    assert "".join(outputs) == end["text"]
    assert "Paris" in end["text"]


def test_cancelling_a_load_answers_either_way_and_the_session_goes_on(dbg):
    pending = dbg.request("model/load", {"name": MODEL_NAME})
    pending.cancel()
    try:
        assert pending.result(300)["name"] == MODEL_NAME
    except RPCError as error:
        assert error.code == ErrorCode.REQUEST_CANCELLED
    assert dbg.tokenize("Paris")["tokens"]


def test_close_shuts_down_and_the_server_exits_0(server_path):
    client = lmdbg.Client(server=server_path, timeout=60).start()
    assert client.close() == 0
