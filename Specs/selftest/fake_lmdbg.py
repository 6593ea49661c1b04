#!/usr/bin/env python3
"""A stand-in for the lmdbg server, to test scripts/run_specs.py. NOT the server.

It speaks just enough of the protocol (Content-Length framing; initialize, initialized, shutdown, exit;
-32002, -32601, -32700, -32600, -32602, -32001, -32003) for Specs/*.jsonrpc to pass against it, so that the
runner is known to work before the real server exists. `--misbehave KIND` makes it break a rule on purpose:

  wrong-code   answers an unknown method with -32600 instead of -32601
  no-exit      ignores `exit` and stdin's end (the runner must time out)
  unframed     writes a line of text without a Content-Length header after `initialize`
  extra        sends an unrequested debug/output notification after `shutdown`
  bad-schema   leaves `capabilities` out of the initialize result
  crash        exits with code 3 right after answering `initialize`
"""
import argparse
import json
import sys
import time

KNOWN = {
    "initialize", "shutdown", "model/load", "model/tokenize", "session/launch", "debug/setBreakpoints",
    "debug/setExceptionBreakpoints", "debug/continue", "debug/next", "debug/stepIn", "debug/stepOut",
    "debug/stepBack", "debug/pause", "debug/restart", "debug/stackTrace", "debug/scopes", "debug/variables",
    "debug/evaluate", "tensor/read", "patch/set", "patch/list", "patch/clear",
}
SESSION_METHODS = {"debug/continue", "debug/next", "debug/stepIn", "debug/stepOut", "debug/stepBack", "debug/pause",
                   "debug/stackTrace", "debug/scopes", "debug/variables", "debug/evaluate", "tensor/read"}
MODEL_METHODS = {"model/tokenize", "session/launch", "debug/setBreakpoints", "patch/set", "debug/restart"}
CAPABILITIES = {
    "stepBack": False, "conditionalBreakpoints": False, "hitConditionalBreakpoints": False, "logPoints": False,
    "exceptionBreakpointFilters": [], "patchOperations": ["set", "add", "zero", "mean", "scale", "projectOut", "resample"],
    "tensorDtypes": ["float32"], "workDoneProgress": False,
}


def read_message(stream):
    """The next body as bytes, or None at the end of input."""
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        line = line.strip()
        if not line:
            if length is not None:
                break
            continue
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    return stream.read(length)


def write(message):
    body = json.dumps(message).encode("utf-8")
    sys.stdout.buffer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    sys.stdout.buffer.flush()


def error(id_, code, message, data=None):
    error_object = {"code": code, "message": message}
    if data is not None:
        error_object["data"] = data
    write({"jsonrpc": "2.0", "id": id_, "error": error_object})


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--misbehave", default="")
    misbehave = parser.parse_args().misbehave
    state = "uninitialized"
    while True:
        body = read_message(sys.stdin.buffer)
        if body is None:
            if misbehave == "no-exit":
                time.sleep(3600)  # until the runner kills it
            return 1
        try:
            message = json.loads(body)
        except ValueError:
            error(None, -32700, "parse error: the message is not JSON")
            continue
        if not isinstance(message, dict) or not isinstance(message.get("method"), str):
            error(message.get("id") if isinstance(message, dict) else None, -32600, "invalid request: no method")
            continue
        method, id_ = message["method"], message.get("id")
        params = message.get("params", {})
        if id_ is None:  # a notification
            if method == "exit":
                if misbehave == "no-exit":
                    continue
                return 0 if state == "shutdown" else 1
            continue
        if state == "uninitialized" and method != "initialize":
            error(id_, -32002, f"{method}: the server is not initialized")
            continue
        if state == "shutdown":
            error(id_, -32600, f"{method}: the server is shut down")
            continue
        if method == "initialize":
            if state != "uninitialized":
                error(id_, -32600, "initialize: already initialized")
                continue
            state = "initialized"
            result = {"protocolVersion": "0.1.0", "serverInfo": {"name": "lmdbg", "version": "0.0.0-fake"},
                      "capabilities": CAPABILITIES}
            if misbehave == "bad-schema":
                del result["capabilities"]
            write({"jsonrpc": "2.0", "id": id_, "result": result})
            if misbehave == "unframed":
                sys.stdout.buffer.write(b"hello from a print statement\n")
                sys.stdout.buffer.flush()
            if misbehave == "crash":
                return 3
        elif method == "shutdown":
            state = "shutdown"
            write({"jsonrpc": "2.0", "id": id_, "result": None})
            if misbehave == "extra":
                write({"jsonrpc": "2.0", "method": "debug/output", "params": {"category": "log", "text": "bye"}})
        elif method not in KNOWN:
            error(id_, -32600 if misbehave == "wrong-code" else -32601, f"unknown method {method!r}")
        elif method == "debug/setExceptionBreakpoints":
            filters = params.get("filters") if isinstance(params, dict) else None
            if not isinstance(filters, list) or any(f not in ("nan", "inf", "massive") for f in filters):
                error(id_, -32602, "filters: expected a list of \"nan\", \"inf\", \"massive\"")
            else:
                write({"jsonrpc": "2.0", "id": id_, "result": {}})
        elif method in MODEL_METHODS:
            error(id_, -32001, f"{method}: no model loaded")
        elif method in SESSION_METHODS:
            error(id_, -32003, f"{method}: no run", {"state": "none"})
        elif method == "patch/list":
            write({"jsonrpc": "2.0", "id": id_, "result": {"patches": []}})
        else:
            error(id_, -32603, f"{method}: not in the fake server")


if __name__ == "__main__":
    sys.exit(main())
