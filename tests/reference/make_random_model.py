#!/usr/bin/env python3
"""Writes a random DeepSeek-V3-style model (HF layout) and a token file, to test deepseek_v3_ref.py in isolation.

  /usr/bin/python3 tests/reference/make_random_model.py --out DIR [--seed S] [--std 0.02] [--bias-std 0.05]
        [--rows B --seq-len T] [--q-lora-rank 0 (= null, single q_proj)] [--hidden-size ...] ...

DIR gets config.json, model.safetensors (all F32: matrices ~ N(0, std); norm weights = 1 + N(0, norm-noise);
routing biases ~ N(0, bias-std), non-zero) and tokens.bin (raw LE int32, B rows of T+1 uniform random tokens).
"""

import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deepseek_v3_ref import Config, write_safetensors  # noqa: E402

# A small config that satisfies spec §1.4 (group-limited routing actually matters: K < experts in kept groups).
TINY = dict(
    vocab_size=37, hidden_size=16, intermediate_size=24, moe_intermediate_size=8,
    num_hidden_layers=3, first_k_dense_replace=1, num_attention_heads=2, num_key_value_heads=2,
    q_lora_rank=12, kv_lora_rank=8, qk_nope_head_dim=6, qk_rope_head_dim=4, v_head_dim=5,
    n_routed_experts=8, n_shared_experts=1, num_experts_per_tok=3, n_group=4, topk_group=2,
    norm_topk_prob=True, routed_scaling_factor=2.5, rms_norm_eps=1e-6, rope_theta=10000.0,
)


def hf_config(arch):
    cfg = {"architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3"}
    cfg.update(arch)
    cfg.update({"hidden_act": "silu", "max_position_embeddings": 4096, "rope_scaling": None,
                "rope_interleave": True, "attention_bias": False, "attention_dropout": 0.0,
                "tie_word_embeddings": False, "initializer_range": 0.02, "bos_token_id": 0, "eos_token_id": 1,
                "torch_dtype": "float32", "scoring_func": "sigmoid", "topk_method": "noaux_tc"})
    return cfg


def random_weights(cfg, std=0.02, bias_std=0.05, norm_noise=0.1, seed=0):
    """{HF name: float32 tensor} for every tensor of spec §9.2."""
    c = Config(cfg)
    g = torch.Generator().manual_seed(seed)
    H, nh, dq = c.hidden_size, c.num_attention_heads, c.qk_head_dim
    out = {}

    def mat(name, *shape):
        out[name] = torch.randn(*shape, generator=g) * std

    def norm(name, n):
        out[name] = 1.0 + norm_noise * torch.randn(n, generator=g)

    def swiglu(prefix, inter):
        mat(prefix + "gate_proj.weight", inter, H)
        mat(prefix + "up_proj.weight", inter, H)
        mat(prefix + "down_proj.weight", H, inter)

    mat("model.embed_tokens.weight", c.vocab_size, H)
    for l in range(c.num_hidden_layers):
        p = f"model.layers.{l}."
        norm(p + "input_layernorm.weight", H)
        if c.q_lora_rank:
            mat(p + "self_attn.q_a_proj.weight", c.q_lora_rank, H)
            norm(p + "self_attn.q_a_layernorm.weight", c.q_lora_rank)
            mat(p + "self_attn.q_b_proj.weight", nh * dq, c.q_lora_rank)
        else:
            mat(p + "self_attn.q_proj.weight", nh * dq, H)
        mat(p + "self_attn.kv_a_proj_with_mqa.weight", c.kv_lora_rank + c.qk_rope_head_dim, H)
        norm(p + "self_attn.kv_a_layernorm.weight", c.kv_lora_rank)
        mat(p + "self_attn.kv_b_proj.weight", nh * (c.qk_nope_head_dim + c.v_head_dim), c.kv_lora_rank)
        mat(p + "self_attn.o_proj.weight", H, nh * c.v_head_dim)
        norm(p + "post_attention_layernorm.weight", H)
        if l < c.first_k_dense_replace:
            swiglu(p + "mlp.", c.intermediate_size)
        else:
            mat(p + "mlp.gate.weight", c.n_routed_experts, H)
            out[p + "mlp.gate.e_score_correction_bias"] = torch.randn(c.n_routed_experts, generator=g) * bias_std
            for j in range(c.n_routed_experts):
                swiglu(p + f"mlp.experts.{j}.", c.moe_intermediate_size)
            if c.n_shared_experts:
                swiglu(p + "mlp.shared_experts.", c.moe_intermediate_size * c.n_shared_experts)
    norm("model.norm.weight", H)
    if not c.tie_word_embeddings:
        mat("lm_head.weight", c.vocab_size, H)
    return out


def write_model(out_dir, arch, rows=2, seq_len=8, std=0.02, bias_std=0.05, norm_noise=0.1, seed=0):
    os.makedirs(out_dir, exist_ok=True)
    cfg = hf_config(arch)
    with open(os.path.join(out_dir, "config.json"), "w") as fh:
        json.dump(cfg, fh, indent=2)
    write_safetensors(os.path.join(out_dir, "model.safetensors"),
                      random_weights(cfg, std, bias_std, norm_noise, seed))
    rng = np.random.default_rng(seed + 1)
    tokens = rng.integers(0, cfg["vocab_size"], size=(rows, seq_len + 1), dtype=np.int32)
    tokens.astype("<i4").tofile(os.path.join(out_dir, "tokens.bin"))
    return cfg


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--std", type=float, default=0.02, help="std of all matrices")
    ap.add_argument("--bias-std", type=float, default=0.05, help="std of e_score_correction_bias")
    ap.add_argument("--norm-noise", type=float, default=0.1, help="norm weights = 1 + N(0, norm_noise)")
    ap.add_argument("--rows", type=int, default=2, help="rows (sequences) in tokens.bin")
    ap.add_argument("--seq-len", type=int, default=8, help="T; each row holds T+1 tokens")
    for k, v in TINY.items():  # every architecture field can be overridden, e.g. --n-routed-experts 16
        typ = (lambda s: s.lower() in ("1", "true", "yes")) if isinstance(v, bool) else type(v)
        ap.add_argument("--" + k.replace("_", "-"), type=typ, default=v)
    args = ap.parse_args()
    arch = {k: getattr(args, k) for k in TINY}
    if not arch["q_lora_rank"]:
        arch["q_lora_rank"] = None  # null -> single q_proj
    write_model(args.out, arch, args.rows, args.seq_len, args.std, args.bias_std, args.norm_noise, args.seed)
    print(f"wrote {args.out}/config.json, model.safetensors, tokens.bin ({args.rows} x {args.seq_len + 1})")


if __name__ == "__main__":
    main()
