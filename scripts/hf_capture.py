"""Capture every TransformerLens hook point from an HF transformers model loaded from a GGUF file.

Shared by make_references.py (golden files) and compare_trace.py (acceptance check). The meaning of each
hook point is the one in docs/hook-points.md; shapes carry no batch dimension.

The capture uses forward hooks on HF modules where HF has a module boundary, and computes the rest
(rot_q / rot_k, attn_scores) from captured tensors with the model's own rotary embedding and scaling.
`check_consistency` then recomputes every relation between the hooks (softmax(scores) == HF's attention
weights, pattern @ v == z, resid_mid == resid_pre + attn_out, ...) so a capture mistake fails loudly.
"""

from __future__ import annotations

import math
import os
import re
import sys
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

MODELS_DIR = os.path.expanduser(os.environ.get("LMDBG_MODELS", "~/.cache/lmdbg/models"))


@dataclass
class ModelSpec:
    key: str
    gguf: str
    arch: str  # "llama" | "gemma3"
    prompts: list = field(default_factory=list)


SPECS = {
    "smollm2": ModelSpec("smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "llama"),
    "gemma3": ModelSpec("gemma3", "gemma-3-270m-q4_k_m.gguf", "gemma3"),
}


def setup_torch(threads: int = 2) -> None:
    torch.set_num_threads(threads)
    torch.set_grad_enabled(False)


def load(key: str):
    """Loads (model, tokenizer) for a model key, float32, eager attention, offline."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    spec = SPECS[key]
    path = os.path.join(MODELS_DIR, spec.gguf)
    if not os.path.exists(path):
        sys.exit(f"model file missing: {path} (run scripts/bootstrap)")
    tok = AutoTokenizer.from_pretrained(MODELS_DIR, gguf_file=spec.gguf)
    model = AutoModelForCausalLM.from_pretrained(
        MODELS_DIR, gguf_file=spec.gguf, dtype=torch.float32, attn_implementation="eager"
    )
    model.eval()
    arch = model.config.model_type
    if (spec.arch == "llama") != (arch == "llama") or (spec.arch == "gemma3" and not arch.startswith("gemma3")):
        sys.exit(f"unexpected architecture {arch} for {key}")
    return model, tok


def hook_names(n_layers: int, arch: str) -> list[str]:
    """Hook names in execution order (the order lmdbg's hookPoints list should have)."""
    names = ["hook_embed"]
    for L in range(n_layers):
        b = f"blocks.{L}."
        names += [
            b + "hook_resid_pre",
            b + "ln1.hook_scale",
            b + "ln1.hook_normalized",
            b + "attn.hook_q",
            b + "attn.hook_k",
            b + "attn.hook_v",
            b + "attn.hook_rot_q",
            b + "attn.hook_rot_k",
            b + "attn.hook_attn_scores",
            b + "attn.hook_pattern",
            b + "attn.hook_z",
            b + "hook_attn_out",
            b + "hook_resid_mid",
            b + "ln2.hook_scale",
            b + "ln2.hook_normalized",
            b + "mlp.hook_pre",
            b + "mlp.hook_pre_linear",
            b + "mlp.hook_post",
            b + "hook_mlp_out",
            b + "hook_resid_post",
        ]
    names += ["ln_final.hook_scale", "ln_final.hook_normalized", "logits"]
    return names


def hook_kind(name: str) -> str:
    """blocks.12.attn.hook_q -> blocks.*.attn.hook_q"""
    return re.sub(r"^blocks\.\d+\.", "blocks.*.", name)


def _first(x):
    return x[0] if isinstance(x, (tuple, list)) else x


def _rms_parts(x: torch.Tensor, eps: float):
    """(scale [T,1], normalized [T,d]) with scale = sqrt(mean(x^2) + eps), normalized = x / scale."""
    scale = torch.sqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return scale, x / scale


class Capture:
    """Registers hooks on an HF llama / gemma3 causal LM and captures every hook point of one forward pass."""

    def __init__(self, model):
        self.model = model
        self.cfg = model.config
        self.arch = "gemma3" if self.cfg.model_type.startswith("gemma3") else "llama"
        self.inner = model.model
        self.n_layers = self.cfg.num_hidden_layers
        self.n_heads = self.cfg.num_attention_heads
        self.n_kv = self.cfg.num_key_value_heads
        self.d_head = self.cfg.head_dim
        self.eps = self.cfg.rms_norm_eps
        self.raw: dict = {}
        self.mod = sys.modules[type(self.inner.layers[0].self_attn).__module__]

    # -- hook registration ------------------------------------------------------------------------
    def _register(self):
        hs = []
        raw = self.raw

        def save_out(key, fn=lambda o: _first(o)):
            def h(_m, _i, out):
                raw[key] = fn(out).detach().clone()
            return h

        def save_in(key):
            def h(_m, args):
                raw[key] = args[0].detach().clone()
            return h

        inner = self.inner
        hs.append(inner.embed_tokens.register_forward_hook(save_out("embed")))
        for L, layer in enumerate(inner.layers):
            def layer_pre(_m, args, kwargs, L=L):
                x = args[0] if args else kwargs["hidden_states"]
                raw[(L, "resid_pre")] = x.detach().clone()
            hs.append(layer.register_forward_pre_hook(layer_pre, with_kwargs=True))
            hs.append(layer.register_forward_hook(save_out((L, "resid_post"))))
            hs.append(layer.input_layernorm.register_forward_pre_hook(save_in((L, "ln1_in"))))
            hs.append(layer.input_layernorm.register_forward_hook(save_out((L, "ln1_out"))))
            at = layer.self_attn

            def attn_pre(_m, args, kwargs, L=L):
                raw[(L, "attn_mask")] = kwargs.get("attention_mask")
                raw[(L, "pos_emb")] = kwargs.get("position_embeddings")
            hs.append(at.register_forward_pre_hook(attn_pre, with_kwargs=True))

            def attn_post(_m, _i, out, L=L):
                raw[(L, "attn_module_out")] = out[0].detach().clone()
                raw[(L, "attn_weights")] = out[1].detach().clone()
            hs.append(at.register_forward_hook(attn_post))
            hs.append(at.q_proj.register_forward_hook(save_out((L, "q"))))
            hs.append(at.k_proj.register_forward_hook(save_out((L, "k"))))
            hs.append(at.v_proj.register_forward_hook(save_out((L, "v"))))
            hs.append(at.o_proj.register_forward_pre_hook(save_in((L, "z"))))
            hs.append(at.o_proj.register_forward_hook(save_out((L, "o_out"))))
            if self.arch == "gemma3":
                hs.append(at.q_norm.register_forward_hook(save_out((L, "q_normed"))))
                hs.append(at.k_norm.register_forward_hook(save_out((L, "k_normed"))))
                hs.append(layer.post_attention_layernorm.register_forward_hook(save_out((L, "attn_out"))))
                ln2 = layer.pre_feedforward_layernorm
                hs.append(layer.post_feedforward_layernorm.register_forward_hook(save_out((L, "mlp_out"))))
            else:
                ln2 = layer.post_attention_layernorm
                hs.append(layer.mlp.register_forward_hook(save_out((L, "mlp_out"))))
            hs.append(ln2.register_forward_pre_hook(save_in((L, "ln2_in"))))
            hs.append(ln2.register_forward_hook(save_out((L, "ln2_out"))))
            hs.append(layer.mlp.gate_proj.register_forward_hook(save_out((L, "gate"))))
            hs.append(layer.mlp.up_proj.register_forward_hook(save_out((L, "up"))))
            hs.append(layer.mlp.down_proj.register_forward_pre_hook(save_in((L, "down_in"))))
            hs.append(layer.mlp.down_proj.register_forward_hook(save_out((L, "down_out"))))
        hs.append(inner.norm.register_forward_pre_hook(save_in("lnf_in")))
        hs.append(inner.norm.register_forward_hook(save_out("lnf_out")))
        return hs

    # -- masks --------------------------------------------------------------------------------------
    def layer_is_sliding(self, L: int) -> bool:
        types = getattr(self.cfg, "layer_types", None)
        return bool(types) and types[L] == "sliding_attention"

    def allowed_mask(self, L: int, T: int) -> torch.Tensor:
        """[T, T] bool: query i may attend key j. Causal, plus the sliding window on local layers."""
        i = torch.arange(T)[:, None]
        j = torch.arange(T)[None, :]
        ok = j <= i
        if self.layer_is_sliding(L):
            ok = ok & (j > i - self.cfg.sliding_window)
        return ok

    # -- the forward pass ------------------------------------------------------------------------------
    def run(self, tokens) -> dict[str, torch.Tensor]:
        """Runs one forward pass over `tokens` (1-D ids) and returns {hook name: float32 tensor, no batch}."""
        ids = torch.as_tensor(np.asarray(tokens, dtype=np.int64))[None, :]
        T = ids.shape[1]
        self.raw.clear()
        hs = self._register()
        try:
            out = self.model(input_ids=ids, use_cache=False)
        finally:
            for h in hs:
                h.remove()
        raw = self.raw
        H, K, D = self.n_heads, self.n_kv, self.d_head
        acts: dict[str, torch.Tensor] = {}
        acts["hook_embed"] = raw["embed"][0]
        for L in range(self.n_layers):
            b = f"blocks.{L}."
            acts[b + "hook_resid_pre"] = raw[(L, "resid_pre")][0]
            s, n = _rms_parts(raw[(L, "ln1_in")][0], self.eps)
            acts[b + "ln1.hook_scale"] = s
            acts[b + "ln1.hook_normalized"] = n
            q = raw[(L, "q")][0].view(T, H, D)
            k = raw[(L, "k")][0].view(T, K, D)
            v = raw[(L, "v")][0].view(T, K, D)
            acts[b + "attn.hook_q"] = q
            acts[b + "attn.hook_k"] = k
            acts[b + "attn.hook_v"] = v
            if self.arch == "gemma3":
                qn = raw[(L, "q_normed")][0].transpose(0, 1)  # HF: [B, heads, T, D]
                kn = raw[(L, "k_normed")][0].transpose(0, 1)
            else:
                qn, kn = q, k
            cos, sin = raw[(L, "pos_emb")]
            # the model's own RoPE function, on [1, heads, T, D]
            rq, rk = self.mod.apply_rotary_pos_emb(qn.transpose(0, 1)[None], kn.transpose(0, 1)[None], cos, sin)
            rot_q = rq[0].transpose(0, 1).contiguous()
            rot_k = rk[0].transpose(0, 1).contiguous()
            acts[b + "attn.hook_rot_q"] = rot_q
            acts[b + "attn.hook_rot_k"] = rot_k
            scaling = self.inner.layers[L].self_attn.scaling
            rep = H // K
            k_exp = rot_k.repeat_interleave(rep, dim=1)  # [T, H, D]; query head h uses kv head h // rep
            scores = torch.einsum("ihd,jhd->hij", rot_q, k_exp) * scaling
            softcap = getattr(self.cfg, "attn_logit_softcapping", None)
            if softcap is not None:
                scores = torch.tanh(scores / softcap) * softcap
            allowed = self.allowed_mask(L, T)
            scores = scores.masked_fill(~allowed[None], float("-inf"))
            acts[b + "attn.hook_attn_scores"] = scores
            acts[b + "attn.hook_pattern"] = raw[(L, "attn_weights")][0]
            acts[b + "attn.hook_z"] = raw[(L, "z")][0].view(T, H, D)
            if self.arch == "gemma3":
                acts[b + "hook_attn_out"] = raw[(L, "attn_out")][0]
            else:
                acts[b + "hook_attn_out"] = raw[(L, "attn_module_out")][0]
            acts[b + "hook_resid_mid"] = raw[(L, "ln2_in")][0]
            s, n = _rms_parts(raw[(L, "ln2_in")][0], self.eps)
            acts[b + "ln2.hook_scale"] = s
            acts[b + "ln2.hook_normalized"] = n
            acts[b + "mlp.hook_pre"] = raw[(L, "gate")][0]
            acts[b + "mlp.hook_pre_linear"] = raw[(L, "up")][0]
            acts[b + "mlp.hook_post"] = raw[(L, "down_in")][0]
            acts[b + "hook_mlp_out"] = raw[(L, "mlp_out")][0]
            acts[b + "hook_resid_post"] = _first(raw[(L, "resid_post")])[0]
        s, n = _rms_parts(raw["lnf_in"][0], self.eps)
        acts["ln_final.hook_scale"] = s
        acts["ln_final.hook_normalized"] = n
        acts["logits"] = out.logits[0].detach().clone()
        assert list(acts) == hook_names(self.n_layers, self.arch), "hook order drifted"
        for name, t in acts.items():
            assert t.dtype == torch.float32, (name, t.dtype)
        self.tokens = ids[0]
        return acts

    # -- consistency -------------------------------------------------------------------------------
    def check_consistency(self, acts: dict[str, torch.Tensor], tol: float = 2e-5) -> None:
        """Recomputes each hook from its neighbours; raises AssertionError on the first mismatch."""
        raw = self.raw
        T = self.tokens.shape[0]
        H, K, D = self.n_heads, self.n_kv, self.d_head
        gemma = self.arch == "gemma3"
        inner = self.inner
        worst = {}

        def close(what, a, b, t=tol):
            a = a.double()
            b = b.double()
            assert a.shape == b.shape, f"{what}: shape {tuple(a.shape)} vs {tuple(b.shape)}"
            fin = torch.isfinite(b)
            assert torch.equal(fin, torch.isfinite(a)), f"{what}: non-finite entries differ"
            m = b[fin].abs().max().item() if fin.any() else 0.0
            err = (a[fin] - b[fin]).abs().max().item() if fin.any() else 0.0
            rel = err / max(m, 1e-30)
            k = hook_kind(what)
            worst[k] = max(worst.get(k, 0.0), rel)
            assert rel <= t, f"{what}: relative error {rel:.3g} > {t:.1g}"

        def norm_weight(norm):
            w = norm.weight
            return (1.0 + w) if gemma else w

        W_E = inner.embed_tokens.weight
        embed_scale = float(inner.embed_tokens.embed_scale) if gemma else 1.0
        if gemma:
            assert abs(embed_scale - math.sqrt(self.cfg.hidden_size)) < 1e-4
        close("embed = W_E[tokens] * scale", acts["hook_embed"], W_E[self.tokens] * embed_scale)
        close("resid_pre[0] == embed", acts["blocks.0.hook_resid_pre"], acts["hook_embed"], 0)
        for L in range(self.n_layers):
            b = f"blocks.{L}."
            layer = inner.layers[L]
            at = layer.self_attn
            x = acts[b + "hook_resid_pre"]
            close(b + "ln1 input == resid_pre", raw[(L, "ln1_in")][0], x, 0)
            close(b + "ln1.hook_scale", acts[b + "ln1.hook_scale"] ** -2, x.pow(2).mean(-1, keepdim=True).add(self.eps).reciprocal())
            close(b + "ln1.normalized*w == HF norm out", acts[b + "ln1.hook_normalized"] * norm_weight(layer.input_layernorm), raw[(L, "ln1_out")][0])
            ln1 = raw[(L, "ln1_out")][0]
            close(b + "attn.hook_q", acts[b + "attn.hook_q"].reshape(T, -1), ln1 @ at.q_proj.weight.T)
            close(b + "attn.hook_k", acts[b + "attn.hook_k"].reshape(T, -1), ln1 @ at.k_proj.weight.T)
            close(b + "attn.hook_v", acts[b + "attn.hook_v"].reshape(T, -1), ln1 @ at.v_proj.weight.T)
            q, k = acts[b + "attn.hook_q"], acts[b + "attn.hook_k"]
            if gemma:
                # QK-norm: RMSNorm over d_head with (1 + w)
                q = _rms_parts(q, self.eps)[1] * (1.0 + at.q_norm.weight)
                k = _rms_parts(k, self.eps)[1] * (1.0 + at.k_norm.weight)
            # independent rotate-half RoPE with the base this layer uses
            base = self.rope_base(L)
            inv = 1.0 / (base ** (torch.arange(0, D, 2, dtype=torch.float64) / D))
            ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None, :]  # [T, D/2]
            cos = torch.cat([ang.cos(), ang.cos()], -1)[:, None, :]
            sin = torch.cat([ang.sin(), ang.sin()], -1)[:, None, :]

            def rope(t):
                t = t.double()
                rh = torch.cat([-t[..., D // 2:], t[..., : D // 2]], -1)
                return t * cos + rh * sin

            close(b + "attn.hook_rot_q", acts[b + "attn.hook_rot_q"], rope(q), 1e-4)
            close(b + "attn.hook_rot_k", acts[b + "attn.hook_rot_k"], rope(k), 1e-4)
            hf_mask = raw[(L, "attn_mask")]
            allowed = self.allowed_mask(L, T)
            if hf_mask is not None:
                hm = hf_mask[0, 0] if hf_mask.dim() == 4 else hf_mask
                hf_allowed = hm if hm.dtype == torch.bool else hm > torch.finfo(torch.float32).min / 2
                assert torch.equal(hf_allowed[:, -T:], allowed), f"{b}: HF mask differs from causal/sliding mask"
            scores = acts[b + "attn.hook_attn_scores"]
            assert torch.isinf(scores[:, ~allowed]).all() and torch.isfinite(scores[:, allowed]).all()
            pattern = acts[b + "attn.hook_pattern"]
            close(b + "softmax(scores) == pattern", torch.softmax(scores, -1), pattern)
            assert (pattern[:, ~allowed] == 0).all(), b + "pattern nonzero at masked entries"
            v_exp = acts[b + "attn.hook_v"].repeat_interleave(H // K, dim=1)  # [T, H, D]
            close(b + "attn.hook_z == pattern @ v", acts[b + "attn.hook_z"], torch.einsum("hij,jhd->ihd", pattern, v_exp))
            zo = acts[b + "attn.hook_z"].reshape(T, -1) @ at.o_proj.weight.T
            if gemma:
                zo = _rms_parts(zo, self.eps)[1] * (1.0 + layer.post_attention_layernorm.weight)
            close(b + "hook_attn_out", acts[b + "hook_attn_out"], zo)
            close(b + "resid_mid == resid_pre + attn_out", acts[b + "hook_resid_mid"], x + acts[b + "hook_attn_out"])
            mid = acts[b + "hook_resid_mid"]
            ln2mod = layer.pre_feedforward_layernorm if gemma else layer.post_attention_layernorm
            close(b + "ln2.hook_scale", acts[b + "ln2.hook_scale"] ** -2, mid.pow(2).mean(-1, keepdim=True).add(self.eps).reciprocal())
            close(b + "ln2.normalized*w == HF norm out", acts[b + "ln2.hook_normalized"] * norm_weight(ln2mod), raw[(L, "ln2_out")][0])
            ln2 = raw[(L, "ln2_out")][0]
            close(b + "mlp.hook_pre", acts[b + "mlp.hook_pre"], ln2 @ layer.mlp.gate_proj.weight.T)
            close(b + "mlp.hook_pre_linear", acts[b + "mlp.hook_pre_linear"], ln2 @ layer.mlp.up_proj.weight.T)
            g = acts[b + "mlp.hook_pre"].double()
            act = F.gelu(g, approximate="tanh") if gemma else g * torch.sigmoid(g)
            close(b + "mlp.hook_post == act(pre) * pre_linear", acts[b + "mlp.hook_post"], act * acts[b + "mlp.hook_pre_linear"])
            mo = acts[b + "mlp.hook_post"] @ layer.mlp.down_proj.weight.T
            if gemma:
                mo = _rms_parts(mo, self.eps)[1] * (1.0 + layer.post_feedforward_layernorm.weight)
            close(b + "hook_mlp_out", acts[b + "hook_mlp_out"], mo)
            close(b + "resid_post == resid_mid + mlp_out", acts[b + "hook_resid_post"], mid + acts[b + "hook_mlp_out"])
            if L + 1 < self.n_layers:
                close(b + "resid_post == next resid_pre", acts[f"blocks.{L + 1}.hook_resid_pre"], acts[b + "hook_resid_post"], 0)
        last = acts[f"blocks.{self.n_layers - 1}.hook_resid_post"]
        close("ln_final input == last resid_post", raw["lnf_in"][0], last, 0)
        close("ln_final.hook_scale", acts["ln_final.hook_scale"] ** -2, last.pow(2).mean(-1, keepdim=True).add(self.eps).reciprocal())
        final = acts["ln_final.hook_normalized"] * norm_weight(inner.norm)
        close("ln_final.normalized*w == HF norm out", final, raw["lnf_out"][0])
        assert self.model.lm_head.weight.data_ptr() == W_E.data_ptr() or torch.equal(self.model.lm_head.weight, W_E), "W_U not tied"
        logits = final @ W_E.T
        fsc = getattr(self.cfg, "final_logit_softcapping", None)
        if fsc is not None:
            logits = torch.tanh(logits / fsc) * fsc
        close("logits == ln_final @ W_E^T", acts["logits"], logits)
        self.worst = worst

    def check_kv_cache(self, acts: dict[str, torch.Tensor], tol: float = 1e-5) -> None:
        """rot_k and v are what HF's KV cache holds after the prompt."""
        ids = self.tokens[None]
        out = self.model(input_ids=ids, use_cache=True)
        cache = out.past_key_values
        for L in range(self.n_layers):
            lay = cache.layers[L]
            ck, cv = lay.keys[0].transpose(0, 1), lay.values[0].transpose(0, 1)  # [T, K, D]
            for name, a, c in (("rot_k", acts[f"blocks.{L}.attn.hook_rot_k"], ck), ("v", acts[f"blocks.{L}.attn.hook_v"], cv)):
                rel = (a - c).abs().max().item() / c.abs().max().item()
                assert rel < tol, f"KV cache layer {L} {name}: {rel}"
        rel = (out.logits[0] - acts["logits"]).abs().max().item() / acts["logits"].abs().max().item()
        assert rel < tol, f"logits with cache differ: {rel}"

    def rope_base(self, L: int) -> float:
        rp = self.cfg.rope_parameters
        if self.arch == "gemma3":
            lt = self.cfg.layer_types[L]
            return float(rp[lt]["rope_theta"])
        return float(rp["rope_theta"])


def greedy(model, tokens, n: int = 20):
    """n greedy tokens after `tokens`, with the top1 - top2 logit margin at each step.

    Runs a plain KV-cached loop (EOS does not stop it) and cross-checks it against HF generate
    (do_sample=False) for as many tokens as generate produces."""
    from transformers import GenerationConfig

    ids = torch.as_tensor(np.asarray(tokens, dtype=np.int64))[None, :]
    out_tokens, margins = [], []
    out = model(input_ids=ids, use_cache=True)
    cache = out.past_key_values
    logits = out.logits[0, -1]
    for step in range(n):
        top = torch.topk(logits, 2)
        nxt = int(top.indices[0])
        out_tokens.append(nxt)
        margins.append(float(top.values[0] - top.values[1]))
        if step + 1 == n:
            break
        out = model(input_ids=torch.tensor([[nxt]]), past_key_values=cache, use_cache=True)
        cache = out.past_key_values
        logits = out.logits[0, -1]
    gc = GenerationConfig(do_sample=False, max_new_tokens=n, num_beams=1,
                          eos_token_id=model.generation_config.eos_token_id,
                          pad_token_id=model.generation_config.pad_token_id)
    gen = model.generate(ids, attention_mask=torch.ones_like(ids), generation_config=gc)[0, ids.shape[1]:].tolist()
    m = len(gen)
    if gen != out_tokens[:m]:
        # a near-tie can flip between the two code paths; only accept it where the margin is tiny
        first = next(i for i in range(m) if gen[i] != out_tokens[i])
        raise AssertionError(f"HF generate {gen} differs from the greedy loop {out_tokens} at step {first} "
                             f"(margin {margins[first]:.4f})")
    return np.array(out_tokens, dtype=np.int32), np.array(margins, dtype=np.float32), m
