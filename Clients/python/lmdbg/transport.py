"""JSON-RPC 2.0 over a pair of byte streams with `Content-Length` framing: ids, futures, a reader thread."""
from __future__ import annotations

import collections
import itertools
import logging
import queue
import subprocess
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import IO, Any, Literal

from .errors import ErrorCode, LMDBGError, ProtocolError, RPCError, ServerExited
from .framing import FrameDecoder, decode_body, encode_message
from .types import RequestId

log = logging.getLogger("lmdbg")

#: What to do with the server's stderr: pass it through to ours, keep its last lines, drop it, or a file.
StderrMode = Literal["inherit", "capture", "discard"] | IO[Any]
#: Called on the reader thread for each notification, in arrival order.
NotificationHandler = Callable[[str, dict[str, Any]], None]
#: Called on the reader thread once, when the connection ends, with the reason.
CloseHandler = Callable[[LMDBGError], None]

STDERR_LINES_KEPT = 200


class PendingRequest:
    """A request sent and not necessarily answered yet."""

    def __init__(self, transport: Transport, request_id: RequestId, method: str) -> None:
        self.id = request_id
        self.method = method
        self._transport = transport
        self._future: Future[Any] = Future()

    def result(self, timeout: float | None = None) -> Any:
        """Waits for the answer: the JSON result, or raises `RPCError`, `ServerExited`, or `TimeoutError`."""
        try:
            return self._future.result(timeout)
        except FutureTimeout:
            raise TimeoutError(f"no answer to {self.method} (id {self.id}) within {timeout} s") from None

    def done(self) -> bool:
        """Whether the answer (or the connection's end) has arrived."""
        return self._future.done()

    def cancel(self) -> None:
        """Asks the server to cancel the request (`$/cancelRequest`); it still answers, perhaps with -32800."""
        if not self._future.done():
            self._transport.notify("$/cancelRequest", {"id": self.id})

    def add_done_callback(self, fn: Callable[[PendingRequest], None]) -> None:
        """Calls `fn(self)` when the answer arrives (on the reader thread), or at once if it has."""
        self._future.add_done_callback(lambda _: fn(self))

    def _settle(self, message: dict[str, Any]) -> None:
        error = message.get("error")
        if isinstance(error, dict):
            self._future.set_exception(RPCError(error.get("code", 0), error.get("message", ""), error.get("data")))
        else:
            self._future.set_result(message.get("result"))

    def _fail(self, error: LMDBGError) -> None:
        if not self._future.done():
            self._future.set_exception(error)


class Transport:
    """One JSON-RPC connection: requests with ids and futures, notifications both ways.

    A reader thread decodes the incoming stream. Notifications go to `on_notification` and responses
    settle their `PendingRequest`, in the order the server sent them. Responses whose id names no pending
    request (among them the id-null answers to unreadable messages) are put on `unmatched`.
    """

    def __init__(self, incoming: IO[bytes], outgoing: IO[bytes], *,
                 process: subprocess.Popen[bytes] | None = None,
                 on_notification: NotificationHandler | None = None,
                 on_close: CloseHandler | None = None) -> None:
        self.process = process
        self.unmatched: queue.Queue[Any] = queue.Queue()
        self._incoming = incoming
        self._outgoing = outgoing
        self._on_notification = on_notification
        self._on_close = on_close
        self._ids = itertools.count(1)
        self._pending: dict[RequestId, PendingRequest] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._closed: LMDBGError | None = None
        self._stderr_lines: collections.deque[str] = collections.deque(maxlen=STDERR_LINES_KEPT)
        self._stderr_thread: threading.Thread | None = None
        self._reader = threading.Thread(target=self._read_loop, name="lmdbg-reader", daemon=True)

    @classmethod
    def spawn(cls, command: list[str], *, stderr: StderrMode = "capture", env: dict[str, str] | None = None,
              cwd: str | None = None, on_notification: NotificationHandler | None = None,
              on_close: CloseHandler | None = None) -> Transport:
        """Starts the server process and connects to its stdin and stdout."""
        stderr_arg: Any = stderr
        if isinstance(stderr, str):
            modes = {"inherit": None, "capture": subprocess.PIPE, "discard": subprocess.DEVNULL}
            if stderr not in modes:
                raise ValueError(f"stderr must be one of {sorted(modes)} or a file, not {stderr!r}")
            stderr_arg = modes[stderr]
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr_arg,
                                   env=env, cwd=cwd)
        assert process.stdin is not None and process.stdout is not None
        transport = cls(process.stdout, process.stdin, process=process, on_notification=on_notification,
                        on_close=on_close)
        if process.stderr is not None:
            transport._stderr_thread = threading.Thread(target=transport._read_stderr, args=(process.stderr,),
                                                        name="lmdbg-stderr", daemon=True)
            transport._stderr_thread.start()
        transport.start()
        return transport

    def start(self) -> None:
        """Starts the reader thread."""
        self._reader.start()

    # --- sending -------------------------------------------------------------------------------------

    def request(self, method: str, params: dict[str, Any] | None = None) -> PendingRequest:
        """Sends a request with a fresh integer id; `params` is left out when None."""
        with self._lock:
            if self._closed is not None:
                raise self._closed
            pending = PendingRequest(self, next(self._ids), method)
            self._pending[pending.id] = pending
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": pending.id, "method": method}
        if params is not None:
            message["params"] = params
        try:
            self._write(encode_message(message))
        except BaseException:
            with self._lock:
                self._pending.pop(pending.id, None)
            raise
        return pending

    def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        """Sends a notification; `params` is left out when None."""
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self._write(encode_message(message))

    def send_raw(self, data: bytes) -> None:
        """Writes bytes as they are, framing included (for testing the server's handling of bad input)."""
        self._write(data)

    def _write(self, data: bytes) -> None:
        with self._write_lock:
            if self._closed is not None:
                raise self._closed
            try:
                self._outgoing.write(data)
                self._outgoing.flush()
            except (BrokenPipeError, ValueError, OSError) as error:
                raise ServerExited(self._returncode(), self.stderr_text()) from error

    # --- receiving -----------------------------------------------------------------------------------

    def in_reader_thread(self) -> bool:
        """Whether the caller runs on the reader thread (in a notification handler or done callback)."""
        return threading.current_thread() is self._reader

    @property
    def closed(self) -> LMDBGError | None:
        """Why the connection ended, or None while it is open."""
        return self._closed

    def _read_loop(self) -> None:
        decoder = FrameDecoder()
        read = getattr(self._incoming, "read1", self._incoming.read)
        reason: LMDBGError | None = None
        try:
            while True:
                chunk = read(65536)
                if not chunk:
                    break
                for body in decoder.feed(chunk):
                    self._dispatch(decode_body(body))
            if decoder.pending_bytes:
                log.warning("the server's stdout ended inside a message (%d bytes buffered)", decoder.pending_bytes)
        except ProtocolError as error:
            reason = error
        except (OSError, ValueError):
            pass  # the stream was closed under us: treated as its end
        self._finish(reason)

    def _dispatch(self, message: Any) -> None:
        if not isinstance(message, dict):
            raise ProtocolError(f"the server sent a JSON value that is not a message: {message!r:.200}")
        method = message.get("method")
        if isinstance(method, str):
            params = message.get("params")
            if "id" in message:
                log.warning("the server sent a request (%s); this protocol has none", method)
                self._write(encode_message({"jsonrpc": "2.0", "id": message["id"], "error": {
                    "code": ErrorCode.METHOD_NOT_FOUND, "message": f"the client serves no method {method!r}"}}))
            elif self._on_notification is not None:
                try:
                    self._on_notification(method, params if isinstance(params, dict) else {})
                except Exception:
                    log.exception("the handler of a %s notification failed", method)
            return
        response_id = message.get("id")
        pending = None
        if isinstance(response_id, int | str) and not isinstance(response_id, bool):
            with self._lock:
                pending = self._pending.pop(response_id, None)
        if pending is None:
            self.unmatched.put(message)
        else:
            pending._settle(message)

    def _finish(self, reason: LMDBGError | None) -> None:
        if reason is None:
            reason = ServerExited(self._returncode(wait=2.0), self.stderr_text())
        with self._lock:
            self._closed = reason
            pending = list(self._pending.values())
            self._pending.clear()
        for request in pending:
            request._fail(reason)
        if self._on_close is not None:
            self._on_close(reason)

    def _read_stderr(self, stream: IO[bytes]) -> None:
        for line in stream:
            self._stderr_lines.append(line.decode("utf-8", "replace").rstrip("\n"))

    def stderr_text(self) -> str:
        """The last lines the server wrote to stderr, when it was started with `stderr="capture"`."""
        return "\n".join(self._stderr_lines)

    # --- the process ---------------------------------------------------------------------------------

    def close_output(self) -> None:
        """Closes the stream to the server (its stdin): it sees end of input."""
        with self._write_lock:
            try:
                self._outgoing.close()
            except OSError:
                pass

    def wait(self, timeout: float | None = None) -> int | None:
        """Waits for the server process and the reader thread to end; the exit status, or None if no process."""
        code = self.process.wait(timeout) if self.process is not None else None
        self._reader.join(timeout)
        if self._stderr_thread is not None:
            self._stderr_thread.join(timeout)
        return code

    def kill(self) -> None:
        """Kills the server process."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()

    def _returncode(self, wait: float = 0.0) -> int | None:
        if self.process is None:
            return None
        try:
            code = self.process.wait(wait) if wait else self.process.poll()
        except subprocess.TimeoutExpired:
            return None
        if self._stderr_thread is not None:
            self._stderr_thread.join(wait or 0.5)
        return code

