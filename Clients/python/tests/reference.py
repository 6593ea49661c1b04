"""An independent numpy forward of a llama GGUF (SmolLM2), from a given layer's residual on, for checking
the server's interventions. Weights come from gguf-py's dequantization; arithmetic is float64.

GGUF stores llama's Q and K rows permuted so that RoPE rotates adjacent pairs (docs/hook-points.md); this
forward reads them as stored and rotates adjacent pairs, which gives the same attention as HF.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gguf
import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


@dataclass
class LlamaReference:
    weights: dict[str, Array]
    n_layers: int
    n_heads: int
    n_kv_heads: int
    rope_base: float
    eps: float

    @classmethod
    def load(cls, path: Path) -> LlamaReference:
        reader = gguf.GGUFReader(path)

        def field(key: str) -> float:
            return float(reader.fields[key].contents())

        weights = {t.name: gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float64) for t in reader.tensors}
        return cls(weights, int(field("llama.block_count")), int(field("llama.attention.head_count")),
                   int(field("llama.attention.head_count_kv")), field("llama.rope.freq_base"),
                   field("llama.attention.layer_norm_rms_epsilon"))

    def _norm(self, x: Array, weight: str) -> Array:
        return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + self.eps) * self.weights[weight]

    def _rope(self, x: Array) -> Array:
        """Rotates adjacent pairs (2i, 2i+1) of each head by position × base^(-2i/d)."""
        positions, _, d_head = x.shape
        angles = np.arange(positions)[:, None] * self.rope_base ** (-np.arange(0, d_head, 2) / d_head)
        cos, sin = np.cos(angles)[:, None, :], np.sin(angles)[:, None, :]
        even, odd = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = even * cos - odd * sin
        out[..., 1::2] = even * sin + odd * cos
        return out

    def attention(self, layer: int, resid: Array) -> Array:
        """`hook_attn_out` of a layer over the positions 0 ..< len(resid), causal."""
        w = self.weights
        h = self._norm(resid, f"blk.{layer}.attn_norm.weight")
        positions = len(resid)
        q = (h @ w[f"blk.{layer}.attn_q.weight"].T).reshape(positions, self.n_heads, -1)
        k = (h @ w[f"blk.{layer}.attn_k.weight"].T).reshape(positions, self.n_kv_heads, -1)
        v = (h @ w[f"blk.{layer}.attn_v.weight"].T).reshape(positions, self.n_kv_heads, -1)
        q, k = self._rope(q), self._rope(k)
        group = self.n_heads // self.n_kv_heads
        k, v = np.repeat(k, group, axis=1), np.repeat(v, group, axis=1)
        scores = np.einsum("qhd,khd->hqk", q, k) / np.sqrt(q.shape[-1])
        scores = np.where(np.tril(np.ones((positions, positions), dtype=bool)), scores, -np.inf)
        pattern = np.exp(scores - scores.max(axis=-1, keepdims=True))
        pattern /= pattern.sum(axis=-1, keepdims=True)
        z = np.einsum("hqk,khd->qhd", pattern, v).reshape(positions, -1)
        return z @ w[f"blk.{layer}.attn_output.weight"].T

    def mlp(self, layer: int, resid_mid: Array) -> Array:
        """`hook_mlp_out` of a layer."""
        w = self.weights
        h = self._norm(resid_mid, f"blk.{layer}.ffn_norm.weight")
        gate = h @ w[f"blk.{layer}.ffn_gate.weight"].T
        hidden = gate / (1 + np.exp(-gate)) * (h @ w[f"blk.{layer}.ffn_up.weight"].T)
        return hidden @ w[f"blk.{layer}.ffn_down.weight"].T

    def logits_from(self, layer: int, resid_pre: Array, *, zero_attention_in: int | None = None) -> Array:
        """The logits at every position, running layers `layer`… on `resid_pre` (that layer's input);
        the attention output of layer `zero_attention_in` is replaced by zeros."""
        x = np.asarray(resid_pre, dtype=np.float64)
        for current in range(layer, self.n_layers):
            if current != zero_attention_in:
                x = x + self.attention(current, x)
            x = x + self.mlp(current, x)
        unembed = self.weights.get("output.weight", self.weights["token_embd.weight"])
        return self._norm(x, "output_norm.weight") @ unembed.T
