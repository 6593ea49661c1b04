"""A stand-in for the lmdbg server, in this process: it speaks the framing over pipes from a thread.

Tests give it handlers (method → params → result, or raise `Reply`), choose how its bytes are cut into
writes (one byte at a time, several messages packed into one write), and read back what it received.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from lmdbg import Client
from lmdbg.framing import FrameDecoder, decode_body, encode_message

Handler = Callable[[dict[str, Any]], Any]


class Reply(Exception):
    """Raised by a handler to answer with an error, or to send messages before (or instead of) answering."""

    def __init__(self, error: dict[str, Any] | None = None, before: list[dict[str, Any]] | None = None,
                 answer: bool = True, result: Any = None) -> None:
        super().__init__(error)
        self.error = error
        self.before = before or []
        self.answer = answer
        self.result = result


def notification(method: str, params: dict[str, Any]) -> dict[str, Any]:
    """A notification message."""
    return {"jsonrpc": "2.0", "method": method, "params": params}


class FakeServer:
    """Answers requests with `handlers[method](params)`; `initialize` and `shutdown` have defaults."""

    def __init__(self, handlers: dict[str, Handler] | None = None, *, chunk: int | None = None,
                 pack: bool = False) -> None:
        """`chunk`: write the outgoing bytes in pieces of this size. `pack`: the messages a request causes
        (notifications before the response, and the response) go out in a single write."""
        self.handlers: dict[str, Handler] = {
            "initialize": lambda p: {"protocolVersion": "0.1.0", "serverInfo": {"name": "fake", "version": "0"},
                                     "capabilities": {}},
            "shutdown": lambda p: None,
            **(handlers or {}),
        }
        self.chunk = chunk
        self.pack = pack
        self.received: list[dict[str, Any]] = []
        self.received_changed = threading.Condition()
        self._to_client_read, self._to_client_write = os.pipe()
        self._to_server_read, self._to_server_write = os.pipe()
        self._write_lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name="fake-server", daemon=True)

    def client(self, **options: Any) -> Client:
        """Starts serving and returns a `Client` connected (and initialized) over the pipes."""
        self._thread.start()
        return Client(**options).connect(os.fdopen(self._to_client_read, "rb"),
                                         os.fdopen(self._to_server_write, "wb"))

    def send(self, *messages: dict[str, Any]) -> None:
        """Sends messages to the client (packed into one write when `pack`)."""
        data = [encode_message(m) for m in messages]
        self.send_bytes(b"".join(data) if self.pack else data)

    def send_bytes(self, data: bytes | list[bytes]) -> None:
        """Writes bytes to the client, in `chunk`-sized writes when set."""
        pieces = data if isinstance(data, list) else [data]
        with self._write_lock:
            for piece in pieces:
                step = self.chunk or len(piece) or 1
                for start in range(0, len(piece), step):
                    os.write(self._to_client_write, piece[start:start + step])

    def close(self) -> None:
        """Closes the stream to the client, as a server that exits."""
        with self._write_lock:
            if self._to_client_write >= 0:
                os.close(self._to_client_write)
                self._to_client_write = -1

    def wait_received(self, method: str, timeout: float = 5.0) -> dict[str, Any]:
        """The first message received with this method, waiting for it."""
        with self.received_changed:
            found = self.received_changed.wait_for(
                lambda: next((m for m in self.received if m.get("method") == method), None), timeout)
        assert found is not None, f"the fake server received no {method}"
        return found

    def _serve(self) -> None:
        decoder = FrameDecoder()
        while True:
            data = os.read(self._to_server_read, 65536)
            if not data:
                break
            for body in decoder.feed(data):
                message = decode_body(body)
                with self.received_changed:
                    self.received.append(message)
                    self.received_changed.notify_all()
                if "id" in message:
                    self._answer(message)
                elif message.get("method") == "exit":
                    self.close()
                    return

    def _answer(self, message: dict[str, Any]) -> None:
        handler = self.handlers.get(message["method"])
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": message["id"]}
        before: list[dict[str, Any]] = []
        if handler is None:
            reply["error"] = {"code": -32601, "message": f"no method {message['method']}"}
        else:
            try:
                reply["result"] = handler(message.get("params", {}))
            except Reply as custom:
                before = custom.before
                if not custom.answer:
                    self.send(*before)
                    return
                if custom.error is not None:
                    reply["error"] = custom.error
                else:
                    reply["result"] = custom.result
        self.send(*before, reply)

