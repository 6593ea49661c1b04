#!/usr/bin/env python3
"""The naive activation-patching sweep in HF transformers, for `lmdbg bench --sweep`.

One forward of the clean prompt records every layer's resid_pre; then each cell (layer L, position p) of the
[layer × position] grid is one full forward of the corrupted prompt with a pre-hook on decoder layer L that
writes the clean resid_pre[L][p] into position p, and reads logit[answer] − logit[wrong] at the last position.
Prints one JSON object: {"seconds", "cells", "threads", "grid"} (grid: [layer][position]).
"""
import argparse
import json
import os
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="path of the GGUF file")
    parser.add_argument("--clean", required=True, help="clean token ids, comma-separated")
    parser.add_argument("--corrupted", required=True, help="corrupted token ids, comma-separated")
    parser.add_argument("--answer", type=int, required=True)
    parser.add_argument("--wrong", type=int, required=True)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import torch
        from transformers import AutoModelForCausalLM
        from transformers.utils import logging as hf_logging
    except ImportError as error:
        print(json.dumps({"skipped": f"torch/transformers not installed ({error})"}))
        return
    hf_logging.disable_progress_bar()
    torch.set_num_threads(args.threads)
    directory, name = os.path.split(args.model)
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    clean = torch.tensor([[int(t) for t in args.clean.split(",")]])
    corrupted = torch.tensor([[int(t) for t in args.corrupted.split(",")]])
    layers = model.model.layers
    with torch.inference_mode():
        model(corrupted)  # warm-up
        start = time.perf_counter()
        recorded = {}
        handles = [layer.register_forward_pre_hook(lambda m, a, L=L: recorded.__setitem__(L, a[0][0].clone()))
                   for L, layer in enumerate(layers)]
        model(clean)
        for handle in handles:
            handle.remove()
        grid = []
        for L, layer in enumerate(layers):
            row = []
            for p in range(corrupted.shape[1]):
                def patch(module, inputs, L=L, p=p):
                    hidden = inputs[0].clone()
                    hidden[0, p] = recorded[L][p]
                    return (hidden,) + inputs[1:]
                handle = layer.register_forward_pre_hook(patch)
                logits = model(corrupted).logits[0, -1]
                handle.remove()
                row.append(float(logits[args.answer] - logits[args.wrong]))
            grid.append(row)
        seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "cells": len(layers) * corrupted.shape[1], "threads": args.threads,
                      "grid": grid}))


if __name__ == "__main__":
    sys.exit(main())
