#!/usr/bin/env python3
"""Acceptance check: does an `lmdbg trace` file match HF transformers at every hook point?

    HF_HUB_OFFLINE=1 python3 scripts/compare_trace.py --model smollm2|gemma3 --trace FILE.safetensors
    HF_HUB_OFFLINE=1 python3 scripts/compare_trace.py --model smollm2 --self-test [--prompt TEXT]

The trace holds `tokens` int32 [pos], `logits` f32 [pos, vocab], every hook under its TransformerLens name
(no batch dimension; a leading batch dimension of 1 is accepted), `generated` int32 [n] when new tokens
were generated, and `__metadata__` with "prompt". HF runs the same tokens; for each hook the relative
error is max|trace − hf| / maxabs(hf) over the entries where HF is finite, and it must be ≤ --tol (1e-3).
Where HF's attention scores are -inf (masked), the trace must hold -inf or a value ≤ -1e9. The generated
tokens must equal HF's greedy continuation. Exit status 0 when everything passes, 1 otherwise.

--self-test writes nothing: it makes a trace from HF itself, checks that it passes, then checks that
perturbed copies (one hook off by 2e-3 of its max abs, a masked score made finite, a wrong generated
token, a missing hook) fail.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections import OrderedDict

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_capture as hc  # noqa: E402

MASKED_LIMIT = -1e9  # a masked attention score may be -inf or anything at or below this
SELF_TEST_PROMPT = {
    "smollm2": "Water boils at a temperature of",
    "gemma3": "Water boils at a temperature of",
}


def read_trace(path: str):
    from safetensors import safe_open

    tensors = {}
    with safe_open(path, "np") as f:
        meta = f.metadata() or {}
        for k in f.keys():
            tensors[k] = f.get_tensor(k)
    return tensors, meta


def _position_prefix(name: str, ref: np.ndarray, shape: tuple) -> np.ndarray | None:
    """ref restricted to the first P positions when `shape` is ref's shape with T replaced by P ≤ T."""
    if name.endswith(("hook_attn_scores", "hook_pattern")):
        if len(shape) == 3 and shape[0] == ref.shape[0] and shape[1] == shape[2] and shape[1] <= ref.shape[1]:
            return ref[:, : shape[1], : shape[2]]
        return None
    if len(shape) == ref.ndim and shape[1:] == ref.shape[1:] and shape[0] <= ref.shape[0]:
        return ref[: shape[0]]
    return None


def compare_hook(name: str, got: np.ndarray, ref: np.ndarray):
    """Returns (rel_err, max_abs_err, problem or None)."""
    got = np.asarray(got)
    if got.ndim == ref.ndim + 1 and got.shape[0] == 1:
        got = got[0]
    if got.shape != ref.shape:
        pre = _position_prefix(name, ref, got.shape)
        if pre is None:
            return math.inf, math.inf, f"shape {list(got.shape)}, HF has {list(ref.shape)}"
        ref = pre
    got = got.astype(np.float64)
    ref = ref.astype(np.float64)
    fin = np.isfinite(ref)
    problem = None
    if np.isnan(got).any():
        problem = f"{int(np.isnan(got).sum())} NaN"
    masked = ~fin
    if masked.any():
        bad = ~(got[masked] <= MASKED_LIMIT)
        if bad.any():
            problem = f"{int(bad.sum())} masked entries (HF -inf) are > {MASKED_LIMIT:g}"
    if not np.isfinite(got[fin]).all():
        problem = f"{int((~np.isfinite(got[fin])).sum())} entries non-finite where HF is finite"
    if not fin.any():
        return 0.0, 0.0, problem
    scale = np.abs(ref[fin]).max()
    err = np.abs(got[fin] - ref[fin])
    err = np.where(np.isfinite(err), err, np.inf).max()
    rel = err / scale if scale > 0 else (0.0 if err == 0 else math.inf)
    return float(rel), float(err), problem


def compare(trace: dict, meta: dict, model, tok, cap, tol: float = 1e-3, allow_missing: bool = False,
            out=sys.stdout, memo: dict | None = None) -> bool:
    """Prints the comparison table to `out` and returns whether everything passed.
    `memo` (optional) caches HF's results by token sequence across calls."""
    ok = True
    memo = {} if memo is None else memo

    def say(s=""):
        print(s, file=out)

    if "tokens" not in trace:
        say("FAIL: the trace has no `tokens`")
        return False
    tokens = np.asarray(trace["tokens"]).reshape(-1).astype(np.int64)
    generated = np.asarray(trace["generated"]).reshape(-1).astype(np.int64) if "generated" in trace else None
    prompt = meta.get("prompt")

    # --- tokens -------------------------------------------------------------------------------------
    prompt_tokens = tokens
    if prompt is not None:
        hf_ids = np.asarray(tok(prompt)["input_ids"], dtype=np.int64)
        if np.array_equal(hf_ids, tokens):
            say(f"tokens: {len(tokens)}, identical to HF's tokenization of the prompt")
        elif (generated is not None and len(tokens) == len(hf_ids) + len(generated)
              and np.array_equal(tokens, np.concatenate([hf_ids, generated]))):
            prompt_tokens = hf_ids
            say(f"tokens: {len(hf_ids)} prompt + {len(generated)} generated, prompt identical to HF's tokenization")
        else:
            ok = False
            say(f"FAIL tokens: trace {tokens.tolist()}")
            say(f"          HF tokenizer {hf_ids.tolist()} for prompt {prompt!r}")
    else:
        say(f"tokens: {len(tokens)} (no prompt in __metadata__, tokenization not checked)")

    # --- HF forward on the same tokens ----------------------------------------------------------
    key = ("acts", tuple(tokens.tolist()))
    if key not in memo:
        a = cap.run(tokens)
        cap.check_consistency(a)
        memo[key] = {k: v.numpy() for k, v in a.items()}
    acts = memo[key]

    rows = OrderedDict()  # kind -> dict
    missing, problems = [], []
    for name in hc.hook_names(cap.n_layers, cap.arch):
        kind = hc.hook_kind(name)
        r = rows.setdefault(kind, {"n": 0, "rel": 0.0, "err": 0.0, "where": "", "missing": 0, "bad": 0, "first_bad": ""})
        if name not in trace:
            r["missing"] += 1
            missing.append(name)
            continue
        rel, err, problem = compare_hook(name, trace[name], acts[name])
        r["n"] += 1
        if rel >= r["rel"]:
            r["rel"], r["err"], r["where"] = rel, err, name
        if problem or not rel <= tol:
            r["bad"] += 1
            r["first_bad"] = r["first_bad"] or name
        if problem:
            problems.append(f"{name}: {problem}")

    known = set(hc.hook_names(cap.n_layers, cap.arch)) | {"tokens", "generated"}
    extra = sorted(k for k in trace if k not in known)

    say()
    say(f"{'hook':34} {'n':>3} {'worst rel err':>13} {'max abs err':>11}  worst at / status")
    for kind, r in rows.items():
        if r["n"] == 0:
            status = "MISSING" if not allow_missing else "missing (allowed)"
            say(f"{kind:34} {0:>3} {'-':>13} {'-':>11}  {status}")
            if not allow_missing:
                ok = False
            continue
        bad = r["bad"] > 0
        status = f"FAIL in {r['bad']} (first {r['first_bad']})" if bad else "ok"
        if r["missing"]:
            if not allow_missing and not bad:
                bad = True
                status = "FAIL"
            status += f"; {r['missing']} layer(s) missing"
        ok &= not bad
        where = r["where"] if kind.startswith("blocks.") else ""
        if not kind.startswith("blocks.") or r["rel"] == 0:
            where = ""
        say(f"{kind:34} {r['n']:>3} {r['rel']:>13.2e} {r['err']:>11.2e}  {where} {status}".rstrip())
    for p in problems:
        say(f"FAIL {p}")
    if missing and not allow_missing and len(missing) <= 10:
        say("missing: " + ", ".join(missing))
    elif missing:
        say(f"missing: {len(missing)} hooks" + (" (allowed)" if allow_missing else ""))
    if extra:
        say(f"not compared (unknown keys): {', '.join(extra[:10])}{' …' if len(extra) > 10 else ''}")

    # --- greedy tokens ----------------------------------------------------------------------------
    if generated is not None and len(generated):
        n = len(generated)
        gkey = ("greedy", tuple(prompt_tokens.tolist()), n)
        if gkey not in memo:
            memo[gkey] = hc.greedy(model, prompt_tokens, n)[:2]
        hf_gen, margins = memo[gkey]
        same = np.array_equal(hf_gen.astype(np.int64), generated)
        if same:
            say(f"generated: {n} tokens identical to HF greedy (smallest HF margin {margins.min():.4f})")
        else:
            ok = False
            i = int(np.flatnonzero(hf_gen != generated)[0])
            note = " (a near-tie: compare logits)" if margins[i] < 0.05 else ""
            say(f"FAIL generated: differs from HF greedy at step {i}: trace {generated[i]} "
                f"{tok.decode([int(generated[i])])!r}, HF {hf_gen[i]} {tok.decode([int(hf_gen[i])])!r}, "
                f"HF margin there {margins[i]:.4f}{note}")
            say(f"  trace {tok.decode(generated.tolist())!r}")
            say(f"  HF    {tok.decode(hf_gen.tolist())!r}")
    else:
        say("generated: none in the trace (greedy not checked)")

    say()
    say(f"{'PASS' if ok else 'FAIL'} (tolerance {tol:g} of each tensor's max abs)")
    return ok


def self_test(model, tok, cap, key: str, prompt: str, tol: float) -> bool:
    import copy
    import io

    ids = np.asarray(tok(prompt)["input_ids"], dtype=np.int32)
    acts = {k: v.numpy().copy() for k, v in cap.run(ids).items()}
    gen = hc.greedy(model, ids, 20)[0]
    base = {"tokens": ids, "generated": gen, **acts}
    meta = {"prompt": prompt}
    L = cap.n_layers // 2

    def perturb_hook(t):
        name = f"blocks.{L}.hook_resid_mid"
        a = t[name]
        i = np.unravel_index(np.argmax(np.abs(a)), a.shape)
        a[i] += 2 * tol * np.abs(a).max() * (1 if a[i] >= 0 else -1)

    def unmask_score(t):
        t[f"blocks.{L}.attn.hook_attn_scores"][0, 0, -1] = 0.5

    def wrong_token(t):
        t["generated"][5] = (t["generated"][5] + 1) % model.config.vocab_size

    def drop_hook(t):
        del t[f"blocks.{L}.mlp.hook_post"]

    def small_noise(t):  # well inside tolerance: must still pass
        for name in ("logits", f"blocks.{L}.attn.hook_z"):
            a = t[name]
            a += (0.1 * tol * np.abs(a).max()) * np.sign(np.random.default_rng(0).standard_normal(a.shape)).astype(a.dtype)

    def batched(t):  # a leading batch dimension of 1 is accepted
        for name in list(t):
            if name not in ("tokens", "generated"):
                t[name] = t[name][None]

    def neg_1e9(t):  # masked scores written as a large negative number instead of -inf
        s = t[f"blocks.{L}.attn.hook_attn_scores"]
        s[np.isneginf(s)] = -1e30

    cases = [("HF against itself", None, True), ("small noise (0.1 tol)", small_noise, True),
             ("batch dimension of 1", batched, True), ("masked scores = -1e30", neg_1e9, True),
             ("resid_mid off by 2 tol", perturb_hook, False), ("masked score made finite", unmask_score, False),
             ("wrong generated token", wrong_token, False), ("missing hook", drop_hook, False)]
    all_ok = True
    memo = {}
    for label, fn, expect in cases:
        t = copy.deepcopy(base)
        if fn:
            fn(t)
        buf = io.StringIO()
        got = compare(t, meta, model, tok, cap, tol=tol, out=buf, memo=memo)
        good = got == expect
        all_ok &= good
        print(f"self-test: {label:28} -> {'pass' if got else 'fail'} (expected {'pass' if expect else 'fail'}) "
              f"{'ok' if good else 'WRONG'}")
        if not good or label == "HF against itself" or (fn and not expect):
            lines = buf.getvalue().splitlines()
            shown = lines if (not good or label == "HF against itself") else [x for x in lines if "FAIL" in x]
            for x in shown:
                print("    " + x)
    return all_ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, choices=sorted(hc.SPECS))
    ap.add_argument("--trace", help="safetensors file written by `lmdbg trace`")
    ap.add_argument("--tol", type=float, default=1e-3)
    ap.add_argument("--allow-missing", action="store_true", help="do not fail on hooks absent from the trace")
    ap.add_argument("--self-test", action="store_true", help="test this script against HF's own trace")
    ap.add_argument("--prompt", help="prompt for --self-test")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if not args.trace and not args.self_test:
        ap.error("give --trace FILE or --self-test")
    hc.setup_torch(args.threads)
    model, tok = hc.load(args.model)
    cap = hc.Capture(model)
    if args.self_test:
        ok = self_test(model, tok, cap, args.model, args.prompt or SELF_TEST_PROMPT[args.model], args.tol)
        print("self-test " + ("PASSED" if ok else "FAILED"))
        sys.exit(0 if ok else 1)
    trace, meta = read_trace(args.trace)
    print(f"trace {args.trace}: model {args.model} ({hc.SPECS[args.model].gguf}), prompt {meta.get('prompt')!r}")
    sys.exit(0 if compare(trace, meta, model, tok, cap, tol=args.tol, allow_missing=args.allow_missing) else 1)


if __name__ == "__main__":
    main()
