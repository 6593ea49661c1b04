#!/usr/bin/env python3
"""Activation patching with lmdbg: where does the model move "which city" to the last position?

Runs a clean prompt ("The Eiffel Tower is in the city of") and records its residual stream entering each
layer at the last position. Then, for each layer L, runs the corrupted prompt ("The Colosseum is in the
city of") with the clean `blocks.L.hook_resid_pre` written over the corrupted one at the last position
(`patch/set`, op `set`), and measures logit(Paris) - logit(Rome) there. Recovery is 0 at the corrupted
run's logit difference and 1 at the clean run's.

    python examples/activation_patching.py [--model smollm2] [--server PATH]
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

import lmdbg


@dataclass
class Row:
    """One layer of the sweep."""

    layer: int
    logit_diff: float
    recovery: float


@dataclass
class Sweep:
    """The whole experiment: the two baselines and one row per layer."""

    clean_diff: float
    corrupted_diff: float
    rows: list[Row]


def answer_token(dbg: lmdbg.Client, text: str) -> int:
    """The single token of an answer such as " Paris"."""
    tokens = dbg.tokenize(text)["tokens"]
    if len(tokens) != 1:
        raise ValueError(f"{text!r} is {len(tokens)} tokens; choose answers that are one token each")
    return tokens[0]


def last_position_logits(dbg: lmdbg.Client, prompt: str) -> npt.NDArray[np.float32]:
    """The logits at the prompt's last position (with the patches in force); needs a breakpoint on `logits`."""
    logits = None
    for stop in dbg.run(prompt):
        if stop["hook"] == "logits":
            logits = dbg.read_tensor("logits", slice="[-1]")
    if logits is None:
        raise RuntimeError("the run never stopped at `logits`")
    return logits


def patching_sweep(dbg: lmdbg.Client, clean: str, corrupted: str, answers: tuple[str, str]) -> Sweep:
    """Patches the clean run's last-position `hook_resid_pre` into the corrupted run, one layer at a time."""
    if dbg.model_info is None:
        raise RuntimeError("load a model first")
    n_layers = dbg.model_info["config"]["nLayers"]
    good, bad = (answer_token(dbg, answer) for answer in answers)
    corrupted_last = len(dbg.tokenize(corrupted)["tokens"]) - 1

    def diff(logits: npt.NDArray[np.float32]) -> float:
        return float(logits[good] - logits[bad])

    # The clean run: its residual entering each layer, at the last position, and its logits.
    dbg.clear_patches()
    dbg.set_breakpoints(["blocks.*.hook_resid_pre", "logits"])
    clean_resid: dict[int, npt.NDArray[np.float32]] = {}
    clean_logits = None
    for stop in dbg.run(clean):
        if stop["hook"] == "logits":
            clean_logits = dbg.read_tensor("logits", slice="[-1]")
        else:
            clean_resid[stop["layer"]] = dbg.read_tensor(stop["hook"], slice="[-1]")
    assert clean_logits is not None and sorted(clean_resid) == list(range(n_layers))

    dbg.set_breakpoints(["logits"])
    corrupted_diff = diff(last_position_logits(dbg, corrupted))
    clean_diff = diff(clean_logits)
    rows = []
    for layer in range(n_layers):
        dbg.clear_patches()
        dbg.set_patches([{"hook": f"blocks.{layer}.hook_resid_pre", "positions": [corrupted_last], "op": "set",
                          "value": clean_resid[layer]}])
        patched = diff(last_position_logits(dbg, corrupted))
        rows.append(Row(layer, patched, (patched - corrupted_diff) / (clean_diff - corrupted_diff)))
    dbg.clear_patches()
    dbg.set_breakpoints([])
    return Sweep(clean_diff, corrupted_diff, rows)


def format_table(sweep: Sweep, answers: tuple[str, str]) -> str:
    """The sweep as a text table with a bar per layer."""
    label = f"logit({answers[0].strip()}) - logit({answers[1].strip()})"
    lines = [f"clean:     {label} = {sweep.clean_diff:+.3f}",
             f"corrupted: {label} = {sweep.corrupted_diff:+.3f}",
             "",
             f"{'layer':>5}  {'logit diff':>10}  {'recovery':>8}",
             ]
    for row in sweep.rows:
        bar = "#" * max(0, min(40, round(row.recovery * 40)))
        lines.append(f"{row.layer:>5}  {row.logit_diff:>+10.3f}  {row.recovery:>8.3f}  {bar}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2", help="a model name for model/load, or a model file")
    parser.add_argument("--server", help="the lmdbg binary (default: $LMDBG_SERVER, the build, or PATH)")
    parser.add_argument("--clean", default="The Eiffel Tower is in the city of")
    parser.add_argument("--corrupted", default="The Colosseum is in the city of")
    parser.add_argument("--answers", nargs=2, default=[" Paris", " Rome"], metavar=("CLEAN", "CORRUPTED"))
    args = parser.parse_args(argv)
    answers = (args.answers[0], args.answers[1])
    with lmdbg.Client(model=args.model, server=args.server) as dbg:
        sweep = patching_sweep(dbg, args.clean, args.corrupted, answers)
    print(format_table(sweep, answers))


if __name__ == "__main__":
    main()
