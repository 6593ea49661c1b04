"""Errors the client raises: the server's JSON-RPC errors, and the transport's own failures."""
from __future__ import annotations

from enum import IntEnum
from typing import Any


class ErrorCode(IntEnum):
    """The error codes of the protocol (Protocol/README.md, Errors)."""

    PARSE_ERROR = -32700
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INTERNAL_ERROR = -32603
    SERVER_NOT_INITIALIZED = -32002
    REQUEST_CANCELLED = -32800
    NO_MODEL_LOADED = -32001
    INVALID_SESSION_STATE = -32003
    MODEL_LOAD_FAILED = -32004
    MEMORY_BUDGET_EXCEEDED = -32005
    EXPRESSION_ERROR = -32006


class LMDBGError(Exception):
    """The base of every error this package raises."""


class RPCError(LMDBGError):
    """An error response from the server: `code`, `message` and the optional `data`."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(code, message, data)
        self.code = code
        self.message = message
        self.data = data

    @property
    def name(self) -> str:
        """The code's name in the protocol, e.g. `INVALID_PARAMS`, or `UNKNOWN` for a code it does not list."""
        try:
            return ErrorCode(self.code).name
        except ValueError:
            return "UNKNOWN"

    def __str__(self) -> str:
        text = f"{self.code} {self.name}: {self.message}"
        return text if self.data is None else f"{text} (data: {self.data!r})"


class ProtocolError(LMDBGError):
    """The server sent bytes that are not a well-framed JSON-RPC message; the connection cannot go on."""


class ServerExited(LMDBGError):
    """The server process ended (or its stdout closed) while the client still needed it."""

    def __init__(self, returncode: int | None, stderr_tail: str = "") -> None:
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        text = "the lmdbg server exited" + ("" if returncode is None else f" with status {returncode}")
        if stderr_tail:
            text += f"; its last stderr output:\n{stderr_tail}"
        super().__init__(text)


class ServerNotFound(LMDBGError):
    """No lmdbg server binary was found where the client looks for one."""
