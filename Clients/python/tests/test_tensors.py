"""The tensor wire format."""
import base64
import math

import numpy as np
import pytest

from lmdbg import ProtocolError, decode_tensor, encode_tensor, to_float

# The example in Protocol/README.md, "Tensor wire format".
EXAMPLE = {"dtype": "float32", "shape": [2, 2], "data": "AACAPwAAAEAAAEBAAACAQA=="}


def test_the_protocol_example_decodes():
    array = decode_tensor(EXAMPLE)
    assert array.dtype == np.float32 and array.shape == (2, 2)
    np.testing.assert_array_equal(array, [[1, 2], [3, 4]])


def test_the_protocol_example_encodes():
    assert encode_tensor(np.array([[1, 2], [3, 4]], dtype=np.float32)) == EXAMPLE


def test_decoded_arrays_are_writable_and_native():
    array = decode_tensor(EXAMPLE)
    array[0, 0] = 9
    assert array.dtype.isnative


def test_scalar_and_empty():
    scalar = encode_tensor(2.5)
    assert scalar["shape"] == [] and base64.b64decode(scalar["data"]) == b"\x00\x00\x20\x40"
    assert decode_tensor(scalar).shape == () and decode_tensor(scalar) == 2.5
    empty = encode_tensor(np.zeros((0, 3)))
    assert empty == {"dtype": "float32", "shape": [0, 3], "data": ""}
    assert decode_tensor(empty).shape == (0, 3)


def test_round_trip_keeps_bits_including_nan_and_infinities():
    rng = np.random.default_rng(0)
    values = rng.standard_normal((3, 4, 5)).astype(np.float32)
    values[0, 0, :3] = [np.nan, np.inf, -np.inf]
    back = decode_tensor(encode_tensor(values))
    assert back.shape == values.shape
    assert back.tobytes() == values.tobytes()


def test_big_endian_and_non_contiguous_input_is_sent_little_endian_row_major():
    values = np.arange(6, dtype=">f8").reshape(2, 3).T  # float64, big-endian, transposed view
    wire = encode_tensor(values)
    assert wire["shape"] == [3, 2]
    raw = np.frombuffer(base64.b64decode(wire["data"]), dtype="<f4")
    np.testing.assert_array_equal(raw, [0, 3, 1, 4, 2, 5])


@pytest.mark.parametrize("wire", [
    {"dtype": "float16", "shape": [1], "data": "AAA="},
    {"dtype": "float32", "shape": [3], "data": "AACAPwAAAEA="},  # 2 elements' bytes for 3
    {"dtype": "float32", "shape": [1], "data": "not base64!"},
    {"dtype": "float32", "shape": [-1], "data": ""},
])
def test_malformed_wire_tensors_raise(wire):
    with pytest.raises(ProtocolError):
        decode_tensor(wire)


def test_float_values():
    assert to_float(1.5) == 1.5 and to_float(3) == 3.0
    assert math.isnan(to_float("NaN"))
    assert to_float("Infinity") == math.inf and to_float("-Infinity") == -math.inf
    with pytest.raises(ProtocolError):
        to_float("nan")
