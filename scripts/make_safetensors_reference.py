#!/usr/bin/env python3
"""Writes Tests/Golden/safetensors/python.safetensors with Python's `safetensors` package.

The Swift tests read it back and compare against the values below, so the reader is checked
against the reference writer. Needs torch and safetensors.
"""
from pathlib import Path

import torch
from safetensors.torch import save_file

OUT = Path(__file__).resolve().parent.parent / "Tests" / "Golden" / "safetensors" / "python.safetensors"

tensors = {
    "f32": torch.arange(6, dtype=torch.float32).reshape(2, 3) * 0.5 - 1,
    "f16": torch.tensor([1.0, -2.5, 65504.0, 2.0**-24], dtype=torch.float16),
    "bf16": torch.tensor([1.0, -3.0, 2.0**100], dtype=torch.bfloat16),
    "i32": torch.tensor([[-1, 2], [2**31 - 1, -2**31]], dtype=torch.int32),
    "i64": torch.tensor([2**40, -5, 0], dtype=torch.int64),
    "u8": torch.tensor([1, 2, 255], dtype=torch.uint8),
}

OUT.parent.mkdir(parents=True, exist_ok=True)
save_file(tensors, str(OUT), metadata={"format": "pt", "note": "lmdbg reference"})
print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
