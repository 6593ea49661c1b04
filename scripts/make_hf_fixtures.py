#!/usr/bin/env python3
"""Writes tiny random-weight HF models and their golden hook activations to Tests/Golden/<name>/.

    python3 scripts/make_hf_fixtures.py

gpt2-tiny:  GPT2LMHeadModel (2 layers, d_model 64, 4 heads, 32 positions) saved with save_pretrained
            (config.json, model.safetensors), a byte-level BPE of 300 tokens trained here (vocab.json,
            merges.txt), and golden.safetensors.
llama-tiny: LlamaForCausalLM (2 layers, d_model 64, 4 heads over 2 KV heads, W_U tied) saved in shards
            (model-0000X-of-0000Y.safetensors + model.safetensors.index.json), gpt2-tiny's tokenizer, and
            golden.safetensors.

golden.safetensors holds `tokens` (int32 [T]) and every TransformerLens hook point of docs/hook-points.md
in full (float32, no batch dimension), captured from HF modules in float32 with eager attention. The
seeds are fixed; the output is deterministic on the same versions.

gpt2-tiny is also converted to GGUF in llama.cpp's layout (gguf-py's GGUFWriter and tensor-name map, the
tokenizer in the metadata): gpt2-tiny.f32.gguf, and gpt2-tiny.q8_0.gguf with the 2-D weights in Q8_0 as
llama.cpp's converter chooses them. HF transformers loads each GGUF back; the F32 one must give
golden.safetensors exactly, and the Q8_0 one's hooks are golden.q8_0.safetensors.
"""

from __future__ import annotations

import json
import os
import shutil
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_capture as hc  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Golden")
TEXT = "The quick brown fox jumps over the lazy dog. Café crème, naïve façade! 12345 + 678 = 13023\n"
PROMPT = "The lazy fox, naïve café 123"


def train_byte_level_bpe(directory: str, vocab_size: int) -> None:
    """A byte-level BPE (GPT-2's pre-tokenizer and alphabet) trained on TEXT: vocab.json and merges.txt."""
    from tokenizers import ByteLevelBPETokenizer

    tok = ByteLevelBPETokenizer()
    tok.train_from_iterator([TEXT] * 4, vocab_size=vocab_size, min_frequency=1, special_tokens=["<|endoftext|>"],
                            show_progress=False)
    tok.save_model(directory)


def gpt2_hooks(model, ids: list[int]) -> dict[str, torch.Tensor]:
    """Every GPT-2 hook point of one forward pass, from HF module hooks."""
    cfg = model.config
    T, H, D = len(ids), cfg.n_head, cfg.n_embd // cfg.n_head
    eps = cfg.layer_norm_epsilon
    raw: dict = {}
    handles = []

    def out_hook(key):
        def h(_m, _i, out):
            raw[key] = (out[0] if isinstance(out, tuple) else out)[0].detach().clone()
        return h

    def in_hook(key):
        def h(_m, args):
            raw[key] = args[0][0].detach().clone()
        return h

    tr = model.transformer
    handles.append(tr.wte.register_forward_hook(out_hook("embed")))
    handles.append(tr.wpe.register_forward_hook(out_hook("pos")))
    for L, block in enumerate(tr.h):
        handles.append(block.ln_1.register_forward_pre_hook(in_hook((L, "resid_pre"))))
        handles.append(block.attn.c_attn.register_forward_hook(out_hook((L, "qkv"))))
        handles.append(block.attn.c_proj.register_forward_pre_hook(in_hook((L, "z"))))
        handles.append(block.attn.register_forward_hook(lambda _m, _i, out, L=L: raw.__setitem__((L, "attn"), (out[0][0].detach().clone(), out[1][0].detach().clone()))))
        handles.append(block.ln_2.register_forward_pre_hook(in_hook((L, "resid_mid"))))
        handles.append(block.mlp.c_fc.register_forward_hook(out_hook((L, "pre"))))
        handles.append(block.mlp.act.register_forward_hook(out_hook((L, "post"))))
        handles.append(block.mlp.register_forward_hook(out_hook((L, "mlp_out"))))
        handles.append(block.register_forward_hook(out_hook((L, "resid_post"))))
    handles.append(tr.ln_f.register_forward_pre_hook(in_hook("lnf_in")))
    try:
        with torch.no_grad():
            out = model(input_ids=torch.tensor([ids]), output_attentions=True)
    finally:
        for h in handles:
            h.remove()

    def ln_parts(x):
        centred = x - x.mean(-1, keepdim=True)
        scale = (centred.pow(2).mean(-1, keepdim=True) + eps).sqrt()
        return scale, centred / scale

    acts: dict[str, torch.Tensor] = {"hook_embed": raw["embed"], "hook_pos_embed": raw["pos"]}
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    for L in range(cfg.n_layer):
        b = f"blocks.{L}."
        acts[b + "hook_resid_pre"] = raw[(L, "resid_pre")]
        acts[b + "ln1.hook_scale"], acts[b + "ln1.hook_normalized"] = ln_parts(raw[(L, "resid_pre")])
        q, k, v = raw[(L, "qkv")].split(cfg.n_embd, dim=-1)
        q, k, v = q.reshape(T, H, D), k.reshape(T, H, D), v.reshape(T, H, D)
        acts[b + "attn.hook_q"], acts[b + "attn.hook_k"], acts[b + "attn.hook_v"] = q, k, v
        scores = torch.einsum("ihd,jhd->hij", q, k) / D ** 0.5
        acts[b + "attn.hook_attn_scores"] = scores.masked_fill(~causal[None], float("-inf"))
        attn_out, pattern = raw[(L, "attn")]
        acts[b + "attn.hook_pattern"] = pattern
        acts[b + "attn.hook_z"] = raw[(L, "z")].reshape(T, H, D)
        acts[b + "hook_attn_out"] = attn_out
        acts[b + "hook_resid_mid"] = raw[(L, "resid_mid")]
        acts[b + "ln2.hook_scale"], acts[b + "ln2.hook_normalized"] = ln_parts(raw[(L, "resid_mid")])
        acts[b + "mlp.hook_pre"] = raw[(L, "pre")]
        acts[b + "mlp.hook_post"] = raw[(L, "post")]
        acts[b + "hook_mlp_out"] = raw[(L, "mlp_out")]
        acts[b + "hook_resid_post"] = raw[(L, "resid_post")]
        # internal consistency: the captured pieces fit together
        assert torch.allclose(torch.softmax(acts[b + "attn.hook_attn_scores"], -1), pattern, atol=1e-6)
        assert torch.allclose(acts[b + "hook_resid_mid"], acts[b + "hook_resid_pre"] + attn_out, atol=1e-5)
        assert torch.allclose(acts[b + "hook_resid_post"], acts[b + "hook_resid_mid"] + acts[b + "hook_mlp_out"], atol=1e-5)
    acts["ln_final.hook_scale"], acts["ln_final.hook_normalized"] = ln_parts(raw["lnf_in"])
    acts["logits"] = out.logits[0].detach().clone()
    return acts


def write_golden(directory: str, ids: list[int], acts: dict[str, torch.Tensor], prompt: str,
                 file: str = "golden.safetensors") -> None:
    from safetensors.numpy import save_file

    out = {"tokens": np.asarray(ids, dtype=np.int32)}
    for name, t in acts.items():
        assert t.dtype == torch.float32, name
        out[name] = np.ascontiguousarray(t.numpy())
    save_file(out, os.path.join(directory, file),
              metadata={"prompt": prompt, "generator": "scripts/make_hf_fixtures.py", "torch": torch.__version__})


def make_gpt2() -> None:
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2LMHeadModel

    directory = os.path.join(OUT, "gpt2-tiny")
    os.makedirs(directory, exist_ok=True)
    train_byte_level_bpe(directory, 300)
    tok = ByteLevelBPETokenizer(os.path.join(directory, "vocab.json"), os.path.join(directory, "merges.txt"))
    torch.manual_seed(1234)
    cfg = GPT2Config(vocab_size=tok.get_vocab_size(), n_positions=32, n_embd=64, n_layer=2, n_head=4,
                     activation_function="gelu_new", resid_pdrop=0, embd_pdrop=0, attn_pdrop=0,
                     bos_token_id=0, eos_token_id=0, attn_implementation="eager")
    model = GPT2LMHeadModel(cfg).eval()
    with torch.no_grad():  # larger than the init's 0.02 so that every sublayer matters
        for name, p in model.named_parameters():
            if "ln_" in name:
                p.add_(torch.randn_like(p) * 0.2)
            else:
                p.normal_(0, 0.3 if "wte" in name or "wpe" in name else 0.15)
    model.save_pretrained(directory)
    ids = tok.encode(PROMPT).ids
    acts = gpt2_hooks(model, ids)
    write_golden(directory, ids, acts, PROMPT)
    print(f"gpt2-tiny: {len(ids)} tokens {ids}, vocab {tok.get_vocab_size()}")


def write_gpt2_gguf(directory: str, model, file: str, file_type) -> str:
    """Writes `model` (GPT2LMHeadModel) and gpt2-tiny's tokenizer as llama.cpp's converter does: names from
    gguf-py's map for GPT-2, Conv1D weights transposed to [out, in] (ggml stores them as {in, out}), W_U left
    out when tied, and with MOSTLY_Q8_0 every 2-D weight in Q8_0 except position_embd; vectors stay F32."""
    import gguf

    cfg = model.config
    path = os.path.join(directory, file)
    writer = gguf.GGUFWriter(path, gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.GPT2])
    writer.add_name("gpt2-tiny")
    writer.add_block_count(cfg.n_layer)
    writer.add_context_length(cfg.n_positions)
    writer.add_embedding_length(cfg.n_embd)
    writer.add_feed_forward_length(cfg.n_inner or 4 * cfg.n_embd)
    writer.add_head_count(cfg.n_head)
    writer.add_layer_norm_eps(cfg.layer_norm_epsilon)
    writer.add_file_type(file_type)

    with open(os.path.join(directory, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    with open(os.path.join(directory, "merges.txt"), encoding="utf-8") as f:
        merges = [line for line in f.read().split("\n") if line and not line.startswith("#version")]
    tokens = [token for token, _ in sorted(vocab.items(), key=lambda item: item[1])]
    assert [vocab[t] for t in tokens] == list(range(len(tokens)))
    special = "<|endoftext|>"
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt-2")
    writer.add_token_list(tokens)
    writer.add_token_types([gguf.TokenType.CONTROL if t == special else gguf.TokenType.NORMAL for t in tokens])
    writer.add_token_merges(merges)
    writer.add_bos_token_id(vocab[special])
    writer.add_eos_token_id(vocab[special])

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.GPT2, cfg.n_layer)
    for hf_name, tensor in model.state_dict().items():
        if hf_name == "lm_head.weight" and cfg.tie_word_embeddings:
            continue
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        assert name is not None, hf_name
        data = tensor.detach().numpy()
        if hf_name.endswith((".c_attn.weight", ".c_proj.weight", ".c_fc.weight")):
            data = data.T
        data = np.ascontiguousarray(data, dtype=np.float32)
        qtype = gguf.GGMLQuantizationType.F32
        if (file_type == gguf.LlamaFileType.MOSTLY_Q8_0 and data.ndim == 2
                and not name.startswith(gguf.TENSOR_NAMES[gguf.MODEL_TENSOR.POS_EMBD])):
            qtype = gguf.GGMLQuantizationType.Q8_0
            data = gguf.quants.quantize(data, qtype)
        writer.add_tensor(name, data, raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def make_gpt2_gguf() -> None:
    """gpt2-tiny as GGUF, F32 and Q8_0, and the hooks of each as HF computes them after loading it."""
    import gguf
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM, GPT2LMHeadModel

    directory = os.path.join(OUT, "gpt2-tiny")
    model = GPT2LMHeadModel.from_pretrained(directory, attn_implementation="eager").eval()
    golden = load_file(os.path.join(directory, "golden.safetensors"))
    ids = golden["tokens"].tolist()
    for file, file_type, golden_file in [("gpt2-tiny.f32.gguf", gguf.LlamaFileType.ALL_F32, None),
                                         ("gpt2-tiny.q8_0.gguf", gguf.LlamaFileType.MOSTLY_Q8_0, "golden.q8_0.safetensors")]:
        write_gpt2_gguf(directory, model, file, file_type)
        # The weights come from the GGUF; the config is given, because transformers 5.23 reads
        # gpt2.context_length into n_ctx and leaves n_positions (the size of wpe) at 1024.
        loaded = AutoModelForCausalLM.from_pretrained(directory, gguf_file=file, config=model.config,
                                                      attn_implementation="eager", dtype=torch.float32).eval()
        acts = gpt2_hooks(loaded, ids)
        assert set(acts) == set(golden) - {"tokens"}
        if golden_file is None:  # F32 in, F32 out: the safetensors model's activations, bit for bit
            for name, t in acts.items():
                assert torch.equal(t, golden[name]), name
        else:
            write_golden(directory, ids, acts, PROMPT, file=golden_file)
            worst = max(((acts[n] - golden[n]).abs().max() / golden[n].abs().max()).item()
                        for n in acts if "attn_scores" not in n)
            print(f"{golden_file}: worst |Q8_0 − F32| / maxabs over the hooks {worst:.2e}")
        print(f"{file}: {os.path.getsize(os.path.join(directory, file))} bytes")


def make_llama() -> None:
    from transformers import LlamaConfig, LlamaForCausalLM

    directory = os.path.join(OUT, "llama-tiny")
    os.makedirs(directory, exist_ok=True)
    torch.manual_seed(5678)
    from tokenizers import ByteLevelBPETokenizer

    tok_files = [os.path.join(OUT, "gpt2-tiny", f) for f in ("vocab.json", "merges.txt")]
    for f in tok_files:
        shutil.copy(f, directory)
    tok = ByteLevelBPETokenizer(*tok_files)
    cfg = LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                      rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=True,
                      attn_implementation="eager")
    model = LlamaForCausalLM(cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.add_(torch.randn_like(p) * 0.2)
            else:
                p.normal_(0, 0.3 if "embed" in name else 0.15)
    model.save_pretrained(directory, max_shard_size="100KB")
    assert os.path.exists(os.path.join(directory, "model.safetensors.index.json"))
    ids = tok.encode(PROMPT).ids
    cap = hc.Capture(model)
    with torch.no_grad():
        acts = cap.run(ids)
        cap.check_consistency(acts)
    write_golden(directory, ids, acts, PROMPT)
    print(f"llama-tiny: {len(ids)} tokens; shards "
          f"{sorted(f for f in os.listdir(directory) if f.startswith('model-'))}")


def main() -> None:
    hc.setup_torch(1)
    make_gpt2()
    make_gpt2_gguf()
    make_llama()
    with open(os.path.join(OUT, "gpt2-tiny", "config.json")) as f:
        assert json.load(f)["model_type"] == "gpt2"


if __name__ == "__main__":
    main()
