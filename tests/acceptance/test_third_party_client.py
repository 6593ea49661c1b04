"""Acceptance: lmdbg driven by a generic, third-party JSON-RPC client.

The client is python-lsp-jsonrpc (`pylsp_jsonrpc`: JsonRpcStreamReader/Writer and Endpoint), which knows
nothing about lmdbg: it frames messages with Content-Length and matches responses to requests. Against the
release binary (`$LMDBG_SERVER`, default .build/release/lmdbg) and SmolLM2-135M, one server process serves
every test in this file, in order, so the session it keeps is the one the last test checks:

- stops of a conditional glob breakpoint arrive in layer order, and the tensors read there equal what
  `lmdbg trace` writes for the same prompt (an independent run of the engine, read with safetensors.numpy);
- step back shows the earlier stop's recorded activation, and continue replays to the live stop;
- zero-ablating `blocks.3.hook_attn_out` gives the last-position logits that HF transformers gives with the
  attention output of layer 3 zeroed (the committed golden file from scripts/make_ablation_reference.py);
- malformed bytes and invalid requests get the right error codes, and the session goes on.
"""

import base64
import itertools
import os
import pathlib
import queue
import subprocess
import tempfile
import threading

import numpy as np
import pytest
from pylsp_jsonrpc.endpoint import Endpoint
from pylsp_jsonrpc.exceptions import JsonRpcException
from pylsp_jsonrpc.streams import JsonRpcStreamReader, JsonRpcStreamWriter
from safetensors.numpy import load_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
SERVER = os.environ.get("LMDBG_SERVER", str(ROOT / ".build" / "release" / "lmdbg"))
GOLDEN = ROOT / "tests" / "acceptance" / "golden" / "ablation_smollm2.npz"
PROMPT = "The capital of France is"
HOOK = "blocks.*.hook_resid_post"
TIMEOUT = 120
SERVER_NOTIFICATIONS = ("debug/stopped", "debug/output", "debug/terminated", "$/progress")


class Server:
    """One lmdbg process and a pylsp_jsonrpc Endpoint talking to it over its stdin and stdout."""

    def __init__(self, command):
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr)
        self.notifications = queue.Queue()
        # Responses whose id is null (to messages whose id could not be read): no request of the Endpoint's matches them.
        self.unmatched = queue.Queue()
        self.writer = JsonRpcStreamWriter(self.process.stdin)
        dispatcher = {method: self._notified(method) for method in SERVER_NOTIFICATIONS}
        ids = itertools.count(1)
        self.endpoint = Endpoint(dispatcher, self.writer.write, id_generator=lambda: next(ids))
        self.reader = JsonRpcStreamReader(self.process.stdout)
        self.listener = threading.Thread(target=self.reader.listen, args=(self._consume,), daemon=True)
        self.listener.start()

    def _notified(self, method):
        return lambda params: self.notifications.put((method, params))

    def _consume(self, message):
        if "id" in message and message["id"] is None:
            self.unmatched.put(message)
        else:
            self.endpoint.consume(message)

    def request(self, method, params=None):
        """The result, or raises JsonRpcException with the server's code, message and data."""
        return self.endpoint.request(method, params).result(timeout=TIMEOUT)

    def error(self, method, params=None):
        """The error a request must fail with."""
        with pytest.raises(JsonRpcException) as caught:
            self.request(method, params)
        return caught.value

    def notify(self, method, params=None):
        self.endpoint.notify(method, params)

    def send_bytes(self, body: bytes):
        """A message the client library would never write: `body` framed as it is."""
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def next(self, method):
        """The next notification of `method`; others before it are skipped (and returned with it)."""
        skipped = []
        while True:
            got, params = self.notifications.get(timeout=TIMEOUT)
            if got == method:
                return params, skipped
            skipped.append((got, params))

    def stop(self):
        params, skipped = self.next("debug/stopped")
        assert not any(method == "debug/terminated" for method, _ in skipped), skipped
        return params

    def read(self, **params):
        wire = self.request("tensor/read", params)
        assert wire["dtype"] == "float32"
        data = np.frombuffer(base64.b64decode(wire["data"]), dtype="<f4")
        return data.reshape(wire["shape"])

    def close(self):
        self.process.stdin.close()
        code = self.process.wait(timeout=TIMEOUT)
        self.endpoint.shutdown()
        return code


@pytest.fixture(scope="module")
def server():
    if not (os.path.isfile(SERVER) and os.access(SERVER, os.X_OK)):
        pytest.fail(f"no server binary at {SERVER}: build it with `swift build -c release --product lmdbg`")
    running = Server([SERVER])
    yield running
    running.process.kill()
    running.process.wait()


@pytest.fixture(scope="module")
def trace(tmp_path_factory):
    """`lmdbg trace` of the prompt, every resid_post recorded: the reference for the reads at stops."""
    out = tmp_path_factory.mktemp("trace") / "trace.safetensors"
    subprocess.run([SERVER, "trace", "--model", "smollm2", "--prompt", PROMPT, "--hooks", HOOK, "--out", str(out)],
                   check=True, capture_output=True, timeout=TIMEOUT)
    return load_file(str(out))


def test_initialize_and_load(server):
    result = server.request("initialize", {"clientInfo": {"name": "python-lsp-jsonrpc"}})
    assert result["protocolVersion"] == "0.1.0"
    assert result["capabilities"]["stepBack"] is True
    server.notify("initialized", {})
    model = server.request("model/load", {"name": "smollm2", "workDoneToken": "load"})
    assert model["config"]["nLayers"] == 30 and model["config"]["dModel"] == 576
    names = [hook["name"] for hook in model["hookPoints"]]
    assert names[0] == "hook_embed" and names[-1] == "logits" and "blocks.3.hook_attn_out" in names
    begin, _ = server.next("$/progress")
    assert begin == {"token": "load", "value": begin["value"]} and begin["value"]["kind"] == "begin"


def test_conditional_breakpoint_stops_in_layer_order_and_reads_equal_trace(server, trace):
    statuses = server.request("debug/setBreakpoints",
                              {"breakpoints": [{"hook": HOOK, "condition": "layer % 10 == 9"}]})["breakpoints"]
    assert statuses[0]["verified"] and statuses[0]["hooks"] == 30
    launched = server.request("session/launch", {"prompt": PROMPT})
    assert launched["promptTokens"] == trace["tokens"].tolist()
    reads = {}
    for layer in (9, 19, 29):
        stop = server.stop()
        assert (stop["hook"], stop["layer"], stop["reason"]) == (f"blocks.{layer}.hook_resid_post", layer, "breakpoint")
        assert stop["sessionId"] == launched["sessionId"]
        reads[layer] = server.read(hook=stop["hook"])
        np.testing.assert_array_equal(reads[layer], trace[stop["hook"]])
        if layer == 19:
            # Step back into the record: the previous stop, read from the record, then replay to the live stop.
            assert server.request("debug/stepBack") == {}
            back = server.stop()
            assert back["hook"] == "blocks.9.hook_resid_post" and back["recorded"] is True
            np.testing.assert_array_equal(server.read(hook=back["hook"]), reads[9])
            np.testing.assert_array_equal(server.read(expression="x"), reads[9])
            assert server.request("debug/continue") == {}
            live = server.stop()
            assert live["hook"] == stop["hook"] and not live.get("recorded", False)
        assert server.request("debug/continue") == {}
    ended, _ = server.next("debug/terminated")
    assert ended["reason"] == "maxNewTokens" and ended["activePatches"] == []


def test_zero_ablation_matches_the_hf_reference(server, trace):
    golden = np.load(GOLDEN)
    assert str(golden["prompt"]) == PROMPT
    assert golden["tokens"].tolist() == trace["tokens"].tolist(), "HF and lmdbg tokenize the prompt alike"
    ids = server.request("patch/set", {"patches": [{"hook": "blocks.3.hook_attn_out", "op": "zero"}]})["ids"]
    server.request("debug/setBreakpoints", {"breakpoints": [{"hook": "logits"}]})
    launched = server.request("session/launch", {"prompt": PROMPT})
    stop = server.stop()
    assert stop["hook"] == "logits" and stop["sessionId"] == launched["sessionId"]
    logits = server.read(hook="logits", slice="[-1]")
    reference = golden["logits"]
    assert logits.shape == reference.shape == (49152,)
    error = np.abs(logits - reference).max() / np.abs(reference).max()
    assert error < 1e-4, f"relative error {error} against HF"
    assert np.argsort(-logits)[:10].tolist() == np.argsort(-reference)[:10].tolist()
    clean = trace["logits"][-1]
    assert np.abs(logits - clean).max() > 100 * np.abs(logits - reference).max(), "the ablation changed the logits"
    assert server.request("debug/continue") == {}
    ended, _ = server.next("debug/terminated")
    assert ended["activePatches"] == ids
    assert server.request("patch/clear") == {}
    assert server.request("debug/setBreakpoints", {"breakpoints": []}) == {"breakpoints": []}


def test_malformed_and_invalid_messages_get_their_codes_and_the_session_goes_on(server):
    def unmatched_error():
        message = server.unmatched.get(timeout=TIMEOUT)
        assert message["id"] is None
        return message["error"]["code"]

    server.send_bytes(b'{"jsonrpc": "2.0", "id": 1000, "method": ')
    assert unmatched_error() == -32700
    server.send_bytes(b"\xff\xfe not utf-8")
    assert unmatched_error() == -32700
    server.send_bytes(b'{"jsonrpc": "2.0", "id": true, "method": "patch/list"}')
    assert unmatched_error() == -32600
    server.send_bytes(b'[1, 2, 3]')
    assert unmatched_error() == -32600

    assert server.error("debug/teleport", {}).code == -32601
    wrong = server.error("session/launch", {"prompt": 7})
    assert wrong.code == -32602 and "prompt" in wrong.message
    wrong = server.error("debug/next", {"granularity": "sideways"})
    assert wrong.code == -32602 and "granularity" in wrong.message
    bad_hook = server.error("patch/set", {"patches": [{"hook": "blocks.99.hook_resid_pre", "op": "zero"}]})
    assert bad_hook.code == -32602 and "unknown hook point 'blocks.99.hook_resid_pre'" in bad_hook.message
    not_stopped = server.error("debug/evaluate", {"expression": "x"})
    assert not_stopped.code == -32003 and not_stopped.data == {"state": "terminated"}
    assert server.error("model/load", {"path": "/nonexistent/model.gguf"}).code == -32004
    assert server.error("initialize", {}).code == -32600

    # The same session goes on: the model is loaded, and a run stops, reads and evaluates.
    assert server.request("model/tokenize", {"text": PROMPT})["tokens"] == [504, 3575, 282, 4649, 314]
    server.request("debug/setBreakpoints", {"breakpoints": [{"hook": "blocks.0.hook_attn_out"}]})
    server.request("session/launch", {"prompt": PROMPT, "maxNewTokens": 40})
    server.stop()
    # Running, not stopped: -32003 with the state (the run cannot end before it is resumed).
    server.request("debug/setBreakpoints", {"breakpoints": []})
    assert server.request("debug/continue") == {}
    running = server.error("debug/stackTrace")
    assert running.code == -32003 and running.data["state"] in ("running", "terminated")
    if running.data["state"] == "running":
        server.request("debug/pause")
        paused = server.stop()
        assert paused["reason"] == "pause"
        wrong_expression = server.error("debug/evaluate", {"expression": "x.norm("})
        assert wrong_expression.code == -32006 and wrong_expression.data == {"expression": "x.norm(", "position": 7}
        server.request("debug/continue")
    server.next("debug/terminated")
    assert server.request("shutdown") is None
    server.notify("exit")
    assert server.process.wait(timeout=TIMEOUT) == 0
