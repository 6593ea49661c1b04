"""The client against the in-process fake server: framing over real pipes, ids, errors, events, progress,
cancellation and the end of the connection."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fake_server import FakeServer, Reply, notification

from lmdbg import Client, Event, ProtocolError, RPCError, ServerExited
from lmdbg.errors import ErrorCode

STOP = {"sessionId": 1, "reason": "breakpoint", "hook": "blocks.0.hook_resid_post", "layer": 0,
        "positions": {"start": 0, "end": 5}, "tokenStep": 0, "breakpointIds": [1]}


def never_answer(params: dict[str, Any]) -> Any:
    """A handler that leaves the request unanswered."""
    raise Reply(answer=False)


def answer_after(before: list[dict[str, Any]], result: Any) -> Any:
    """A handler that sends `before`, then answers `result`."""
    def handler(params: dict[str, Any]) -> Any:
        raise Reply(before=before, result=result)
    return handler


@pytest.fixture
def servers() -> Iterator[list[tuple[FakeServer, Client]]]:
    """Started fake servers and their clients, closed at the end of the test."""
    started: list[tuple[FakeServer, Client]] = []
    yield started
    for server, client in started:
        client.close(timeout=5)
        server.close()


def start(servers: list[tuple[FakeServer, Client]], handlers: dict[str, Any] | None = None,
          **options: Any) -> tuple[FakeServer, Client]:
    client_options = {k: options.pop(k) for k in ("timeout", "model") if k in options}
    server = FakeServer(handlers, **options)
    client = server.client(**client_options)
    servers.append((server, client))
    return server, client


@pytest.mark.parametrize("options", [{"chunk": 1}, {"pack": True}, {"chunk": 5, "pack": True}, {}])
def test_answers_and_events_survive_any_cut_of_the_stream(servers, options):
    def launch(params: dict[str, Any]) -> Any:
        raise Reply(before=[notification("debug/output", {"category": "log", "text": "t\u00e9"}),
                            notification("debug/stopped", STOP)],
                    result={"sessionId": 1, "promptTokens": [1, 2, 3]})

    server, client = start(servers, {"session/launch": launch, "model/tokenize": lambda p: {
        "tokens": list(range(len(p["text"]))), "pieces": list(p["text"])}}, **options)
    assert client.launch("hello", max_new_tokens=2) == {"sessionId": 1, "promptTokens": [1, 2, 3]}
    assert client.tokenize("ab\u00e9") == {"tokens": [0, 1, 2], "pieces": ["a", "b", "\u00e9"]}
    assert client.wait_for("debug/stopped", timeout=1).params == STOP
    launched = server.wait_received("session/launch")
    assert launched["params"] == {"prompt": "hello", "maxNewTokens": 2}


def test_requests_get_distinct_ids_and_out_of_order_answers_reach_their_callers(servers):
    server, client = start(servers, {"debug/evaluate": never_answer})  # answered below, by hand
    first = client.request("debug/evaluate", {"expression": "a"})
    second = client.request("debug/evaluate", {"expression": "b"})
    assert first.id != second.id
    with server.received_changed:
        server.received_changed.wait_for(lambda: sum(m.get("method") == "debug/evaluate" for m in server.received) == 2,
                                         5)
    held = [m for m in server.received if m.get("method") == "debug/evaluate"]
    for message in reversed(held):
        server.send({"jsonrpc": "2.0", "id": message["id"], "result": {"echo": message["params"]["expression"]}})
    assert first.result(2) == {"echo": "a"}
    assert second.result(2) == {"echo": "b"}


def test_error_answers_raise_rpc_error_with_code_message_and_data(servers):
    def stopped_only(params: dict[str, Any]) -> Any:
        raise Reply(error={"code": -32003, "message": "the run is running", "data": {"state": "running"}})

    _, client = start(servers, {"debug/stackTrace": stopped_only})
    with pytest.raises(RPCError) as caught:
        client.stack_trace()
    assert caught.value.code == ErrorCode.INVALID_SESSION_STATE
    assert caught.value.name == "INVALID_SESSION_STATE"
    assert caught.value.message == "the run is running"
    assert caught.value.data == {"state": "running"}
    with pytest.raises(RPCError) as missing:
        client.pause()  # the fake has no handler: -32601
    assert missing.value.code == -32601 and missing.value.data is None


def test_callbacks_see_events_in_order_before_the_answer_that_follows_them(servers):
    def launch(params: dict[str, Any]) -> Any:
        raise Reply(before=[notification("debug/terminated", {"sessionId": 1, "reason": "superseded", "tokens": [],
                                                              "text": "", "activePatches": []}),
                            notification("debug/stopped", STOP)],
                    result={"sessionId": 2, "promptTokens": []})

    _, client = start(servers, {"session/launch": launch})
    seen: list[str] = []
    client.on("debug/terminated", lambda e: seen.append("terminated " + e["reason"]))
    unsubscribe = client.on("debug/stopped", lambda e: seen.append("stopped " + e["hook"]))
    client.on("*", lambda e: seen.append("any " + e.method))
    client.launch("x")
    assert seen == ["terminated superseded", "any debug/terminated", "stopped blocks.0.hook_resid_post",
                    "any debug/stopped"]
    unsubscribe()
    seen.clear()
    client.launch("x")
    assert seen == ["terminated superseded", "any debug/terminated", "any debug/stopped"]


def test_a_failing_callback_does_not_stop_the_client(servers, caplog):
    _, client = start(servers, {"session/launch": answer_after([notification("debug/stopped", STOP)],
                                                               {"sessionId": 1, "promptTokens": []})})
    client.on("debug/stopped", lambda e: 1 / 0)
    assert client.launch("x")["sessionId"] == 1
    assert client.wait_for("debug/stopped", timeout=1)["hook"] == STOP["hook"]
    assert "callback failed" in caplog.text


def test_a_callback_cannot_wait_for_an_answer_but_can_send(servers):
    server, client = start(servers, {"session/launch": answer_after([notification("debug/stopped", STOP)],
                                                                    {"sessionId": 1, "promptTokens": []}),
                                     "debug/continue": lambda p: {}})
    errors: list[BaseException] = []

    def on_stop(event: Event) -> None:
        try:
            client.stack_trace()
        except RuntimeError as error:
            errors.append(error)
        client.request("debug/continue")

    client.on("debug/stopped", on_stop)
    client.launch("x")
    assert len(errors) == 1 and "callback" in str(errors[0])
    server.wait_received("debug/continue")


def test_wait_for_skips_other_events_filters_and_times_out(servers):
    def launch(params: dict[str, Any]) -> Any:
        stops = [notification("debug/stopped", {**STOP, "layer": layer, "hook": f"blocks.{layer}.hook_resid_post"})
                 for layer in range(3)]
        raise Reply(before=[stops[0], notification("debug/output", {"category": "log", "text": "hi"}), *stops[1:],
                            notification("debug/terminated", {"sessionId": 1, "reason": "maxNewTokens",
                                                              "tokens": [], "text": "", "activePatches": []})],
                    result={"sessionId": 1, "promptTokens": []})

    _, client = start(servers, {"session/launch": launch})
    client.launch("x")
    assert client.wait_for("debug/output", timeout=1)["text"] == "hi"  # drops the first stop
    assert client.wait_for("debug/stopped", timeout=1, predicate=lambda e: e["layer"] == 2)["layer"] == 2
    event = client.wait_for("debug/stopped", "debug/terminated", timeout=1)
    assert event.method == "debug/terminated"
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        client.wait_for("debug/stopped", timeout=0.2)
    assert 0.15 < time.monotonic() - started < 2


def test_events_iterates_in_arrival_order_until_quiet(servers):
    server, client = start(servers)
    server.send(*[notification("debug/output", {"category": "generated", "text": str(i), "token": i})
                  for i in range(5)])
    assert [e["token"] for e in client.events("debug/output", timeout=0.5)] == [0, 1, 2, 3, 4]
    server.send(notification("debug/output", {"category": "log", "text": "late"}))
    time.sleep(0.2)
    assert [e["text"] for e in client.clear_events()] == ["late"]


def test_progress_reaches_the_load_callback_and_the_event_stream(servers):
    def load(params: dict[str, Any]) -> Any:
        token = params["workDoneToken"]
        values = [{"kind": "begin", "title": "Loading m", "percentage": 0},
                  {"kind": "report", "message": "blk.0", "percentage": 50}, {"kind": "end"}]
        raise Reply(before=[notification("$/progress", {"token": token, "value": v}) for v in values]
                    + [notification("$/progress", {"token": "someone-else", "value": {"kind": "end"}})],
                    result={"name": "m", "path": "/m.gguf", "architecture": "llama", "config": {}, "hookPoints": []})

    server, client = start(servers, {"model/load": load})
    kinds: list[str] = []
    info = client.load_model("m", progress=lambda value: kinds.append(value["kind"]))
    assert kinds == ["begin", "report", "end"]
    assert info["name"] == "m" and client.model_info == info
    assert server.wait_received("model/load")["params"]["name"] == "m"
    tokens = [e["token"] for e in client.events("$/progress", timeout=0.2)]
    assert len(tokens) == 4 and tokens[-1] == "someone-else"


def test_cancel_sends_cancel_request_with_the_id(servers):
    server, client = start(servers, {"debug/evaluate": never_answer})
    pending = client.request("debug/evaluate", {"expression": "x.norm()"})
    server.wait_received("debug/evaluate")
    pending.cancel()
    cancel = server.wait_received("$/cancelRequest")
    assert cancel["params"] == {"id": pending.id} and "id" not in cancel
    assert not pending.done()
    server.send({"jsonrpc": "2.0", "id": pending.id, "error": {"code": -32800, "message": "cancelled"}})
    with pytest.raises(RPCError) as caught:
        pending.result(2)
    assert caught.value.code == ErrorCode.REQUEST_CANCELLED


def test_a_timeout_cancels_the_request(servers):
    server, client = start(servers, {"tensor/read": never_answer},
                           timeout=0.3)
    with pytest.raises(TimeoutError):
        client.read_tensor("blocks.0.hook_resid_post")
    request = server.wait_received("tensor/read")
    assert server.wait_received("$/cancelRequest")["params"]["id"] == request["id"]


def test_answers_with_unknown_or_null_ids_go_to_unmatched(servers):
    server, client = start(servers)
    server.send({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}},
                {"jsonrpc": "2.0", "id": 999, "result": {}})
    assert client.transport.unmatched.get(timeout=2)["error"]["code"] == -32700
    assert client.transport.unmatched.get(timeout=2)["id"] == 999


def test_send_raw_writes_bytes_unchanged(servers):
    server, client = start(servers)
    body = json.dumps({"jsonrpc": "2.0", "method": "raw/thing", "params": {"n": 1}}).encode()
    client.transport.send_raw(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    assert server.wait_received("raw/thing")["params"] == {"n": 1}


def test_patches_send_numpy_operands_as_wire_tensors_and_list_decodes_them(servers):
    stored: list[dict[str, Any]] = []

    def set_patches(params: dict[str, Any]) -> Any:
        stored.extend(params["patches"])
        return {"ids": list(range(1, len(stored) + 1))}

    _, client = start(servers, {"patch/set": set_patches, "patch/list": lambda p: {
        "patches": [{**spec, "id": i + 1, "hooks": 1} for i, spec in enumerate(stored)]}})
    value = np.arange(6, dtype=np.float64).reshape(2, 3)
    assert client.set_patches([{"hook": "blocks.0.hook_resid_pre", "positions": [3], "op": "set", "value": value},
                               {"hook": "blocks.1.hook_resid_pre", "op": "add", "vector": [1.0, -2.0],
                                "scale": 2.0}]) == [1, 2]
    assert stored[0]["value"] == {"dtype": "float32", "shape": [2, 3], "data": "AAAAAAAAgD8AAABAAABAQAAAgEAAAKBA"}
    patches = client.list_patches()
    np.testing.assert_array_equal(patches[0]["value"], value.astype(np.float32))
    np.testing.assert_array_equal(patches[1]["vector"], [1.0, -2.0])
    assert patches[1]["scale"] == 2.0 and patches[0]["positions"] == [3]


def test_the_end_of_the_connection_fails_waiters_and_later_requests(servers):
    server, client = start(servers, {"debug/evaluate": never_answer})
    pending = client.request("debug/evaluate", {"expression": "1"})
    server.wait_received("debug/evaluate")
    waiter_error: list[BaseException] = []
    waiter = threading.Thread(target=lambda: _catch(lambda: client.wait_for("debug/stopped"), waiter_error))
    waiter.start()
    server.close()
    with pytest.raises(ServerExited):
        pending.result(5)
    waiter.join(5)
    assert not waiter.is_alive() and isinstance(waiter_error[0], ServerExited)
    with pytest.raises(ServerExited):
        client.tokenize("x")


def test_a_stream_that_is_not_framed_is_a_protocol_error(servers):
    server, client = start(servers, {"debug/evaluate": never_answer})
    pending = client.request("debug/evaluate", {"expression": "1"})
    server.wait_received("debug/evaluate")
    server.send_bytes(b"HTTP/1.1 200 OK\r\n\r\n")
    with pytest.raises(ProtocolError):
        pending.result(5)


def test_close_sends_shutdown_then_exit(servers):
    server, client = start(servers)
    client.close(timeout=5)
    methods = [m.get("method") for m in server.received]
    assert methods == ["initialize", "initialized", "shutdown", "exit"]
    init = server.received[0]["params"]
    assert init["protocolVersion"] == "0.1.0" and init["clientInfo"]["name"] == "lmdbg-python"


def test_a_model_given_to_the_client_is_loaded_after_the_handshake(servers, tmp_path):
    info = {"name": "m", "path": "/m.gguf", "architecture": "llama", "config": {}, "hookPoints": []}
    server, client = start(servers, {"model/load": lambda p: info}, model="smollm2")
    assert client.model_info == info
    assert server.wait_received("model/load")["params"] == {"name": "smollm2"}
    model_file = tmp_path / "x.gguf"
    model_file.write_bytes(b"")
    server, client = start(servers, {"model/load": lambda p: info}, model=str(model_file))
    assert server.wait_received("model/load")["params"] == {"path": str(model_file)}


def test_a_different_protocol_minor_version_warns(servers):
    with pytest.warns(UserWarning, match="0.2.0"):
        start(servers, {"initialize": lambda p: {"protocolVersion": "0.2.0", "capabilities": {},
                                                 "serverInfo": {"name": "f", "version": "0"}}})


def _catch(fn: Any, into: list[BaseException]) -> None:
    try:
        fn()
    except BaseException as error:  # noqa: BLE001 - handed to the test thread
        into.append(error)


def test_run_yields_its_own_stops_continuing_after_each_and_keeps_the_end(servers):
    layers = iter(range(3))

    def stop_or_end(session: int) -> dict[str, Any]:
        layer = next(layers, None)
        if layer is None:
            return notification("debug/terminated", {"sessionId": session, "reason": "maxNewTokens", "tokens": [5],
                                                     "text": " Paris", "activePatches": []})
        return notification("debug/stopped", {**STOP, "sessionId": session, "layer": layer})

    stale = notification("debug/stopped", {**STOP, "sessionId": 1})
    def launch(params: dict[str, Any]) -> Any:
        raise Reply(before=[stale, stop_or_end(2)], result={"sessionId": 2, "promptTokens": [7]})

    def resume(params: dict[str, Any]) -> Any:
        raise Reply(before=[stop_or_end(2)], result={})

    server, client = start(servers, {"session/launch": launch, "debug/continue": resume})
    run = client.run("x", max_new_tokens=1)
    assert run.session_id == 2 and run.prompt_tokens == [7]
    seen = [stop["layer"] for stop in run]
    assert seen == [0, 1, 2]  # the stale stop of session 1 is not among them
    assert run.terminated is not None and run.terminated["text"] == " Paris"
    continues = [m for m in server.received if m.get("method") == "debug/continue"]
    assert len(continues) == 3
    assert run.finish()["reason"] == "maxNewTokens"
