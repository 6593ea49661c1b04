#!/usr/bin/env python3
"""Writes Tests/Golden/analyses/attribution.safetensors: direct logit attribution on GPT-2 and Gemma 3,
computed independently of lmdbg with HF transformers (float32, eager attention, forward hooks).

    HF_HUB_OFFLINE=1 python3 scripts/make_attribution_references.py

gpt2.*    the random-weight Tests/Golden/gpt2-tiny (LayerNorm with biases, learned positions, W_O's bias):
          embed, pos_embed, each layer's attention output and its heads, each MLP, the final norm's bias.
gemma3.*  Gemma-3-270M from the bootstrapped GGUF: embed, each layer's attention output (after the
          post-attention norm, so not split into heads) and each MLP (after its post-norm).

Each entry holds `logit`, `scale`, `embed`, `attention` [layer], `mlp` [layer] and, for GPT-2, `pos_embed`,
`heads` [layer, head] and `constant`. The prompts and targets are in __metadata__ (JSON under "settings").
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import torch
from safetensors.numpy import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.expanduser(os.environ.get("LMDBG_MODELS", "~/.cache/lmdbg/models"))
GPT2 = os.path.join(ROOT, "Tests", "Golden", "gpt2-tiny")
GEMMA = "gemma-3-270m-q4_k_m.gguf"
OUT = os.path.join(ROOT, "Tests", "Golden", "analyses", "attribution.safetensors")

# GPT-2's targets are ids: the random model has no meaningful words. Gemma's are single tokens.
SETTINGS = {
    "gpt2": {"prompt": "The lazy fox, naïve café 123", "token": 77, "baseline": 201},
    "gemma3": {"prompt": "The capital of France is", "target": " Paris", "baseline": " London"},
}


def quiet_transformers():
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    torch.set_num_threads(1)
    torch.set_grad_enabled(False)


def run_with_hooks(model, ids, hooks):
    """One forward pass with (module, kind, key) hooks; kind is "in" (first input) or "out" (output)."""
    acts, handles = {}, []
    for module, kind, key in hooks:
        if kind == "in":
            handles.append(module.register_forward_pre_hook(
                lambda m, args, key=key: acts.__setitem__(key, args[0][0].double().clone())))
        else:
            handles.append(module.register_forward_hook(
                lambda m, args, out, key=key: acts.__setitem__(
                    key, (out[0] if isinstance(out, tuple) else out)[0].double().clone())))
    try:
        logits = model(torch.tensor([ids])).logits[0].double()
    finally:
        for handle in handles:
            handle.remove()
    return {k: v.numpy() for k, v in acts.items()}, logits.numpy()


def gpt2(out, meta):
    from transformers import AutoTokenizer, GPT2LMHeadModel

    s = SETTINGS["gpt2"]
    tok = AutoTokenizer.from_pretrained(GPT2)
    model = GPT2LMHeadModel.from_pretrained(GPT2, dtype=torch.float32, attn_implementation="eager").eval()
    ids = tok(s["prompt"])["input_ids"]
    blocks = model.transformer.h
    hooks = [(model.transformer.ln_f, "in", "final"), (model.transformer.wte, "out", "embed"),
             (model.transformer.wpe, "out", "pos_embed")]
    for L, block in enumerate(blocks):
        hooks += [(block.attn, "out", ("attn", L)), (block.mlp, "out", ("mlp", L)), (block.attn.c_proj, "in", ("z", L))]
    acts, logits = run_with_hooks(model, ids, hooks)
    p = len(ids) - 1
    w_u = model.lm_head.weight.double().numpy()
    direction = w_u[s["token"]] - w_u[s["baseline"]]
    ln = model.transformer.ln_f
    x = acts["final"][p]
    scale = np.sqrt(((x - x.mean()) ** 2).mean() + ln.eps)
    u = ln.weight.double().numpy() * direction / scale
    u -= u.mean()  # LayerNorm centres its input: (x − mean x) · v = x · (v − mean v)
    n_heads = model.config.n_head
    d_head = model.config.n_embd // n_heads
    heads = np.zeros((len(blocks), n_heads))
    attention, mlps = np.zeros(len(blocks)), np.zeros(len(blocks))
    for L, block in enumerate(blocks):
        w_o = block.attn.c_proj.weight.double().numpy()  # Conv1D: [in = n_heads·d_head, out = d_model]
        z = acts[("z", L)][p]
        for h in range(n_heads):
            part = slice(h * d_head, (h + 1) * d_head)
            heads[L, h] = (z[part] @ w_o[part]) @ u
        attention[L] = acts[("attn", L)][p] @ u
        mlps[L] = acts[("mlp", L)][p] @ u
        bias = block.attn.c_proj.bias.double().numpy() @ u
        assert abs(heads[L].sum() + bias - attention[L]) < 1e-4, "heads and bias make the attention output"
    embed = acts["embed"][p] @ u
    pos_embed = acts["pos_embed"][p] @ u
    constant = ln.bias.double().numpy() @ direction
    logit = logits[p, s["token"]] - logits[p, s["baseline"]]
    total = embed + pos_embed + attention.sum() + mlps.sum() + constant
    assert abs(total - logit) < 1e-4, (total, logit)
    save(out, "gpt2", logit=logit, scale=scale, embed=embed, pos_embed=pos_embed, attention=attention,
         heads=heads, mlp=mlps, constant=constant)
    meta["gpt2"] = {**s, "tokens": ids}


def gemma3(out, meta):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    s = SETTINGS["gemma3"]
    tok = AutoTokenizer.from_pretrained(MODELS, gguf_file=GEMMA)
    model = AutoModelForCausalLM.from_pretrained(MODELS, gguf_file=GEMMA, dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    ids = tok(s["prompt"])["input_ids"]
    target, baseline = (tok(t, add_special_tokens=False)["input_ids"] for t in (s["target"], s["baseline"]))
    assert len(target) == 1 and len(baseline) == 1, (target, baseline)
    layers = model.model.layers
    hooks = [(model.model.norm, "in", "final"), (model.model.embed_tokens, "out", "embed")]
    for L, layer in enumerate(layers):
        # What each sublayer adds to the residual: its output after the post-norm.
        hooks += [(layer.post_attention_layernorm, "out", ("attn", L)), (layer.post_feedforward_layernorm, "out", ("mlp", L))]
    acts, logits = run_with_hooks(model, ids, hooks)
    p = len(ids) - 1
    w_u = model.lm_head.weight.double().numpy()
    direction = w_u[target[0]] - w_u[baseline[0]]
    norm = model.model.norm
    x = acts["final"][p]
    scale = np.sqrt((x * x).mean() + norm.eps)
    u = (1.0 + norm.weight.double().numpy()) * direction / scale  # Gemma's RMSNorm multiplies by 1 + w
    attention = np.array([acts[("attn", L)][p] @ u for L in range(len(layers))])
    mlps = np.array([acts[("mlp", L)][p] @ u for L in range(len(layers))])
    embed = acts["embed"][p] @ u
    logit = logits[p, target[0]] - logits[p, baseline[0]]
    total = embed + attention.sum() + mlps.sum()
    assert abs(total - logit) < 1e-3, (total, logit)
    save(out, "gemma3", logit=logit, scale=scale, embed=embed, attention=attention, mlp=mlps)
    meta["gemma3"] = {**s, "tokens": ids, "target_id": target[0], "baseline_id": baseline[0]}


def save(out, prefix, **values):
    for name, value in values.items():
        out[f"{prefix}.{name}"] = np.atleast_1d(np.asarray(value, np.float32))


def main():
    quiet_transformers()
    out, meta = {}, {}
    gpt2(out, meta)
    gemma3(out, meta)
    save_file(out, OUT, metadata={"settings": json.dumps(meta)})
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
