#!/usr/bin/env python3
"""Measures lmdbg's performance peers on the same GGUF and the same token ids, for `lmdbg bench`.

Prints one JSON object per line: {"peer", "metric", "tokens", "tokens_per_second"}.
Peers that are not installed are reported as {"peer", "skipped": reason}.
  llama.cpp     llama-cpp-python, 2 threads: prefill of N tokens (last logits only) and decode.
  transformers  HF transformers on torch (CPU, float32, 2 threads) with a forward hook on every module
                that copies its output: the notebook way of capturing every activation.
"""
import argparse
import json
import os
import sys
import time


def bench_tokens(n):
    """The token ids every engine runs: deterministic, spread over the vocabulary."""
    return [(i * 7919) % 40000 + 100 for i in range(n)]


def emit(**row):
    print(json.dumps(row), flush=True)


def best_of(repeats, run):
    best = float("inf")
    for _ in range(repeats):
        best = min(best, run())
    return best


def llama_cpp(model, sizes, decode_steps, repeats, threads):
    try:
        from llama_cpp import Llama
    except ImportError as error:
        emit(peer="llama.cpp", skipped=f"llama-cpp-python not installed ({error})")
        return
    llm = Llama(model_path=model, n_ctx=2048, n_batch=512, n_ubatch=512, n_threads=threads,
                n_threads_batch=threads, verbose=False)
    for n in sizes:
        tokens = bench_tokens(n)

        def prefill():
            llm.reset()
            start = time.perf_counter()
            llm.eval(tokens)
            return time.perf_counter() - start
        emit(peer="llama.cpp", metric="prefill", tokens=n, tokens_per_second=n / best_of(repeats, prefill))

    prompt = bench_tokens(16)

    def decode():
        llm.reset()
        llm.eval(prompt)
        start = time.perf_counter()
        for i in range(decode_steps):
            llm.eval([bench_tokens(17 + i)[-1]])
        return time.perf_counter() - start
    emit(peer="llama.cpp", metric="decode", tokens=decode_steps,
         tokens_per_second=decode_steps / best_of(repeats, decode))


def transformers_every_hook(model, sizes, decode_steps, repeats, threads):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import torch
        from transformers import AutoModelForCausalLM
    except ImportError as error:
        emit(peer="transformers", skipped=f"torch/transformers not installed ({error})")
        return
    torch.set_num_threads(threads)
    directory, name = os.path.split(model)
    hf = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, dtype=torch.float32,
                                              attn_implementation="eager").eval()
    cache = {}

    def capture(module_name):
        def hook(_module, _inputs, output):
            tensor = output[0] if isinstance(output, tuple) else output
            if torch.is_tensor(tensor):
                cache[module_name] = tensor.detach().clone()
        return hook
    for module_name, module in hf.named_modules():
        if module_name:
            module.register_forward_hook(capture(module_name))

    with torch.inference_mode():
        for n in sizes:
            ids = torch.tensor([bench_tokens(n)])

            def prefill():
                cache.clear()
                start = time.perf_counter()
                hf(ids, output_attentions=True)
                return time.perf_counter() - start
            emit(peer="transformers", metric="prefill", tokens=n, tokens_per_second=n / best_of(repeats, prefill))

        prompt = torch.tensor([bench_tokens(16)])

        def decode():
            out = hf(prompt, use_cache=True)
            past = out.past_key_values
            start = time.perf_counter()
            for i in range(decode_steps):
                out = hf(torch.tensor([[bench_tokens(17 + i)[-1]]]), past_key_values=past, use_cache=True,
                         output_attentions=True)
                past = out.past_key_values
            return time.perf_counter() - start
        emit(peer="transformers", metric="decode", tokens=decode_steps,
             tokens_per_second=decode_steps / best_of(repeats, decode))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="path of the GGUF file")
    parser.add_argument("--sizes", default="16,128,512")
    parser.add_argument("--decode-steps", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--peers", default="llama.cpp,transformers")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    peers = args.peers.split(",")
    if "llama.cpp" in peers:
        llama_cpp(args.model, sizes, args.decode_steps, args.repeats, args.threads)
    if "transformers" in peers:
        transformers_every_hook(args.model, sizes, args.decode_steps, args.repeats, args.threads)


if __name__ == "__main__":
    sys.exit(main())
