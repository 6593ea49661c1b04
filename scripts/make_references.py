#!/usr/bin/env python3
"""Writes the golden reference files Tests/Golden/<model>/prompt{0,1,2}.safetensors from HF transformers.

    HF_HUB_OFFLINE=1 python3 scripts/make_references.py [--model smollm2|gemma3|all]   (default: all)
    HF_HUB_OFFLINE=1 python3 scripts/make_references.py --model smollm2 --trace-out F --prompt TEXT [--generate N]

The model is the GGUF file lmdbg loads, dequantized to float32 by transformers, eager attention. Every
TransformerLens hook point (docs/hook-points.md) is captured by scripts/hf_capture.py and checked for
internal consistency before anything is written. See Tests/Golden/README.md for the file format.

--trace-out writes instead a full, unsampled trace in the format of `lmdbg trace` (every hook in full,
`logits`, `tokens`, `generated`); compare_trace.py uses it to test itself.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_capture as hc  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROMPTS = {
    "smollm2": [
        "The capital of France is",
        "def square(x):\n    return x * x\n",
        "<|im_start|>user\nTell me a story about a dragon.<|im_end|>\n<|im_start|>assistant\n",
    ],
    # "The capital of France is" has a 0.012 near-tie at step 15 on Gemma, hence Germany
    "gemma3": [
        "The capital of Germany is",
        "I love 🍣 and 東京 in spring. Naïve café!",
        "<start_of_turn>user\nWhat is the capital of France?<end_of_turn>\n<start_of_turn>model\n",
    ],
}

SAMPLES = 256          # S = min(numel, SAMPLES) sampled values per hook
MASKED_SAMPLES = 8     # of which up to this many are masked (-inf) entries of attn_scores
N_GREEDY = 20


def sample_indices(name: str, t: np.ndarray, model_key: str) -> np.ndarray:
    """Sorted flat row-major indices, from a seed fixed by the model and the hook name."""
    rng = np.random.default_rng(zlib.crc32(f"{model_key}:{name}".encode()))
    flat = t.reshape(-1)
    n = flat.size
    if name.endswith("attn.hook_attn_scores"):
        masked = np.flatnonzero(np.isneginf(flat))
        unmasked = np.flatnonzero(np.isfinite(flat))
        n_m = min(MASKED_SAMPLES, masked.size)
        n_u = min(SAMPLES - n_m, unmasked.size)
        idx = np.concatenate([rng.choice(unmasked, n_u, replace=False), rng.choice(masked, n_m, replace=False)])
    else:
        idx = rng.choice(n, min(n, SAMPLES), replace=False)
    return np.sort(idx).astype(np.int32)


def maxabs(t: np.ndarray) -> float:
    fin = t[np.isfinite(t)]
    return float(np.abs(fin).max()) if fin.size else 0.0


def full_hooks(n_layers: int) -> list[str]:
    """Hooks stored in full (besides the samples) under `full.<name>`."""
    last = n_layers - 1
    return ["hook_embed", "blocks.0.attn.hook_pattern", "blocks.0.hook_resid_post",
            f"blocks.{last}.hook_resid_post", "ln_final.hook_normalized"]


def run_prompt(model, tok, cap, model_key: str, prompt: str):
    ids = tok(prompt)["input_ids"]
    acts = cap.run(ids)
    cap.check_consistency(acts)
    cap.check_kv_cache(acts)
    acts = {k: v.numpy() for k, v in acts.items()}
    return np.asarray(ids, dtype=np.int32), acts


def write_golden(path: str, model_key: str, gguf: str, prompt: str, tokens, acts, greedy, margins, n_generate_stops, tok):
    from safetensors.numpy import save_file

    out = {"tokens": tokens}
    for name, t in acts.items():
        if name.endswith("attn.hook_pattern"):
            # the same entries as the scores: the unmasked ones, plus a few masked ones whose value is 0
            idx = out[name.replace("hook_pattern", "hook_attn_scores") + ".index"]
        else:
            idx = sample_indices(name, t, model_key)
        out[name] = t.reshape(-1)[idx].astype(np.float32)
        out[name + ".index"] = idx
        out[name + ".shape"] = np.asarray(t.shape, dtype=np.int32)
        out[name + ".maxabs"] = np.asarray([maxabs(t)], dtype=np.float32)
    n_layers = sum(1 for k in acts if k.endswith(".hook_resid_post"))
    for name in full_hooks(n_layers):
        out["full." + name] = np.ascontiguousarray(acts[name], dtype=np.float32)
    out["logits.last"] = np.ascontiguousarray(acts["logits"][-1], dtype=np.float32)
    out["greedy"] = greedy
    out["greedy.margin"] = margins
    import torch
    import transformers

    meta = {
        "prompt": prompt,
        "model": gguf,
        "generator": "scripts/make_references.py (HF transformers, float32, eager attention)",
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "greedy_text": tok.decode(greedy.tolist()),
        "greedy_note": f"{len(greedy)} greedy tokens, EOS does not stop them; HF generate stops after {n_generate_stops}",
        "samples": json.dumps({"per_hook": SAMPLES, "masked_scores": MASKED_SAMPLES}),
    }
    os.makedirs(os.path.dirname(path), exist_ok=True)
    save_file(out, path, metadata=meta)
    sort_metadata(path)


def sort_metadata(path: str) -> None:
    """safetensors writes `__metadata__` in hash order; sort it so that regenerated files are byte-identical."""
    import struct
    from collections import OrderedDict

    with open(path, "r+b") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n).decode("utf-8"), object_pairs_hook=OrderedDict)
        header["__metadata__"] = OrderedDict(sorted(header["__metadata__"].items()))
        text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        if len(text) > n:
            return
        f.seek(8)
        f.write(text + b" " * (n - len(text)))


def verify_golden(path: str, tokens, acts, greedy, margins) -> None:
    """Re-reads a written golden file and checks it against the tensors it was made from."""
    from safetensors import safe_open
    from safetensors.numpy import load_file

    g = load_file(path)
    with safe_open(path, "np") as f:
        meta = f.metadata()
    assert "prompt" in meta and "model" in meta
    assert np.array_equal(g["tokens"], tokens) and g["tokens"].dtype == np.int32
    for name, t in acts.items():
        idx, vals = g[name + ".index"], g[name]
        assert idx.dtype == np.int32 and vals.dtype == np.float32 and idx.shape == vals.shape
        if name.endswith(("hook_attn_scores", "hook_pattern")):
            n_masked = int(np.isneginf(acts[name.replace("hook_pattern", "hook_attn_scores")]).sum())
            n_m = min(MASKED_SAMPLES, n_masked)
            assert idx.size == n_m + min(SAMPLES - n_m, t.size - n_masked), name
        else:
            assert idx.size == min(t.size, SAMPLES), name
        assert len(np.unique(idx)) == idx.size and idx.min() >= 0 and idx.max() < t.size
        assert np.array_equal(vals, t.reshape(-1)[idx]), name
        assert tuple(g[name + ".shape"]) == t.shape, name
        assert g[name + ".maxabs"][0] == np.float32(maxabs(t)), name
        if name.endswith("hook_attn_scores"):
            n_inf = int(np.isneginf(vals).sum())
            assert n_inf == min(MASKED_SAMPLES, int(np.isneginf(t).sum())), name
            pat = g[name.replace("hook_attn_scores", "hook_pattern")]
            assert (pat[np.isneginf(vals)] == 0).all() and (pat[np.isfinite(vals)] > 0).all()
        else:
            assert np.isfinite(vals).all(), name
    assert np.array_equal(g["logits.last"], acts["logits"][-1])
    assert np.array_equal(g["greedy"], greedy) and g["greedy"].shape == (N_GREEDY,)
    assert np.array_equal(g["greedy.margin"], margins)
    # the first greedy token is the argmax of the last prompt position
    assert int(np.argmax(g["logits.last"])) == int(greedy[0])


def write_trace(path: str, gguf: str, prompt: str, tokens, acts, generated):
    """A full trace in `lmdbg trace`'s format, made by HF (for compare_trace.py's self-test)."""
    from safetensors.numpy import save_file

    out = {"tokens": tokens}
    for name, t in acts.items():
        out[name] = np.ascontiguousarray(t, dtype=np.float32)
    if generated is not None:
        out["generated"] = generated
    save_file(out, path, metadata={"prompt": prompt, "model": gguf, "generator": "HF transformers"})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="all", choices=["smollm2", "gemma3", "all"])
    ap.add_argument("--out-dir", default=os.path.join(ROOT, "Tests", "Golden"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--trace-out", help="write one full HF trace in lmdbg trace format instead of goldens")
    ap.add_argument("--prompt", help="prompt for --trace-out")
    ap.add_argument("--generate", type=int, default=N_GREEDY, help="greedy tokens for --trace-out (0: none)")
    args = ap.parse_args()
    hc.setup_torch(args.threads)

    if args.trace_out and args.model == "all":
        ap.error("--trace-out needs --model smollm2 or gemma3")
    keys = ["smollm2", "gemma3"] if args.model == "all" else [args.model]
    for key in keys:
        spec = hc.SPECS[key]
        model, tok = hc.load(key)
        cap = hc.Capture(model)
        if args.trace_out:
            if args.prompt is None:
                sys.exit("--trace-out needs --prompt")
            tokens, acts = run_prompt(model, tok, cap, key, args.prompt)
            gen = hc.greedy(model, tokens, args.generate)[0] if args.generate > 0 else None
            write_trace(args.trace_out, spec.gguf, args.prompt, tokens, acts, gen)
            print(f"wrote {args.trace_out} ({len(tokens)} tokens, {len(acts)} hooks)")
            continue
        print(f"{key}: {spec.gguf}, add_bos_token={getattr(tok, 'add_bos_token', None)}, bos={tok.bos_token!r}")
        for i, prompt in enumerate(PROMPTS[key]):
            tokens, acts = run_prompt(model, tok, cap, key, prompt)
            if not 5 <= len(tokens) <= 20:
                print(f"  warning: prompt {i} has {len(tokens)} tokens")
            greedy, margins, n_gen = hc.greedy(model, tokens, N_GREEDY)
            path = os.path.join(args.out_dir, key, f"prompt{i}.safetensors")
            write_golden(path, key, spec.gguf, prompt, tokens, acts, greedy, margins, n_gen, tok)
            verify_golden(path, tokens, acts, greedy, margins)
            worst = max(cap.worst.values())
            print(f"  prompt{i}: {len(tokens)} tokens {tokens.tolist()}")
            print(f"    {prompt!r} -> {tok.decode(greedy.tolist())!r}")
            print(f"    smallest greedy margin {margins.min():.4f} at step {int(margins.argmin())}; "
                  f"generate stops after {n_gen}; consistency worst rel {worst:.1e}; "
                  f"{os.path.getsize(path) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
