#!/usr/bin/env python3
"""Writes Tests/Golden/analyses/references.safetensors: what HF transformers computes for lmdbg's analyses.

    HF_HUB_OFFLINE=1 python3 scripts/make_analysis_references.py

Everything is computed independently of lmdbg, from SmolLM2-135M-Instruct loaded by transformers from the
same GGUF file (float32, eager attention), with forward hooks on HF modules:

  lens.*      logit lens: every layer's resid_pre / resid_mid / resid_post through the final norm and W_U
  dla.*       direct logit attribution of a logit difference and of one logit (final norm scale frozen)
  sweep.*     activation patching grids, naive: one forward per cell, clean activation patched into the
              corrupted run; three metrics per cell (logit difference, probability, KL from clean)
  steer.*     a contrast direction at a layer and the greedy continuation with it added at every position
  ablate.*    last-position logits with that direction projected out of every residual-stream hook

The prompts and settings are in the file's __metadata__ (JSON under "settings"), so the Swift tests read
them from there rather than repeating them.
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
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
OUT = os.path.join(ROOT, "Tests", "Golden", "analyses", "references.safetensors")

SETTINGS = {
    "lens": {"prompt": "The Eiffel Tower is in the city of", "positions": [4, 8], "k": 5},
    "dla": {"prompt": "The Eiffel Tower is in the city of", "target": " Paris", "baseline": " Rome"},
    "sweep": {
        "clean": "When John and Mary went home, John gave a drink to",
        "corrupted": "When John and Mary went home, Mary gave a drink to",
        "answer": " Mary",
        "wrong": " John",
    },
    "steer": {
        "pairs": [["I love this. It is wonderful", "I hate this. It is terrible"],
                  ["This film was great", "This film was awful"],
                  ["What a happy day", "What a sad day"]],
        "layer": 8,
        "prompt": "I think that this movie is",
        "scale": 4.0,
        "tokens": 12,
    },
    "ablate": {"prompt": "I think that this movie is"},
}


def load():
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    torch.set_num_threads(1)  # 2 threads slow to a crawl on a shared, busy machine
    torch.set_grad_enabled(False)
    tok = AutoTokenizer.from_pretrained(MODELS, gguf_file=GGUF)
    model = AutoModelForCausalLM.from_pretrained(MODELS, gguf_file=GGUF, dtype=torch.float32,
                                                 attn_implementation="eager")
    model.eval()
    return model, tok


class Hooks:
    """Forward hooks on the decoder's modules, removed on exit."""

    def __init__(self):
        self.handles = []

    def pre(self, module, fn):
        self.handles.append(module.register_forward_pre_hook(fn))

    def post(self, module, fn):
        self.handles.append(module.register_forward_hook(fn))

    def __enter__(self):
        return self

    def __exit__(self, *_):
        for handle in self.handles:
            handle.remove()


def single_token(tok, text):
    ids = tok(text)["input_ids"]
    assert len(ids) == 1, f"{text!r} is {len(ids)} tokens"
    return ids[0]


def capture(model, ids):
    """One forward pass: resid_pre, attn_out, mlp_out, z (o_proj input) and resid_post of every layer, the
    embedding, the final norm's input and the logits; all [T, …] as float64 numpy."""
    layers = model.model.layers
    acts = {}
    with Hooks() as hooks:
        for L, layer in enumerate(layers):
            hooks.pre(layer, lambda m, args, L=L: acts.__setitem__(("resid_pre", L), args[0][0].clone()))
            hooks.post(layer, lambda m, args, out, L=L: acts.__setitem__(("resid_post", L), out[0].clone()))
            hooks.post(layer.self_attn, lambda m, args, out, L=L: acts.__setitem__(("attn_out", L), out[0][0].clone()))
            hooks.post(layer.mlp, lambda m, args, out, L=L: acts.__setitem__(("mlp_out", L), out[0].clone()))
            hooks.pre(layer.self_attn.o_proj, lambda m, args, L=L: acts.__setitem__(("z", L), args[0][0].clone()))
        hooks.pre(model.model.norm, lambda m, args: acts.__setitem__("final", args[0][0].clone()))
        logits = model(torch.tensor([ids])).logits[0]
    acts["logits"] = logits
    acts["embed"] = model.model.embed_tokens(torch.tensor(ids))
    for L in range(len(layers)):
        acts[("resid_mid", L)] = acts[("resid_pre", L)] + acts[("attn_out", L)]
        assert torch.allclose(acts[("resid_mid", L)] + acts[("mlp_out", L)], acts[("resid_post", L)], atol=1e-4)
    return {k: v.double().numpy() for k, v in acts.items()}


def final_norm(model, x):
    """The final RMSNorm of rows x [n, d] (float64), and each row's scale sqrt(mean(x²) + eps)."""
    eps = model.model.norm.variance_epsilon
    weight = model.model.norm.weight.double().numpy()
    scale = np.sqrt((x * x).mean(-1, keepdims=True) + eps)
    return x / scale * weight, scale[:, 0]


def unembedding(model):
    """W_U as float64 [vocab, d_model], converted once."""
    if not hasattr(model, "w_u_float64"):
        model.w_u_float64 = model.lm_head.weight.double().numpy()
    return model.w_u_float64


def unembed(model, x):
    normalised, _ = final_norm(model, x)
    return normalised @ unembedding(model).T


def softmax(logits):
    shifted = logits - logits.max(-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(-1, keepdims=True)


def log_softmax(logits):
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def logit_lens(model, tok, out):
    print("logit lens", file=sys.stderr)
    s = SETTINGS["lens"]
    ids = tok(s["prompt"])["input_ids"]
    acts = capture(model, ids)
    n_layers = len(model.model.layers)
    k, positions = s["k"], s["positions"]
    tokens = np.zeros((n_layers, 3, len(positions), k + 1), np.int32)
    probs = np.zeros((n_layers, 3, len(positions), k + 1), np.float32)
    for L in range(n_layers):
        for site, name in enumerate(["resid_pre", "resid_mid", "resid_post"]):
            p = softmax(unembed(model, acts[(name, L)][positions]))
            order = np.argsort(-p, axis=-1, kind="stable")[:, : k + 1]
            tokens[L, site] = order
            probs[L, site] = np.take_along_axis(p, order, -1)
    final = softmax(acts["logits"][positions])
    order = np.argsort(-final, axis=-1, kind="stable")[:, : k + 1]
    # The lens of the last resid_post is the model's own output.
    assert (order == tokens[-1, 2]).all()
    out["lens.tokens"] = tokens
    out["lens.probs"] = probs
    out["lens.final.tokens"] = order.astype(np.int32)
    out["lens.final.probs"] = np.take_along_axis(final, order, -1).astype(np.float32)


def attribution(model, acts, position, direction):
    """Contributions of embed, each head and each MLP to `direction · ln_final(resid)` at `position`, with
    the final norm's scale frozen at its value for the full residual."""
    n_layers = len(model.model.layers)
    attn = model.model.layers[0].self_attn
    n_heads, d_head = model.config.num_attention_heads, attn.head_dim
    _, scale = final_norm(model, acts["final"][position:position + 1])
    u = model.model.norm.weight.double().numpy() * direction / scale[0]
    heads = np.zeros((n_layers, n_heads))
    mlps = np.zeros(n_layers)
    for L, layer in enumerate(model.model.layers):
        w_o = layer.self_attn.o_proj.weight.double().numpy()  # [d_model, n_heads·d_head]
        z = acts[("z", L)][position]
        for h in range(n_heads):
            part = slice(h * d_head, (h + 1) * d_head)
            heads[L, h] = (w_o[:, part] @ z[part]) @ u
        mlps[L] = acts[("mlp_out", L)][position] @ u
    embed = acts["embed"][position] @ u
    return embed, heads, mlps, scale[0]


def direct_logit_attribution(model, tok, out):
    print("direct logit attribution", file=sys.stderr)
    s = SETTINGS["dla"]
    ids = tok(s["prompt"])["input_ids"]
    acts = capture(model, ids)
    w_u = unembedding(model)
    target, baseline = single_token(tok, s["target"]), single_token(tok, s["baseline"])
    position = len(ids) - 1
    logits = acts["logits"][position]
    for key, direction, logit in [
        ("dla.difference", w_u[target] - w_u[baseline], logits[target] - logits[baseline]),
        ("dla.single", w_u[target], logits[target]),
    ]:
        embed, heads, mlps, scale = attribution(model, acts, position, direction)
        total = embed + heads.sum() + mlps.sum()
        assert abs(total - logit) < 1e-3, (key, total, logit)
        out[f"{key}.embed"] = np.array([embed], np.float32)
        out[f"{key}.heads"] = heads.astype(np.float32)
        out[f"{key}.mlp"] = mlps.astype(np.float32)
        out[f"{key}.logit"] = np.array([logit], np.float32)
        out[f"{key}.scale"] = np.array([scale], np.float32)


def metrics(logits, answer, wrong, clean_log_probs):
    """Logit difference, probability of the answer, KL(clean ‖ this), from last-position logits."""
    log_probs = log_softmax(logits)
    kl = float((np.exp(clean_log_probs) * (clean_log_probs - log_probs)).sum())
    return logits[answer] - logits[wrong], float(np.exp(log_probs[answer])), kl


def patched_logits(model, ids, site, layer, select, value):
    """Last-position logits of a run of `ids` with `value` written into `site` of `layer` at `select`
    (an index into the un-batched [T, width] activation)."""
    module = model.model.layers[layer]

    def replace_input(m, args):
        hidden = args[0].clone()
        hidden[0][select] = value
        return (hidden,) + args[1:]

    def replace_output(m, args, out):
        if isinstance(out, tuple):
            first = out[0].clone()
            first[0][select] = value
            return (first,) + out[1:]
        out = out.clone()
        out[0][select] = value
        return out

    with Hooks() as hooks:
        if site == "resid_pre":
            hooks.pre(module, replace_input)
        elif site == "attn_out":
            hooks.post(module.self_attn, replace_output)
        elif site == "mlp_out":
            hooks.post(module.mlp, replace_output)
        elif site == "z":
            hooks.pre(module.self_attn.o_proj, replace_input)
        return model(torch.tensor([ids])).logits[0, -1].double().numpy()


def patching_sweep(model, tok, out):
    s = SETTINGS["sweep"]
    clean, corrupted = tok(s["clean"])["input_ids"], tok(s["corrupted"])["input_ids"]
    assert len(clean) == len(corrupted), "the sweep's prompts need the same token count"
    answer, wrong = single_token(tok, s["answer"]), single_token(tok, s["wrong"])
    clean_acts, corrupted_acts = capture(model, clean), capture(model, corrupted)
    clean_log_probs = log_softmax(clean_acts["logits"][-1])
    for name, acts in [("clean", clean_acts), ("corrupted", corrupted_acts)]:
        out[f"sweep.{name}"] = np.array(metrics(acts["logits"][-1], answer, wrong, clean_log_probs), np.float32)
    n_layers, T = len(model.model.layers), len(clean)
    n_heads, d_head = model.config.num_attention_heads, model.model.layers[0].self_attn.head_dim
    for site in ["resid_pre", "attn_out", "mlp_out", "z"]:
        columns = n_heads if site == "z" else T
        grid = np.zeros((3, n_layers, columns), np.float32)
        for L in range(n_layers):
            for c in range(columns):
                if site == "z":  # one head, every position
                    part = slice(c * d_head, (c + 1) * d_head)
                    select = (slice(None), part)
                    value = torch.tensor(clean_acts[("z", L)][:, part], dtype=torch.float32)
                else:
                    select = c
                    value = torch.tensor(clean_acts[(site, L)][c], dtype=torch.float32)
                logits = patched_logits(model, corrupted, site, L, select, value)
                grid[:, L, c] = metrics(logits, answer, wrong, clean_log_probs)
            print(f"sweep {site}: layer {L} done", file=sys.stderr)
        out[f"sweep.{site}"] = grid
    # Patching layer 0's resid_pre at every position at once gives the clean run: a check of the hooks.
    full = patched_logits(model, corrupted, "resid_pre", 0, slice(None),
                          torch.tensor(clean_acts[("resid_pre", 0)], dtype=torch.float32))
    assert np.abs(full - clean_acts["logits"][-1]).max() < 1e-3


def contrast_direction(model, tok, pairs, layer, reduction):
    vectors = []
    for positive, negative in pairs:
        resid = [capture(model, tok(text)["input_ids"])[("resid_pre", layer)] for text in (positive, negative)]
        reduce = (lambda r: r[-1]) if reduction == "last" else (lambda r: r.mean(0))
        vectors.append(reduce(resid[0]) - reduce(resid[1]))
    return np.mean(vectors, axis=0)


def greedy_with(model, ids, count, edit_hooks):
    """Greedy tokens after `ids` (KV-cached, one token per step) with `edit_hooks(hooks)` installed, and
    each step's margin between the two best logits."""
    tokens, margins = [], []
    with Hooks() as hooks:
        edit_hooks(hooks)
        output = model(torch.tensor([ids]), use_cache=True)
        for _ in range(count):
            logits = output.logits[0, -1]
            top = torch.topk(logits, 2)
            tokens.append(int(top.indices[0]))
            margins.append(float(top.values[0] - top.values[1]))
            output = model(torch.tensor([[tokens[-1]]]), past_key_values=output.past_key_values, use_cache=True)
    return np.array(tokens, np.int32), np.array(margins, np.float32)


def steering(model, tok, out):
    s = SETTINGS["steer"]
    layer = s["layer"]
    direction = contrast_direction(model, tok, s["pairs"], layer, "last")
    out["steer.direction"] = direction.astype(np.float32)
    out["steer.direction.mean"] = contrast_direction(model, tok, s["pairs"], layer, "mean").astype(np.float32)
    added = torch.tensor(s["scale"] * direction, dtype=torch.float32)

    def add(hooks):
        hooks.pre(model.model.layers[layer], lambda m, args: (args[0] + added,) + args[1:])

    ids = tok(s["prompt"])["input_ids"]
    out["steer.tokens"], out["steer.margin"] = greedy_with(model, ids, s["tokens"], add)
    out["steer.unsteered"], _ = greedy_with(model, ids, s["tokens"], lambda hooks: None)
    assert (out["steer.tokens"] != out["steer.unsteered"]).any(), "the steering changes nothing"
    print("steered:", repr(tok.decode(out["steer.tokens"].tolist())), file=sys.stderr)
    print("unsteered:", repr(tok.decode(out["steer.unsteered"].tolist())), file=sys.stderr)


def ablation(model, tok, out):
    """Projects the steering direction out of every resid_pre, resid_mid and resid_post: out of the input of
    layer 0 and out of every attention and MLP output (what is added to an already projected stream)."""
    unit = torch.tensor(out["steer.direction"] / np.linalg.norm(out["steer.direction"]), dtype=torch.float32)

    def project(x):
        return x - (x @ unit)[..., None] * unit

    def hooks_for(hooks):
        hooks.pre(model.model.layers[0], lambda m, args: (project(args[0]),) + args[1:])
        for layer in model.model.layers:
            hooks.post(layer.self_attn, lambda m, args, o: (project(o[0]),) + o[1:])
            hooks.post(layer.mlp, lambda m, args, o: project(o))

    ids = tok(SETTINGS["ablate"]["prompt"])["input_ids"]
    resid = {}
    with Hooks() as hooks:
        hooks_for(hooks)
        for L, layer in enumerate(model.model.layers):
            hooks.post(layer, lambda m, args, o, L=L: resid.__setitem__(L, o[0]))
        logits = model(torch.tensor([ids])).logits[0, -1]
    assert max(float((r @ unit).abs().max()) for r in resid.values()) < 1e-4
    out["ablate.logits"] = logits.numpy().astype(np.float32)


def main():
    model, tok = load()
    out = {}
    logit_lens(model, tok, out)
    direct_logit_attribution(model, tok, out)
    steering(model, tok, out)
    ablation(model, tok, out)
    patching_sweep(model, tok, out)
    import transformers
    metadata = {"settings": json.dumps(SETTINGS), "model": GGUF,
                "versions": f"torch {torch.__version__}, transformers {transformers.__version__}"}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    save_file({k: np.ascontiguousarray(v) for k, v in out.items()}, OUT, metadata=metadata)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
