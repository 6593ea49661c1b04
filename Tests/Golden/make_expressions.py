#!/usr/bin/env python3
"""Writes expressions.json: expressions of lmdbg's expression language over small fixed float32
tensors, with the results numpy gives for the same text. ExpressionGoldenTests checks the Swift
evaluator against it.  Run: python3 Tests/Golden/make_expressions.py  (needs numpy)."""
import json
import pathlib

import numpy as np


def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


# numpy meanings of the language's functions, so each case's text runs unchanged under Python.
FUNCTIONS = {
    "sum": lambda x, axis=None: np.sum(x, axis=axis),
    "mean": lambda x, axis=None: np.mean(x, axis=axis),
    "max": lambda x, axis=None: np.max(x, axis=axis),
    "min": lambda x, axis=None: np.min(x, axis=axis),
    "std": lambda x, axis=None: np.std(x, axis=axis),
    "argmax": lambda x, axis=None: np.argmax(x, axis=axis),
    "argmin": lambda x, axis=None: np.argmin(x, axis=axis),
    "norm": lambda x, axis=None: np.sqrt(np.sum(np.square(x), axis=axis)),
    "any": lambda x, axis=None: np.any(x, axis=axis),
    "all": lambda x, axis=None: np.all(x, axis=axis),
    "abs": np.abs,
    "sqrt": np.sqrt,
    "exp": np.exp,
    "log": np.log,
    "softmax": softmax,
    "dot": np.dot,
    "len": len,
    "shape": lambda x: np.array(np.shape(x)),
}

CASES = [
    # indexing and slicing
    "x[-1]", "x[1, -2]", "x[:, 2:10:2]", "x[::-1]", "x[::-2, 1:]", "x[-3:-1, ::3]", "x[1:100]",
    "x[5:2]", "x[:, -1:-7:-2]", "x[2][3]", "x[-100:2]", "v[4::-3]", "v[:-1:-1]",
    "pattern[1, -1, :]", "pattern[..., 0]", "pattern[0, ..., 1:3]", "pattern[:, 2]", "pattern[-1, 1:, ::2]",
    "x[...]", "t3[1, ..., 2]", "t3[..., 1:, -1]", "v[::-1][0]", "x[1:3][::-1, 2]", "t3.T",
    "x[4]", "x[0, 6]", "x[-5]", "x[1, 2, 3]", "x[::0]",
    # broadcasting and arithmetic
    "x + v", "x * col", "col - v", "x / 2 + 1", "-x ** 2", "2 ** x[0]", "x % 3", "-7 % 3", "x + m",
    "t3 * v[:4]", "(x - mean(x, axis=0)) / std(x, axis=0)",
    # products
    "x @ m", "v @ w", "x @ v", "t3 @ m2", "x[1:3] @ m", "dot(v, w)", "dot(x, v)", "x @ x", "x.T", "x.T @ x",
    "v @ m", "t3 @ m2[:, 0]", "col.T @ col",
    # reductions
    "sum(x)", "sum(x, axis=0)", "mean(x, axis=-1)", "max(x, 1)", "min(pattern, axis=0)", "argmax(x)",
    "argmax(x, axis=1)", "argmin(v)", "norm(x)", "norm(x, axis=1)", "std(x)", "sum(pattern, axis=-1)",
    "argmin(t3, axis=0)", "any(t3 > 2, axis=2)", "std(t3, axis=1)",
    # elementwise functions
    "softmax(x)", "softmax(x, axis=0)", "softmax(t3, axis=1)", "abs(x[0])", "sqrt(abs(v))", "exp(v)", "log(abs(v) + 1)",
    # comparisons
    "x > 0", "(x > 0) * x", "x == x[0]", "any(x > 2)", "all(x > -10)", "max(v) > 2", "len(x)", "shape(t3)",
]


def tensor_json(array):
    array = np.asarray(array, dtype=np.float32)
    return {"shape": list(array.shape), "data": [float(value) for value in array.reshape(-1)]}


def result_json(value):
    if isinstance(value, (bool, np.bool_)):
        return {"type": "bool", "value": bool(value)}
    if isinstance(value, (int, float, np.number)) or np.ndim(value) == 0:
        return {"type": "number", "value": float(value)}
    return {"type": "tensor", **tensor_json(value)}


def main():
    index = np.arange(24, dtype=np.float32)
    inputs = {
        "x": (np.sin(index) * 3).reshape(4, 6),
        "v": np.array([0.5, -1.25, 2.0, 3.5, -0.75, 1.0], dtype=np.float32),
        "w": np.array([1.0, 0.25, -2.0, 0.5, 4.0, -1.5], dtype=np.float32),
        "col": np.array([[1.0], [-2.0], [0.5], [3.0]], dtype=np.float32),
        "m": (np.cos(np.arange(18, dtype=np.float32)) * 2).reshape(6, 3),
        "m2": (np.arange(20, dtype=np.float32) / 10 - 1).reshape(4, 5),
        "t3": (np.arange(24, dtype=np.float32) % 7 - 3).reshape(2, 3, 4),
        "pattern": softmax(np.sin(np.arange(32, dtype=np.float32) * 0.7).reshape(2, 4, 4)),
    }
    namespace = dict(FUNCTIONS, **inputs)
    cases = []
    for expression in CASES:
        with np.errstate(all="ignore"):
            try:
                result = result_json(eval(expression, {"__builtins__": {}}, namespace))
            except (IndexError, ValueError):
                result = {"type": "error"}
        cases.append({"expression": expression, **result})
    document = {"inputs": {name: tensor_json(value) for name, value in inputs.items()}, "cases": cases}
    path = pathlib.Path(__file__).with_name("expressions.json")
    path.write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()
