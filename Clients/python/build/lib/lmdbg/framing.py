"""The LSP base protocol: `Content-Length` framing of JSON messages, without any I/O."""
from __future__ import annotations

import json
from typing import Any

from .errors import ProtocolError

HEADER_END = b"\r\n\r\n"
#: The longest header block accepted; a longer one means the stream is not framed at all.
MAX_HEADER_BYTES = 8192


def encode_message(message: Any) -> bytes:
    """Frames one JSON value: a `Content-Length` header, an empty line, compact UTF-8 JSON (NaN refused)."""
    body = json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


class FrameDecoder:
    """Turns a byte stream, fed in pieces of any size, into message bodies.

    `feed` returns every body completed by the new bytes, in order; a partial message waits for more.
    A malformed header raises `ProtocolError`: the stream cannot be resynchronised after one.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._length: int | None = None

    def feed(self, data: bytes) -> list[bytes]:
        """Adds bytes and returns the bodies now complete."""
        self._buffer += data
        bodies: list[bytes] = []
        while True:
            if self._length is None:
                end = self._buffer.find(HEADER_END)
                if end < 0:
                    if len(self._buffer) > MAX_HEADER_BYTES:
                        raise ProtocolError(f"no end of header within {MAX_HEADER_BYTES} bytes")
                    return bodies
                self._length = self._parse_header(bytes(self._buffer[:end]))
                del self._buffer[: end + len(HEADER_END)]
            if len(self._buffer) < self._length:
                return bodies
            bodies.append(bytes(self._buffer[: self._length]))
            del self._buffer[: self._length]
            self._length = None

    @property
    def pending_bytes(self) -> int:
        """How many bytes are buffered toward an incomplete message."""
        return len(self._buffer)

    @staticmethod
    def _parse_header(block: bytes) -> int:
        length: int | None = None
        for line in block.split(b"\r\n"):
            name, colon, value = line.partition(b":")
            if not colon:
                raise ProtocolError(f"header line without a colon: {line[:80]!r}")
            if name.strip().lower() == b"content-length":
                text = value.strip()
                if not text.isdigit():
                    raise ProtocolError(f"bad Content-Length: {text[:40]!r}")
                length = int(text)
        if length is None:
            raise ProtocolError(f"header without Content-Length: {block[:200]!r}")
        return length


def decode_body(body: bytes) -> Any:
    """Parses one message body as JSON (the protocol's non-finite numbers travel as strings, never as NaN)."""
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProtocolError(f"message body is not UTF-8 JSON: {error}; body starts {body[:200]!r}") from error
