#!/usr/bin/env python3
"""Writes tests/acceptance/golden/ablation_smollm2.npz: SmolLM2's last-position logits with the attention
output of layer 3 zeroed (TransformerLens's `blocks.3.hook_attn_out`), computed by HF transformers.

    HF_HUB_OFFLINE=1 python3 scripts/make_ablation_reference.py

The model is the GGUF file lmdbg loads, dequantized to float32 by transformers (scripts/hf_capture.py).
A forward hook on layer 3's self-attention module replaces its output with zeros, which is what a
`{"hook": "blocks.3.hook_attn_out", "op": "zero"}` patch does in lmdbg. The file holds `prompt` (the text),
`tokens` (int32, HF's tokenization) and `logits` (float32 [vocab], the last position).
Needs torch and transformers; CI uses the committed file.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_capture as hc  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "acceptance", "golden", "ablation_smollm2.npz")
PROMPT = "The capital of France is"
LAYER = 3


def last_logits(model, ids: list[int]) -> np.ndarray:
    out = model(torch.tensor([ids]))
    return out.logits[0, -1].float().numpy()


def main() -> None:
    hc.setup_torch()
    model, tok = hc.load("smollm2")
    ids = tok(PROMPT)["input_ids"]
    clean = last_logits(model, ids)

    def zero_output(_module, _inputs, output):
        if isinstance(output, tuple):
            return (torch.zeros_like(output[0]),) + tuple(output[1:])
        return torch.zeros_like(output)

    handle = model.model.layers[LAYER].self_attn.register_forward_hook(zero_output)
    try:
        ablated = last_logits(model, ids)
    finally:
        handle.remove()
    if np.allclose(ablated, clean):
        sys.exit("the ablation changed nothing: the hook did not take effect")
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    np.savez(OUT, prompt=np.array(PROMPT), tokens=np.array(ids, dtype=np.int32),
             logits=ablated.astype(np.float32))
    top = np.argsort(-ablated)[:5]
    print(f"wrote {OUT}: {len(ids)} tokens; ablated top-5 {top.tolist()}, clean top-1 {int(np.argmax(clean))}")


if __name__ == "__main__":
    main()
