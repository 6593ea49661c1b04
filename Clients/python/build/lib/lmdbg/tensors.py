"""The tensor wire format: `{dtype: "float32", shape, data: base64 of little-endian float32}` ⇄ numpy."""
from __future__ import annotations

import base64
import binascii
import math
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import ProtocolError
from .types import FloatValue, WireTensor

_LITTLE_F32 = np.dtype("<f4")
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def decode_tensor(wire: WireTensor) -> npt.NDArray[np.float32]:
    """A writable float32 array (native byte order) with the wire tensor's shape and values."""
    if wire.get("dtype") != "float32":
        raise ProtocolError(f"unsupported tensor dtype {wire.get('dtype')!r}")
    shape = tuple(wire["shape"])
    if any(not isinstance(d, int) or d < 0 for d in shape):
        raise ProtocolError(f"bad tensor shape {list(shape)!r}")
    try:
        raw = base64.b64decode(wire["data"], validate=True)
    except (binascii.Error, ValueError) as error:
        raise ProtocolError(f"tensor data is not base64: {error}") from error
    expected = 4 * math.prod(shape)
    if len(raw) != expected:
        raise ProtocolError(f"tensor of shape {list(shape)} needs {expected} bytes, data has {len(raw)}")
    return np.frombuffer(raw, dtype=_LITTLE_F32).astype(np.float32).reshape(shape)


def encode_tensor(array: npt.ArrayLike) -> WireTensor:
    """The wire form of an array (or number), converted to float32."""
    values = np.asarray(array, dtype=_LITTLE_F32, order="C")
    return {
        "dtype": "float32",
        "shape": list(values.shape),
        "data": base64.b64encode(values.tobytes()).decode("ascii"),
    }


def is_wire_tensor(value: Any) -> bool:
    """Whether a JSON value has the members of a `WireTensor`."""
    return isinstance(value, dict) and {"dtype", "shape", "data"} <= value.keys()


def to_float(value: FloatValue) -> float:
    """A `FloatValue` (a JSON number, or `"NaN"`, `"Infinity"`, `"-Infinity"`) as a Python float."""
    if isinstance(value, str):
        try:
            return _NON_FINITE[value]
        except KeyError:
            raise ProtocolError(f"not a FloatValue: {value!r}") from None
    return float(value)
