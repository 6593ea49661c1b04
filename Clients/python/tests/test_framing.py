"""The Content-Length framing, without I/O."""
import json
import math

import pytest

from lmdbg import FrameDecoder, ProtocolError, encode_message
from lmdbg.framing import MAX_HEADER_BYTES, decode_body

MESSAGES = [
    {"jsonrpc": "2.0", "id": 1, "result": {"text": "caf\u00e9 \u2014 \U0001f600"}},
    {"jsonrpc": "2.0", "method": "debug/output", "params": {"category": "log", "text": "x" * 3000}},
    {"jsonrpc": "2.0", "id": "s", "result": None},
]


def stream() -> bytes:
    return b"".join(encode_message(m) for m in MESSAGES)


def test_encode_counts_utf8_bytes_not_characters():
    framed = encode_message({"t": "\u00e9"})
    header, body = framed.split(b"\r\n\r\n")
    assert header == b"Content-Length: %d" % len(body)
    assert len(body) == len('{"t":"\u00e9"}') + 1  # é is two bytes


def test_encode_refuses_nan():
    with pytest.raises(ValueError):
        encode_message({"x": math.nan})


def test_one_byte_at_a_time():
    decoder = FrameDecoder()
    bodies = []
    for i, byte in enumerate(stream()):
        got = decoder.feed(bytes([byte]))
        bodies += got
        if got:
            assert decoder.pending_bytes == 0, f"after byte {i}"
    assert [decode_body(b) for b in bodies] == MESSAGES


def test_packed_messages_in_one_feed():
    decoder = FrameDecoder()
    assert [decode_body(b) for b in decoder.feed(stream())] == MESSAGES
    assert decoder.pending_bytes == 0


@pytest.mark.parametrize("cut", [1, 7, 17, 18, 19, 100, 1000])
def test_every_cut_of_two_feeds(cut):
    data = stream()
    decoder = FrameDecoder()
    bodies = decoder.feed(data[:cut]) + decoder.feed(data[cut:])
    assert [decode_body(b) for b in bodies] == MESSAGES


def test_a_message_and_a_half_leaves_the_half_buffered():
    first, second = encode_message(MESSAGES[0]), encode_message(MESSAGES[1])
    decoder = FrameDecoder()
    assert [decode_body(b) for b in decoder.feed(first + second[:30])] == [MESSAGES[0]]
    assert decoder.pending_bytes == 30 - second.index(b"\r\n\r\n") - 4
    assert [decode_body(b) for b in decoder.feed(second[30:])] == [MESSAGES[1]]


def test_other_headers_and_header_case_are_accepted():
    body = json.dumps({"a": 1}).encode()
    data = b"content-type: application/vscode-jsonrpc; charset=utf-8\r\nCONTENT-LENGTH:  %d\r\n\r\n%s" % (
        len(body), body)
    assert FrameDecoder().feed(data) == [body]


def test_zero_length_body_is_a_frame():
    assert FrameDecoder().feed(b"Content-Length: 0\r\n\r\n") == [b""]


@pytest.mark.parametrize("header", [
    b"Content-Type: text/plain\r\n\r\n",
    b"Content-Length: -3\r\n\r\n",
    b"Content-Length: ten\r\n\r\n",
    b"garbage\r\n\r\n",
])
def test_bad_headers_raise(header):
    with pytest.raises(ProtocolError):
        FrameDecoder().feed(header + b"{}")


def test_a_stream_without_header_end_is_refused_after_the_limit():
    decoder = FrameDecoder()
    assert decoder.feed(b"x" * MAX_HEADER_BYTES) == []
    with pytest.raises(ProtocolError):
        decoder.feed(b"x")


def test_a_body_that_is_not_json_raises():
    with pytest.raises(ProtocolError):
        decode_body(b"{not json")
    with pytest.raises(ProtocolError):
        decode_body(b"\xff\xfe")
