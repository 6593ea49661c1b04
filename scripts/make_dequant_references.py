#!/usr/bin/env python3
"""Writes golden dequantization references under Tests/Golden/dequant/ using gguf-py.

For each supported ggml type: random blocks (raw bytes and gguf-py's float32 output), and, for
types the shipped models use, the first blocks of a real tensor (the test reads those raw bytes
from the model file itself). Needs numpy and gguf (gguf-py); models in ~/.cache/lmdbg/models/.
"""
import json
import os
from pathlib import Path

import numpy as np
from gguf import GGUFReader, GGMLQuantizationType as T
from gguf.quants import dequantize
from gguf.constants import GGML_QUANT_SIZES

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "Golden" / "dequant"
MODELS = Path.home() / ".cache" / "lmdbg" / "models"

TYPES = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]
RANDOM_BLOCKS = 8
# Blocks of 256 elements for scalar types, so every file holds a useful amount of data.
SCALAR_ELEMENTS = 256

# Byte offsets of f16 scale fields inside each block.
HALF_FIELDS = {
    "Q8_0": [0], "Q4_0": [0], "Q4_1": [0, 2], "Q5_0": [0], "Q5_1": [0, 2],
    "Q2_K": [80, 82], "Q3_K": [108], "Q4_K": [0, 2], "Q5_K": [0, 2], "Q6_K": [208],
}
# Real tensors: (model file, tensor name) per type.
REAL = {
    "F32": ("SmolLM2-135M-Instruct.Q4_1.gguf", "blk.0.attn_norm.weight"),
    "Q8_0": ("SmolLM2-135M-Instruct.Q4_1.gguf", "token_embd.weight"),
    "Q4_1": ("SmolLM2-135M-Instruct.Q4_1.gguf", "blk.0.ffn_down.weight"),
    "Q5_0": ("gemma-3-270m-q4_k_m.gguf", "blk.0.attn_k.weight"),
    "Q4_K": ("gemma-3-270m-q4_k_m.gguf", None),
    "Q6_K": ("gemma-3-270m-q4_k_m.gguf", None),
}
REAL_BLOCKS = 16


def random_raw(name: str, rng: np.random.Generator) -> np.ndarray:
    """Random block bytes with sane finite f16 scales."""
    if name == "F32":
        return rng.standard_normal(SCALAR_ELEMENTS).astype(np.float32).view(np.uint8)
    if name == "F16":
        return (rng.standard_normal(SCALAR_ELEMENTS) * 4).astype(np.float16).view(np.uint8)
    if name == "BF16":
        bits = rng.standard_normal(SCALAR_ELEMENTS).astype(np.float32).view(np.uint32) >> 16
        return bits.astype(np.uint16).view(np.uint8)
    qtype = T[name]
    _, type_size = GGML_QUANT_SIZES[qtype]
    blocks = rng.integers(0, 256, size=(RANDOM_BLOCKS, type_size), dtype=np.uint8)
    for offset in HALF_FIELDS[name]:
        scale = (rng.uniform(0.001, 0.1, RANDOM_BLOCKS) * rng.choice([-1, 1], RANDOM_BLOCKS)).astype(np.float16)
        blocks[:, offset:offset + 2] = scale.view(np.uint8).reshape(RANDOM_BLOCKS, 2)
    return blocks.reshape(-1)


def floats_hex(values: np.ndarray) -> list[str]:
    """Float32 bit patterns as 8-digit hex, so the comparison is exact."""
    return [f"{v:08x}" for v in values.astype(np.float32).view(np.uint32)]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20240613)
    readers = {}
    for name in TYPES:
        qtype = T[name]
        block_size, type_size = GGML_QUANT_SIZES[qtype]
        raw = random_raw(name, rng)
        values = dequantize(raw, qtype).reshape(-1)
        entry = {
            "type": name,
            "random": {"bytes": raw.tobytes().hex(), "values": floats_hex(values)},
        }
        if name in REAL:
            model, tensor_name = REAL[name]
            reader = readers.setdefault(model, GGUFReader(MODELS / model))
            tensor = next(t for t in reader.tensors
                          if (t.name == tensor_name if tensor_name else t.tensor_type == qtype))
            assert tensor.tensor_type == qtype, (tensor.name, tensor.tensor_type)
            count = REAL_BLOCKS * (block_size if block_size > 1 else SCALAR_ELEMENTS // 4)
            count = min(count, int(tensor.n_elements))
            raw_real = np.asarray(tensor.data).view(np.uint8).reshape(-1)[: count // block_size * type_size]
            entry["real"] = {
                "model": model,
                "tensor": tensor.name,
                "values": floats_hex(dequantize(raw_real, qtype).reshape(-1)),
            }
        (OUT / f"{name}.json").write_text(json.dumps(entry, indent=0) + "\n")
    total = sum(f.stat().st_size for f in OUT.iterdir())
    print(f"wrote {len(TYPES)} files to {OUT.relative_to(ROOT)} ({total} bytes)")


if __name__ == "__main__":
    main()
