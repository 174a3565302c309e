#!/usr/bin/env python3
"""Independent PyTorch reference of the DeepSeek-V3 decoder (forward + autograd backward).

Written from /work/shared/spec/deepseek-v3.md (the contract), NOT from the Java code, to cross-check
SparkSeek's loss, expert loads and gradients. Only torch, numpy and the standard library are used.

Usage:
  /usr/bin/python3 tests/reference/deepseek_v3_ref.py --model DIR --tokens FILE --seq-len T
        [--alpha A] [--dtype float64|float32] [--max-rows N] [--json] [--grad-out GRADS.safetensors]

  DIR     HF-layout model dir: config.json + model.safetensors (or model.safetensors.index.json + shards).
  FILE    raw little-endian int32, rows of T+1 tokens; inputs = row[:T], targets = row[1:].

Choices (spec sections in brackets):
  * Arithmetic in float64 by default (--dtype float32 optional); everything, incl. the router logits and the
    sigmoid, runs in that dtype. RoPE angles pos*theta^(-2i/dr) are computed in float64, then cast.
  * RMSNorm: y = w * x * rsqrt(mean(x^2) + eps); eps = rms_norm_eps for input/post-attention/final norms,
    always 1e-6 for q_a_layernorm / kv_a_layernorm (HF behaviour) [§1.4, §2].
  * MLA [§3.2]: q LoRA (q_a_proj -> q_a_layernorm -> q_b_proj), or a single q_proj if q_lora_rank is null/0.
    RoPE = interleaved adjacent pairs (x[2i], x[2i+1]) on the rope slice, theta_i = rope_theta^(-2i/dr),
    positions 0..T-1 inside each row [§3.3]. Softmax scale (dn+dr)^-1/2, no YaRN: a non-null rope_scaling is
    rejected [§3.4, §3.5]. Causal mask with -inf.
  * Routing [§4.2]: s = sigmoid(u . W_gate^T); c = s + e_score_correction_bias (selection only); group score =
    sum of the 2 largest c in each contiguous group; keep topk_group groups; excluded experts masked with -inf;
    top-K over the masked c. Gate weights g_i = s_i / sum_{j in S} s_j (no epsilon; only if norm_topk_prob)
    times routed_scaling_factor. Shared experts always on, no token dropping.
  * Selection is computed under torch.no_grad (non-differentiable); the gate weights keep their gradient
    through the sigmoid. The bias is a buffer and gets no gradient.
  * Tie-breaking (spec §14.4 leaves it open): in both the group and the expert top-k, on exactly equal scores
    the LOWER index wins (stable sort).
  * Loss: mean next-token cross-entropy over all B*T positions (no ignore_index) [§2.4].
  * --alpha A > 0 adds the complementary sequence-wise balance loss [§6.2]: per sequence,
    f_i = E/(K*T) * #tokens whose ACTUAL selected set (bias- and group-limited) contains i (a constant, no grad),
    s'_{i,t} = s_{i,t} / sum_{j=1..E} s_{j,t} (all experts), P_i = mean_t s'_{i,t}, L = A * sum_i f_i P_i;
    averaged over the B sequences of the batch and summed over MoE layers. (Spec §14.1 leaves open whether f
    uses the actual set or the unbiased top-K of s; we use the actual set.)
  * expert_load: per MoE layer, number of tokens (over all B*T) routed to each routed expert.
  * --grad-out: gradient of the total loss w.r.t. every parameter, F32, under its HF name (never the bias).
    If tie_word_embeddings is true there is no lm_head.weight; its gradient is folded into the embedding.
"""

import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import skip_init

# ----------------------------------------------------------------------------------------------------------
# safetensors [§9.1]: 8-byte LE header length, JSON header, contiguous little-endian row-major data.
# ----------------------------------------------------------------------------------------------------------

_NP_DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I32": "<i4", "I64": "<i8", "BF16": "<u2"}


def read_safetensors(path):
    """Returns {name: torch tensor}; BF16 and F16 are widened to float32."""
    with open(path, "rb") as fh:
        data = fh.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = info["dtype"]
        if dt not in _NP_DTYPES:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {dt}")
        begin, end = info["data_offsets"]
        arr = np.frombuffer(data, dtype=_NP_DTYPES[dt], count=(end - begin) // np.dtype(_NP_DTYPES[dt]).itemsize,
                            offset=base + begin)
        if dt == "BF16":  # bf16 bits are the top half of an f32
            arr = (arr.astype("<u4") << 16).view("<f4")
        elif dt == "F16":
            arr = arr.astype("<f4")
        out[name] = torch.from_numpy(arr.reshape(info["shape"]).copy())
    return out


def write_safetensors(path, tensors):
    """Writes every tensor as F32, names sorted, header padded with spaces to a multiple of 8."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().to(torch.float32).contiguous()
        b = t.numpy().astype("<f4", copy=False).tobytes()  # C order; 0-d tensors keep shape []
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(hb)))
        fh.write(hb)
        for b in blobs:
            fh.write(b)


def read_model_weights(model_dir):
    single = os.path.join(model_dir, "model.safetensors")
    if os.path.exists(single):
        return read_safetensors(single)
    with open(os.path.join(model_dir, "model.safetensors.index.json")) as fh:
        index = json.load(fh)
    out = {}
    for shard in sorted(set(index["weight_map"].values())):
        out.update(read_safetensors(os.path.join(model_dir, shard)))
    return out


# ----------------------------------------------------------------------------------------------------------
# Configuration [§1.1]. Missing keys take HF DeepseekV3Config defaults (as from_pretrained would).
# ----------------------------------------------------------------------------------------------------------

HF_DEFAULTS = dict(
    vocab_size=129280, hidden_size=7168, intermediate_size=18432, moe_intermediate_size=2048,
    num_hidden_layers=61, num_attention_heads=128, num_key_value_heads=128, n_shared_experts=1,
    n_routed_experts=256, routed_scaling_factor=2.5, kv_lora_rank=512, q_lora_rank=1536, qk_rope_head_dim=64,
    v_head_dim=128, qk_nope_head_dim=128, n_group=8, topk_group=4, num_experts_per_tok=8,
    first_k_dense_replace=3, norm_topk_prob=True, rms_norm_eps=1e-6, rope_theta=10000.0, rope_scaling=None,
    tie_word_embeddings=False, scoring_func="sigmoid", hidden_act="silu",
)


class Config:
    def __init__(self, d):
        merged = dict(HF_DEFAULTS)
        merged.update(d)
        for k, v in merged.items():
            setattr(self, k, v)
        if not self.q_lora_rank:  # null or 0 -> single q_proj
            self.q_lora_rank = None
        self.qk_head_dim = self.qk_nope_head_dim + self.qk_rope_head_dim
        # rope_parameters (transformers v5 style) may carry rope_theta / rope_type.
        rp = merged.get("rope_parameters") or {}
        if "rope_theta" in rp:
            self.rope_theta = rp["rope_theta"]
        if self.rope_scaling or rp.get("rope_type", "default") not in ("default", None):
            raise ValueError("rope_scaling / YaRN is not supported by this reference (spec §3.5 recommendation)")
        if self.scoring_func != "sigmoid" or self.hidden_act != "silu":
            raise ValueError("only scoring_func=sigmoid and hidden_act=silu are supported")
        if self.num_key_value_heads != self.num_attention_heads:
            raise ValueError("num_key_value_heads must equal num_attention_heads (spec §1.4)")
        E, G = self.n_routed_experts, self.n_group
        if E % G or E // G < 2:
            raise ValueError("n_routed_experts must be a multiple of n_group with >= 2 experts per group (§1.4)")
        if self.num_experts_per_tok > self.topk_group * (E // G):
            raise ValueError("num_experts_per_tok > topk_group * experts_per_group (spec §1.4)")
        if self.qk_rope_head_dim % 2:
            raise ValueError("qk_rope_head_dim must be even")

    @staticmethod
    def load(model_dir):
        with open(os.path.join(model_dir, "config.json")) as fh:
            return Config(json.load(fh))


# ----------------------------------------------------------------------------------------------------------
# Building blocks
# ----------------------------------------------------------------------------------------------------------

def Linear(n_in, n_out, dtype):
    """Bias-free linear, y = x W^T with W [out, in]; uninitialised (weights are loaded) [§0.1]."""
    return skip_init(nn.Linear, n_in, n_out, bias=False, dtype=dtype)


class RMSNorm(nn.Module):
    """y = w * x * rsqrt(mean(x^2) + eps) [§2]."""

    def __init__(self, n, eps, dtype):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n, dtype=dtype))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


class SwiGLU(nn.Module):
    """down_proj(SiLU(gate_proj(x)) * up_proj(x)) — dense MLP, routed expert and shared expert [§2]."""

    def __init__(self, hidden, inter, dtype):
        super().__init__()
        self.gate_proj = Linear(hidden, inter, dtype)
        self.up_proj = Linear(hidden, inter, dtype)
        self.down_proj = Linear(inter, hidden, dtype)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


def rope_interleaved(x, theta):
    """Interleaved-pair RoPE [§3.3] on x [B, T, heads, dr]; position of row t is t (0..T-1).

    Pair i = (x[2i], x[2i+1]) is rotated by angle t * theta^(-2i/dr):
      a' = a cos - b sin,  b' = a sin + b cos,  written back at positions 2i, 2i+1.
    """
    T, dr = x.shape[1], x.shape[-1]
    inv_freq = theta ** (-torch.arange(0, dr, 2, dtype=torch.float64) / dr)  # [dr/2]
    angle = torch.arange(T, dtype=torch.float64)[:, None] * inv_freq[None, :]  # [T, dr/2]
    cos = angle.cos().to(x.dtype)[None, :, None, :]
    sin = angle.sin().to(x.dtype)[None, :, None, :]
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1).flatten(-2)


# ----------------------------------------------------------------------------------------------------------
# Multi-head Latent Attention [§3]
# ----------------------------------------------------------------------------------------------------------

class MLA(nn.Module):
    def __init__(self, cfg, dtype):
        super().__init__()
        H, nh = cfg.hidden_size, cfg.num_attention_heads
        self.nh, self.dn, self.dr, self.dv = nh, cfg.qk_nope_head_dim, cfg.qk_rope_head_dim, cfg.v_head_dim
        self.rkv, self.theta = cfg.kv_lora_rank, cfg.rope_theta
        dq = self.dn + self.dr
        self.scale = dq ** -0.5  # [§3.4], no YaRN mscale
        if cfg.q_lora_rank:
            self.q_a_proj = Linear(H, cfg.q_lora_rank, dtype)
            self.q_a_layernorm = RMSNorm(cfg.q_lora_rank, 1e-6, dtype)  # always 1e-6 [§1.4]
            self.q_b_proj = Linear(cfg.q_lora_rank, nh * dq, dtype)
        else:
            self.q_proj = Linear(H, nh * dq, dtype)
        self.kv_a_proj_with_mqa = Linear(H, self.rkv + self.dr, dtype)
        self.kv_a_layernorm = RMSNorm(self.rkv, 1e-6, dtype)
        self.kv_b_proj = Linear(self.rkv, nh * (self.dn + self.dv), dtype)
        self.o_proj = Linear(nh * self.dv, H, dtype)

    def forward(self, x):  # x [B, T, H]
        B, T, _ = x.shape
        nh, dn, dr, dv = self.nh, self.dn, self.dr, self.dv
        # 1. query path
        if hasattr(self, "q_proj"):
            q = self.q_proj(x)
        else:
            q = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(x)))
        q = q.view(B, T, nh, dn + dr)
        q_nope, q_pe = q[..., :dn], q[..., dn:]
        # 2. kv path: first rkv columns = c_KV, last dr = shared k_pe (not normalized)
        kv = self.kv_a_proj_with_mqa(x)
        c_kv, k_pe = kv[..., :self.rkv], kv[..., self.rkv:]
        kvb = self.kv_b_proj(self.kv_a_layernorm(c_kv)).view(B, T, nh, dn + dv)
        k_nope, v = kvb[..., :dn], kvb[..., dn:]
        # 3. RoPE on q_pe (per head) and on the single shared k_pe
        q_pe = rope_interleaved(q_pe, self.theta)
        k_pe = rope_interleaved(k_pe.view(B, T, 1, dr), self.theta).expand(B, T, nh, dr)
        # 4. per-head q, k, v  -> [B, nh, T, d]
        qh = torch.cat((q_nope, q_pe), dim=-1).transpose(1, 2)
        kh = torch.cat((k_nope, k_pe), dim=-1).transpose(1, 2)
        vh = v.transpose(1, 2)
        # 5. causal softmax attention
        scores = (qh @ kh.transpose(-1, -2)) * self.scale
        future = torch.ones(T, T, dtype=torch.bool).triu(1)
        probs = scores.masked_fill(future, float("-inf")).softmax(dim=-1)
        # 6. heads concatenated in head order -> o_proj
        o = (probs @ vh).transpose(1, 2).reshape(B, T, nh * dv)
        return self.o_proj(o)


# ----------------------------------------------------------------------------------------------------------
# DeepSeekMoE [§4]
# ----------------------------------------------------------------------------------------------------------

def topk_lower_index_first(x, k):
    """Indices of the k largest entries along the last dim; on exact ties the lower index comes first."""
    return torch.sort(-x, dim=-1, stable=True).indices[..., :k]


@torch.no_grad()
def select_experts(c, n_group, topk_group, top_k):
    """Group-limited top-k on the biased scores c [N, E] [§4.2 steps 4-5]; returns indices [N, K]."""
    N, E = c.shape
    group_scores = c.view(N, n_group, E // n_group).topk(2, dim=-1).values.sum(-1)  # top-2 sum per group
    keep_groups = topk_lower_index_first(group_scores, topk_group)  # [N, Gk]
    group_mask = torch.zeros(N, n_group, dtype=torch.bool).scatter_(1, keep_groups, True)
    expert_mask = group_mask.repeat_interleave(E // n_group, dim=1)  # contiguous groups
    masked = c.masked_fill(~expert_mask, float("-inf"))  # -inf, not HF's 0.0
    return topk_lower_index_first(masked, top_k)


class Router(nn.Module):
    """HF `mlp.gate`: weight [E, H] + e_score_correction_bias buffer [E]."""

    def __init__(self, cfg, dtype):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(cfg.n_routed_experts, cfg.hidden_size, dtype=dtype))
        self.register_buffer("e_score_correction_bias", torch.zeros(cfg.n_routed_experts, dtype=dtype))
        self.n_group, self.topk_group, self.top_k = cfg.n_group, cfg.topk_group, cfg.num_experts_per_tok
        self.norm_topk_prob, self.scaling = cfg.norm_topk_prob, cfg.routed_scaling_factor

    def forward(self, u):  # u [N, H]
        s = torch.sigmoid(F.linear(u, self.weight))  # affinities [N, E]
        idx = select_experts(s.detach() + self.e_score_correction_bias, self.n_group, self.topk_group, self.top_k)
        w = s.gather(1, idx)  # unbiased affinities of the selected experts (keeps grad)
        if self.norm_topk_prob:
            w = w / w.sum(-1, keepdim=True)
        return idx, w * self.scaling, s


class MoE(nn.Module):
    def __init__(self, cfg, dtype):
        super().__init__()
        self.gate = Router(cfg, dtype)
        self.experts = nn.ModuleList(SwiGLU(cfg.hidden_size, cfg.moe_intermediate_size, dtype)
                                     for _ in range(cfg.n_routed_experts))
        if cfg.n_shared_experts:
            self.shared_experts = SwiGLU(cfg.hidden_size, cfg.moe_intermediate_size * cfg.n_shared_experts, dtype)
        # filled by forward:
        self.expert_load = None  # [E] int64, tokens per routed expert over the batch
        self.balance_term = None  # scalar: mean over sequences of sum_i f_i P_i  [§6.2], without alpha

    def forward(self, x):  # x [B, T, H]
        B, T, H = x.shape
        E, K = len(self.experts), self.gate.top_k
        u = x.reshape(B * T, H)
        idx, w, s = self.gate(u)
        y = torch.zeros_like(u)
        for j, expert in enumerate(self.experts):
            tok, slot = torch.nonzero(idx == j, as_tuple=True)
            if tok.numel():
                y = y.index_add(0, tok, w[tok, slot].unsqueeze(-1) * expert(u[tok]))
        if hasattr(self, "shared_experts"):
            y = y + self.shared_experts(u)

        # statistics: load and sequence-wise balance term (f from the actual selection, constant)
        onehot = torch.zeros(B * T, E, dtype=s.dtype).scatter_(1, idx, 1.0)  # [B*T, E]
        self.expert_load = onehot.sum(0).round().long()
        f = onehot.view(B, T, E).sum(1) * (E / (K * T))  # [B, E], no grad
        P = (s / s.sum(-1, keepdim=True)).view(B, T, E).mean(1)  # [B, E]
        self.balance_term = (f * P).sum(-1).mean()
        return y.view(B, T, H)


# ----------------------------------------------------------------------------------------------------------
# Decoder [§2]
# ----------------------------------------------------------------------------------------------------------

class DecoderLayer(nn.Module):
    def __init__(self, cfg, layer_idx, dtype):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps, dtype)
        self.self_attn = MLA(cfg, dtype)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps, dtype)
        if layer_idx < cfg.first_k_dense_replace:
            self.mlp = SwiGLU(cfg.hidden_size, cfg.intermediate_size, dtype)
        else:
            self.mlp = MoE(cfg, dtype)

    def forward(self, h):
        h = h + self.self_attn(self.input_layernorm(h))
        return h + self.mlp(self.post_attention_layernorm(h))


class DeepseekV3Model(nn.Module):
    def __init__(self, cfg, dtype):
        super().__init__()
        self.embed_tokens = skip_init(nn.Embedding, cfg.vocab_size, cfg.hidden_size, dtype=dtype)
        self.layers = nn.ModuleList(DecoderLayer(cfg, i, dtype) for i in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps, dtype)

    def forward(self, ids):
        h = self.embed_tokens(ids)  # no sqrt(H) scaling
        for layer in self.layers:
            h = layer(h)
        return self.norm(h)


class DeepseekV3ForCausalLM(nn.Module):
    def __init__(self, cfg, dtype=torch.float64):
        super().__init__()
        self.cfg = cfg
        self.model = DeepseekV3Model(cfg, dtype)
        if not cfg.tie_word_embeddings:
            self.lm_head = Linear(cfg.hidden_size, cfg.vocab_size, dtype)

    def logits(self, ids):
        z = self.model(ids)
        w = self.model.embed_tokens.weight if self.cfg.tie_word_embeddings else self.lm_head.weight
        return F.linear(z, w)

    def moe_layers(self):
        return {f"model.layers.{i}.mlp": l.mlp for i, l in enumerate(self.model.layers) if isinstance(l.mlp, MoE)}

    def loss(self, inputs, targets, alpha=0.0):
        """Returns (total loss, ce loss). CE = mean over all B*T positions; + alpha * sum_layers L_Bal [§6.2]."""
        logits = self.logits(inputs)
        ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        total = ce
        if alpha:
            total = ce + alpha * sum(m.balance_term for m in self.moe_layers().values())
        return total, ce

    def load_hf_weights(self, tensors):
        """Loads HF-named tensors (strict: every parameter and bias buffer must be present, nothing extra)."""
        state = dict(tensors)
        if self.cfg.tie_word_embeddings:
            state.pop("lm_head.weight", None)  # tied: the head is the embedding
        own = self.state_dict()
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if missing or unexpected:
            raise ValueError(f"checkpoint mismatch: missing={missing[:10]} unexpected={unexpected[:10]}")
        for k, v in state.items():
            if tuple(v.shape) != tuple(own[k].shape):
                raise ValueError(f"{k}: shape {tuple(v.shape)} != expected {tuple(own[k].shape)}")
        dtype = next(self.parameters()).dtype
        self.load_state_dict({k: v.to(dtype) for k, v in state.items()}, strict=True)


def load_model(model_dir, dtype=torch.float64):
    cfg = Config.load(model_dir)
    model = DeepseekV3ForCausalLM(cfg, dtype)
    model.load_hf_weights(read_model_weights(model_dir))
    return model


def read_tokens(path, seq_len, vocab_size=None, max_rows=None):
    """Raw LE int32, rows of seq_len+1 tokens -> (inputs [B, T], targets [B, T]) as int64."""
    raw = np.fromfile(path, dtype="<i4")
    row = seq_len + 1
    if raw.size == 0 or raw.size % row:
        raise ValueError(f"{path}: {raw.size} tokens is not a positive multiple of seq_len+1 = {row}")
    rows = torch.from_numpy(raw.reshape(-1, row).astype(np.int64))
    if max_rows:
        rows = rows[:max_rows]
    if vocab_size is not None and (rows.min() < 0 or rows.max() >= vocab_size):
        raise ValueError(f"{path}: token id out of range [0, {vocab_size})")
    return rows[:, :-1].contiguous(), rows[:, 1:].contiguous()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="HF-layout model dir (config.json + model.safetensors)")
    ap.add_argument("--tokens", required=True, help="raw little-endian int32 file, rows of seq_len+1 tokens")
    ap.add_argument("--seq-len", type=int, required=True, help="T (each row holds T+1 tokens)")
    ap.add_argument("--alpha", type=float, default=0.0, help="sequence-wise balance loss weight (spec §6.2)")
    ap.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    ap.add_argument("--max-rows", type=int, default=None, help="use only the first N rows")
    ap.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")
    ap.add_argument("--grad-out", default=None, help="write d loss / d parameter (F32, HF names) here")
    args = ap.parse_args(argv)

    t0 = time.time()
    dtype = getattr(torch, args.dtype)
    model = load_model(args.model, dtype)
    inputs, targets = read_tokens(args.tokens, args.seq_len, model.cfg.vocab_size, args.max_rows)

    with torch.set_grad_enabled(args.grad_out is not None):
        loss, ce = model.loss(inputs, targets, args.alpha)
    if args.grad_out:
        loss.backward()
        grads = {name: (p.grad if p.grad is not None else torch.zeros_like(p))
                 for name, p in model.named_parameters()}
        write_safetensors(args.grad_out, grads)

    result = {
        "loss": loss.item(),
        "ce_loss": ce.item(),
        "tokens": inputs.numel(),
        "perplexity": math.exp(ce.item()),
        "expert_load": {name: m.expert_load.tolist() for name, m in model.moe_layers().items()},
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"loss {result['loss']:.10g}  ce {result['ce_loss']:.10g}  ppl {result['perplexity']:.6g}  "
              f"tokens {result['tokens']}  ({time.time() - t0:.2f}s, {args.dtype})")
        for name, load in result["expert_load"].items():
            print(f"  {name} load {load}")
        if args.grad_out:
            print(f"  gradients written to {args.grad_out}")


if __name__ == "__main__":
    main()
