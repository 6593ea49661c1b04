#!/usr/bin/env python3
"""Trains the small sparse autoencoder lmdbg's tests load, and the golden encoding they compare against.

    HF_HUB_OFFLINE=1 python3 scripts/train_test_sae.py

A ReLU SAE (SAELens "standard" architecture, d_sae = 512) on SmolLM2-135M-Instruct's residual stream at
blocks.8.hook_resid_pre, trained with torch on CPU for a few minutes on ~4,000 tokens: the paragraphs below
plus text the model samples from a few openings (seeded). No pretrained SAE is used or fetched.

Writes, in SAELens's format (weights as float16 to keep the fixture small; lmdbg converts):
  Tests/Fixtures/sae/smollm2-resid8-relu512/cfg.json
  Tests/Fixtures/sae/smollm2-resid8-relu512/sae_weights.safetensors
and Tests/Golden/sae/features.safetensors: for a test prompt, HF's activations at the hook (`activations`,
[T, 576]) and their numpy encoding with the float16 weights (`features`, [T, 512]; float64 math).
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
LAYER = 8
HOOK = f"blocks.{LAYER}.hook_resid_pre"
D_SAE = 512
L1 = 0.3
FIXTURE = os.path.join(ROOT, "Tests", "Fixtures", "sae", "smollm2-resid8-relu512")
GOLDEN = os.path.join(ROOT, "Tests", "Golden", "sae", "features.safetensors")
TEST_PROMPT = "The Eiffel Tower is in Paris, and the Colosseum is in Rome. Both are very old."

PARAGRAPHS = [
    "The river ran past the old mill, where the miller's daughter counted sacks of flour every morning. "
    "In the spring the water rose, and the wheel turned faster than anyone could remember.",
    "def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\n"
    "print([fibonacci(i) for i in range(10)])\n",
    "Paris is the capital of France. Berlin is the capital of Germany. Madrid is the capital of Spain, "
    "and Rome is the capital of Italy. Lisbon, on the Atlantic coast, is the capital of Portugal.",
    "To make bread, mix flour, water, salt and yeast. Knead the dough for ten minutes, let it rise for an "
    "hour, shape it into a loaf and bake it at 220 degrees until the crust is brown.",
    "The committee met on Tuesday to discuss the budget. After a long debate, the members agreed to fund the "
    "new library, but they postponed the decision about the swimming pool until next year.",
    "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen. It happens in the "
    "chloroplasts of plant cells, which contain the green pigment chlorophyll.",
    "She opened the letter slowly. It was from her brother, who had left for Canada ten years ago and had "
    "never written before. 'I am coming home,' it said, 'in time for your birthday.'",
    "SELECT name, price FROM products WHERE price > 100 ORDER BY price DESC LIMIT 5;",
    "1, 2, 3, 4, 5, 6, 7, 8, 9, 10. Two plus two is four, and three times three is nine. The square root of "
    "sixteen is four.",
    "I love this film. The music is wonderful and the actors are great. I hated the ending, though: it was "
    "sad and far too long.",
    "<|im_start|>user\nWhat is the tallest mountain in the world?<|im_end|>\n<|im_start|>assistant\n"
    "The tallest mountain in the world is Mount Everest, at 8,849 metres above sea level.<|im_end|>\n",
    "The cat sat on the mat. The dog slept by the fire. Outside, the snow fell quietly on the empty street.",
]
OPENINGS = ["Once upon a time", "The history of science", "Here is a recipe for", "In the year 2050,",
            "The best way to learn programming is", "Dear diary, today", "The football match", "import numpy as np\n"]


def load():
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    torch.set_num_threads(1)  # 2 threads slow to a crawl on a shared, busy machine
    tok = AutoTokenizer.from_pretrained(MODELS, gguf_file=GGUF)
    model = AutoModelForCausalLM.from_pretrained(MODELS, gguf_file=GGUF, dtype=torch.float32,
                                                 attn_implementation="eager")
    model.eval()
    return model, tok


@torch.no_grad()
def residuals(model, ids):
    """blocks.LAYER.hook_resid_pre for one sequence, [T, d_model]."""
    captured = {}
    handle = model.model.layers[LAYER].register_forward_pre_hook(
        lambda m, args: captured.__setitem__("x", args[0][0].clone()))
    model(torch.tensor([ids]))
    handle.remove()
    return captured["x"]


@torch.no_grad()
def corpus(model, tok):
    torch.manual_seed(0)
    texts = list(PARAGRAPHS)
    for opening in OPENINGS:
        ids = tok(opening, return_tensors="pt")["input_ids"]
        out = model.generate(ids, max_new_tokens=300, min_new_tokens=300, do_sample=True, temperature=0.9, top_p=0.95)
        texts.append(tok.decode(out[0]))
    return texts


def train(activations):
    torch.manual_seed(0)
    d_in = activations.shape[1]
    w_dec = torch.nn.init.kaiming_uniform_(torch.empty(D_SAE, d_in))
    w_dec = w_dec / w_dec.norm(dim=1, keepdim=True) * 0.1
    params = {
        "W_dec": torch.nn.Parameter(w_dec),
        "W_enc": torch.nn.Parameter(w_dec.T.clone()),
        "b_enc": torch.nn.Parameter(torch.zeros(D_SAE)),
        "b_dec": torch.nn.Parameter(activations.mean(0).clone()),
    }
    optimiser = torch.optim.Adam(params.values(), lr=1e-3)
    # Both loss terms are scale-free: squared error over the data's variance, the decoder-norm-weighted L1
    # over the mean activation norm.
    variance = (activations - activations.mean(0)).pow(2).sum(1).mean()
    mean_norm = activations.norm(dim=1).mean()
    steps, batch = 4000, 256
    for step in range(steps):
        x = activations[torch.randint(0, len(activations), (batch,))]
        f = torch.relu((x - params["b_dec"]) @ params["W_enc"] + params["b_enc"])
        x_hat = f @ params["W_dec"] + params["b_dec"]
        unexplained = (x_hat - x).pow(2).sum(1).mean() / variance
        sparsity = (f * params["W_dec"].norm(dim=1)).sum(1).mean() / mean_norm
        loss = unexplained + L1 * min(1.0, step / 500) * sparsity
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % 500 == 0 or step == steps - 1:
            l0 = (f > 0).float().sum(1).mean()
            print(f"step {step}: explained variance {1 - unexplained.item():.3f}, L0 {l0.item():.1f}", file=sys.stderr)
    return {name: p.detach() for name, p in params.items()}


def encode(weights, x):
    """The numpy reference encoding, float64, of rows x."""
    return np.maximum((x - weights["b_dec"]) @ weights["W_enc"] + weights["b_enc"], 0)


def main():
    model, tok = load()
    texts = corpus(model, tok)
    rows = []
    for text in texts:
        ids = tok(text)["input_ids"][:512]
        rows.append(residuals(model, ids)[1:])  # position 0 is an attention sink with a huge norm
    activations = torch.cat(rows)
    print(f"{len(texts)} texts, {len(activations)} training positions", file=sys.stderr)
    weights = train(activations)

    os.makedirs(FIXTURE, exist_ok=True)
    half = {name: np.ascontiguousarray(w.numpy().astype(np.float16)) for name, w in weights.items()}
    save_file(half, os.path.join(FIXTURE, "sae_weights.safetensors"))
    config = {"architecture": "standard", "d_in": activations.shape[1], "d_sae": D_SAE, "dtype": "float32",
              "device": "cpu", "apply_b_dec_to_input": True, "normalize_activations": "none",
              "metadata": {"model_name": "SmolLM2-135M-Instruct", "hook_name": HOOK, "hook_layer": LAYER,
                           "prepend_bos": False, "context_size": 512}}
    with open(os.path.join(FIXTURE, "cfg.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")

    ids = tok(TEST_PROMPT)["input_ids"]
    x = residuals(model, ids).double().numpy()
    reference = {name: w.astype(np.float64) for name, w in half.items()}
    features = encode(reference, x)
    active = (features[1:] > 0).sum(1)
    print(f"test prompt: {len(ids)} tokens, active features per position {active.tolist()}", file=sys.stderr)
    assert active.min() > 0, "the test prompt activates no feature somewhere"
    os.makedirs(os.path.dirname(GOLDEN), exist_ok=True)
    save_file({"activations": x.astype(np.float32), "features": features.astype(np.float32),
               "tokens": np.array(ids, np.int32)}, GOLDEN,
              metadata={"prompt": TEST_PROMPT, "hook": HOOK, "sae": os.path.relpath(FIXTURE, ROOT)})
    print(f"wrote {FIXTURE} and {GOLDEN}", file=sys.stderr)


if __name__ == "__main__":
    main()
