#!/usr/bin/env python3
"""Self-test of deepseek_v3_ref.py (run: /usr/bin/python3 tests/reference/selftest.py [--quick]).

(a) MoE forward, expert load and balance term vs a brute-force per-token, per-expert loop (plain Python math).
(b) hand-made routing cases: group limitation, -inf masking with all allowed biased scores negative,
    bias used only for selection, normalization and routed_scaling_factor, tie-breaking, gate gradient (§7).
(c) central finite differences of the whole-model loss (CE + alpha * balance) w.r.t. every parameter element,
    float64, q_lora_rank set and null, dense + MoE layers, non-zero routing biases.
(d) RoPE: interleaved rotation == HF de-interleave + rotate-half, permuted by [0,2,4,6,1,3,5,7] (spec §15.4).
(e) MLA vs a per-position, per-head loop with complex-number RoPE (official-style formulation).
(f) safetensors reader (F32/BF16/F16/I32/I64) and writer; end-to-end CLI (--json, --grad-out) on a random model.
Prints `N passed, M failed`; exit status 1 on any failure.
"""

import cmath
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import deepseek_v3_ref as ref  # noqa: E402
from make_random_model import TINY, hf_config, random_weights, write_model  # noqa: E402

PASSED, FAILED = [], []


def check(name, ok, detail=""):
    (PASSED if ok else FAILED).append(name)
    print(f"{'PASS' if ok else 'FAIL'}  {name}" + (f"  ({detail})" if detail else ""))


def max_abs(a, b):
    return (torch.as_tensor(a, dtype=torch.float64) - torch.as_tensor(b, dtype=torch.float64)).abs().max().item()


def build(arch, seed=0, std=0.3, bias_std=0.2, dtype=torch.float64):
    cfg = hf_config(arch)
    model = ref.DeepseekV3ForCausalLM(ref.Config(cfg), dtype)
    model.load_hf_weights(random_weights(cfg, std=std, bias_std=bias_std, norm_noise=0.2, seed=seed))
    return model


# ----------------------------------------------------------------------------------------------------------
# (a) MoE vs brute force
# ----------------------------------------------------------------------------------------------------------

def _vec(t):
    return [float(v) for v in t]


def _matvec(W, x):
    return [sum(w * xi for w, xi in zip(row, x)) for row in W.tolist()]


def _swiglu(m, x):
    a, b = _matvec(m.gate_proj.weight, x), _matvec(m.up_proj.weight, x)
    h = [ai / (1.0 + math.exp(-ai)) * bi for ai, bi in zip(a, b)]
    return _matvec(m.down_proj.weight, h)


def brute_moe(mlp, cfg, x):
    """x [B, T, H] -> (y [B, T, H], load [E], balance term) with per-token Python loops."""
    B, T, H = x.shape
    E, G, Gk, K = cfg.n_routed_experts, cfg.n_group, cfg.topk_group, cfg.num_experts_per_tok
    per = E // G
    bias = _vec(mlp.gate.e_score_correction_bias)
    y = torch.zeros(B, T, H, dtype=torch.float64)
    load, bal = [0] * E, 0.0
    for bi in range(B):
        counts, p_sum = [0] * E, [0.0] * E
        for t in range(T):
            u = _vec(x[bi, t])
            s = [1.0 / (1.0 + math.exp(-l)) for l in _matvec(mlp.gate.weight, u)]
            c = [s[i] + bias[i] for i in range(E)]
            gscore = [sum(sorted(c[g * per:(g + 1) * per], reverse=True)[:2]) for g in range(G)]
            groups = sorted(range(G), key=lambda g: (-gscore[g], g))[:Gk]
            allowed = [i for g in groups for i in range(g * per, (g + 1) * per)]
            chosen = sorted(allowed, key=lambda i: (-c[i], i))[:K]
            denom = sum(s[i] for i in chosen) if cfg.norm_topk_prob else 1.0
            out = [0.0] * H
            for i in chosen:
                g_i = s[i] / denom * cfg.routed_scaling_factor
                out = [o + g_i * e for o, e in zip(out, _swiglu(mlp.experts[i], u))]
                counts[i] += 1
                load[i] += 1
            if cfg.n_shared_experts:
                out = [o + e for o, e in zip(out, _swiglu(mlp.shared_experts, u))]
            y[bi, t] = torch.tensor(out, dtype=torch.float64)
            p_sum = [p + si / sum(s) for p, si in zip(p_sum, s)]
        f = [E / (K * T) * n for n in counts]
        bal += sum(fi * pi / T for fi, pi in zip(f, p_sum)) / B
    return y, load, bal


def test_moe_bruteforce():
    variants = [
        ("E8 G4 Gk2 K3 norm", dict(TINY)),
        ("E12 G3 Gk1 K2 no-norm 2 shared", dict(TINY, n_routed_experts=12, n_group=3, topk_group=1,
                                                 num_experts_per_tok=2, norm_topk_prob=False, n_shared_experts=2)),
        ("E6 G1 Gk1 K4 no shared", dict(TINY, n_routed_experts=6, n_group=1, topk_group=1, num_experts_per_tok=4,
                                         n_shared_experts=0, routed_scaling_factor=1.0)),
    ]
    for name, arch in variants:
        model = build(arch, seed=3, std=0.5, bias_std=0.3)
        cfg = model.cfg
        mlp = model.model.layers[cfg.first_k_dense_replace].mlp
        x = torch.randn(2, 7, cfg.hidden_size, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
        with torch.no_grad():
            y = mlp(x)
        y_bf, load_bf, bal_bf = brute_moe(mlp, cfg, x)
        err = max_abs(y, y_bf)
        check(f"(a) MoE forward == brute force [{name}]", err < 1e-12, f"max|diff| {err:.2e}")
        check(f"(a) expert load == brute force [{name}]", mlp.expert_load.tolist() == load_bf,
              f"{mlp.expert_load.tolist()} vs {load_bf}")
        check(f"(a) balance term == brute force [{name}]", abs(mlp.balance_term.item() - bal_bf) < 1e-12,
              f"{mlp.balance_term.item():.15g} vs {bal_bf:.15g}")
        # the biases must actually matter in this test: unbiased selection differs for some token
        with torch.no_grad():
            u = x.reshape(-1, cfg.hidden_size)
            s = torch.sigmoid(u @ mlp.gate.weight.T)
            a = ref.select_experts(s + mlp.gate.e_score_correction_bias, cfg.n_group, cfg.topk_group,
                                   cfg.num_experts_per_tok).sort(-1).values
            b = ref.select_experts(s, cfg.n_group, cfg.topk_group, cfg.num_experts_per_tok).sort(-1).values
        check(f"(a) bias changes some selections [{name}]", bool((a != b).any()))


# ----------------------------------------------------------------------------------------------------------
# (b) hand-made routing cases
# ----------------------------------------------------------------------------------------------------------

def _router(s, bias, n_group, topk_group, k, norm=True, scale=2.5):
    """Router whose affinities for input u = logit(s) are exactly s (weight = identity)."""
    E = len(s)
    arch = dict(TINY, hidden_size=E, n_routed_experts=E, n_group=n_group, topk_group=topk_group,
                num_experts_per_tok=k, norm_topk_prob=norm, routed_scaling_factor=scale)
    r = ref.Router(ref.Config(arch), torch.float64)
    with torch.no_grad():
        r.weight.copy_(torch.eye(E, dtype=torch.float64))
        r.e_score_correction_bias.copy_(torch.tensor(bias, dtype=torch.float64))
    s = torch.tensor(s, dtype=torch.float64)
    u = torch.log(s / (1 - s)).unsqueeze(0)
    return r, u


def _sel(c, G, Gk, K):
    return ref.select_experts(torch.tensor([c], dtype=torch.float64), G, Gk, K)[0].tolist()


def test_routing_cases():
    # group limitation: the global top-2 is {0, 2}, but group 1 (experts 2,3) loses on the top-2 sum
    c = [0.9, 0.1, 0.85, 0.0, 0.6, 0.55, 0.2, 0.15]  # group sums 1.0, 0.85, 1.15, 0.35 -> keep groups 2, 0
    got = _sel(c, 4, 2, 2)
    check("(b) group-limited top-k picks only from the best top-2-sum groups", got == [0, 4], f"{got}")

    # all allowed biased scores negative: -inf masking keeps the choice inside the allowed group
    got = _sel([-0.1, -0.2, -0.5, -0.6], 2, 1, 2)
    check("(b) all-negative allowed scores, E4 G2 Gk1 K2 -> {0,1}", got == [0, 1], f"{got}")
    c = [-0.3, -0.1, -0.2, -0.9, -0.05, -0.8, -0.9, -0.95]  # group sums -0.3 vs -0.85; best single is expert 4
    got = _sel(c, 2, 1, 3)
    hf_zero_mask = torch.tensor(c[:4] + [0.0] * 4).topk(3).indices.tolist()
    check("(b) all-negative allowed scores, E8 G2 Gk1 K3 -> [1,2,0]", got == [1, 2, 0],
          f"{got}; HF 0.0-masking would give {sorted(hf_zero_mask)}")

    # bias only selects; weights from unbiased s, normalized over the selected K, times the scaling factor
    s, bias = [0.9, 0.2, 0.6, 0.3], [-1.0, 0.5, 0.0, 0.0]  # c = [-0.1, 0.7, 0.6, 0.3] -> {1, 2}
    r, u = _router(s, bias, 2, 2, 2, norm=True, scale=2.5)
    idx, w, _ = r(u)
    check("(b) biased selection, unbiased normalized*scaled weights",
          idx[0].tolist() == [1, 2] and max_abs(w[0], [0.2 / 0.8 * 2.5, 0.6 / 0.8 * 2.5]) < 1e-14,
          f"idx {idx[0].tolist()} w {w[0].tolist()}")
    r, u = _router(s, bias, 2, 2, 2, norm=False, scale=2.5)
    idx, w, _ = r(u)
    check("(b) norm_topk_prob=false: weights = s * scale",
          idx[0].tolist() == [1, 2] and max_abs(w[0], [0.5, 1.5]) < 1e-14, f"w {w[0].tolist()}")

    # tie-breaking: lower index first (groups and experts)
    got = _sel([0.5] * 8, 4, 2, 3)
    check("(b) exact ties -> lowest indices", got == [0, 1, 2], f"{got}")
    got = _sel([0.1, 0.1, 0.3, 0.2, 0.0, 0.0, 0.2, 0.3], 4, 1, 2)  # groups 1 and 3 tie at 0.5
    check("(b) tied group scores -> lower group", got == [2, 3], f"{got}")

    # gate-weight gradient matches spec §7: ds_k = (rho / sum_S s)(a_k - sum_i n_i a_i), dl = ds * s(1-s)
    s_list = [0.7, 0.25, 0.55, 0.4, 0.8, 0.1]
    r, u = _router(s_list, [0.0] * 6, 3, 2, 3, norm=True, scale=1.7)
    u.requires_grad_(True)
    idx, w, s = r(u)
    a = torch.tensor([0.3, -1.2, 0.8], dtype=torch.float64)
    (w[0] * a).sum().backward()
    sel = idx[0].tolist()
    sS = sum(s_list[i] for i in sel)
    n = [s_list[i] / sS for i in sel]
    dl = [0.0] * 6
    for k, i in enumerate(sel):
        ds = 1.7 / sS * (a[k].item() - sum(nj * aj for nj, aj in zip(n, a.tolist())))
        dl[i] = ds * s_list[i] * (1 - s_list[i])
    # weight = identity, so d loss / d u = d loss / d logits; d W_gate = dl^T u
    err = max(max_abs(u.grad[0], dl), max_abs(r.weight.grad, torch.outer(torch.tensor(dl, dtype=torch.float64), u[0].detach())))
    check("(b) gate gradient == spec §7 formula", err < 1e-13, f"max|diff| {err:.2e}")


# ----------------------------------------------------------------------------------------------------------
# (c) whole-model central finite differences
# ----------------------------------------------------------------------------------------------------------

GRAD_ARCH = dict(vocab_size=11, hidden_size=8, intermediate_size=10, moe_intermediate_size=4,
                 num_hidden_layers=3, first_k_dense_replace=1, num_attention_heads=2, num_key_value_heads=2,
                 q_lora_rank=6, kv_lora_rank=4, qk_nope_head_dim=4, qk_rope_head_dim=4, v_head_dim=3,
                 n_routed_experts=8, n_shared_experts=1, num_experts_per_tok=3, n_group=4, topk_group=2,
                 norm_topk_prob=True, routed_scaling_factor=2.5, rms_norm_eps=1e-6, rope_theta=10000.0)


def finite_difference_check(name, arch, alpha, B=2, T=5, eps=1e-6, atol=1e-8, rtol=1e-6, seed=1):
    model = build(arch, seed=seed, std=0.5, bias_std=0.3)
    g = torch.Generator().manual_seed(seed + 7)
    rows = torch.randint(0, arch["vocab_size"], (B, T + 1), generator=g)
    inputs, targets = rows[:, :-1], rows[:, 1:]
    loss, _ = model.loss(inputs, targets, alpha)
    loss.backward()
    loads = {k: m.expert_load.clone() for k, m in model.moe_layers().items()}
    worst, worst_name, n, max_diff = 0.0, "", 0, 0.0
    with torch.no_grad():
        for pname, p in model.named_parameters():
            flat = p.data.view(-1)
            fd = torch.empty_like(flat)
            for i in range(flat.numel()):
                orig = flat[i].item()
                flat[i] = orig + eps
                lp = model.loss(inputs, targets, alpha)[0].item()
                flat[i] = orig - eps
                lm = model.loss(inputs, targets, alpha)[0].item()
                flat[i] = orig
                fd[i] = (lp - lm) / (2 * eps)
            ag = torch.zeros_like(flat) if p.grad is None else p.grad.view(-1)  # None: expert never selected
            # pass if |fd - ag| <= atol + rtol*|ag|; FD rounding noise is ~1e-10 here
            score = ((fd - ag).abs() / (atol + rtol * ag.abs())).max().item()
            max_diff = max(max_diff, (fd - ag).abs().max().item())
            n += flat.numel()
            if score > worst:
                worst, worst_name = score, pname
        model.loss(inputs, targets, alpha)
        same_routing = all(torch.equal(loads[k], m.expert_load) for k, m in model.moe_layers().items())
    check(f"(c) central FD vs autograd, {name}: {n} parameter elements", worst <= 1.0,
          f"max|fd-autograd| {max_diff:.1e}; worst |diff|/(atol+rtol|g|) {worst:.2f} at {worst_name}")
    check(f"(c) routing unchanged after FD sweep, {name}", same_routing)
    bias_grads = [b for b, _ in model.named_buffers() if b.endswith("e_score_correction_bias")]
    check(f"(c) bias is a buffer, not a parameter, {name}",
          len(bias_grads) == len(model.moe_layers()) and
          not any(k.endswith("e_score_correction_bias") for k, _ in model.named_parameters()))


def test_gradients(quick):
    finite_difference_check("q_lora_rank=6, 1 dense + 2 MoE, alpha=0.3", GRAD_ARCH, alpha=0.3)
    if not quick:
        finite_difference_check("q_lora_rank=null, 2 MoE layers, alpha=0",
                                dict(GRAD_ARCH, q_lora_rank=None, num_hidden_layers=2, first_k_dense_replace=0),
                                alpha=0.0, seed=2)
        finite_difference_check("q_lora_rank=null, 2 dense + 1 MoE, no-norm, alpha=0.05",
                                dict(GRAD_ARCH, q_lora_rank=None, first_k_dense_replace=2, norm_topk_prob=False),
                                alpha=0.05, seed=4)


# ----------------------------------------------------------------------------------------------------------
# (d) RoPE vs the HF formulation
# ----------------------------------------------------------------------------------------------------------

def test_rope():
    dr, pos, theta = 8, 5, 10000.0
    gen = torch.Generator().manual_seed(11)
    x = torch.randn(dr, dtype=torch.float64, generator=gen)
    y = torch.randn(dr, dtype=torch.float64, generator=gen)

    def ours(v):  # position 5 = row 5 of a length-6 sequence
        seq = torch.zeros(1, pos + 1, 1, dr, dtype=torch.float64)
        seq[0, pos, 0] = v
        return ref.rope_interleaved(seq, theta)[0, pos, 0]

    def hf(v):  # de-interleave, then NeoX rotate-half with cos/sin = cat(freqs, freqs)
        inv_freq = 1.0 / (theta ** (torch.arange(0, dr, 2, dtype=torch.float64) / dr))
        emb = torch.cat((pos * inv_freq, pos * inv_freq))
        v = torch.cat((v[0::2], v[1::2]))
        rot = torch.cat((-v[dr // 2:], v[:dr // 2]))
        return v * emb.cos() + rot * emb.sin()

    perm = [0, 2, 4, 6, 1, 3, 5, 7]
    err = max_abs(ours(x)[perm], hf(x))
    check("(d) RoPE interleaved permuted by [0,2,4,6,1,3,5,7] == HF rotate-half", err < 1e-15, f"{err:.1e}")
    err = abs((ours(x) @ ours(y)).item() - (hf(x) @ hf(y)).item())
    check("(d) RoPE q.k identical to HF", err < 1e-14, f"{err:.1e}")
    # position 0 is the identity; a rotation preserves the norm
    seq = x.view(1, 1, 1, dr)
    check("(d) RoPE at position 0 is the identity", max_abs(ref.rope_interleaved(seq, theta)[0, 0, 0], x) == 0)
    check("(d) RoPE preserves the norm", abs(ours(x).norm().item() - x.norm().item()) < 1e-14)


# ----------------------------------------------------------------------------------------------------------
# (e) MLA vs per-position loops with complex RoPE
# ----------------------------------------------------------------------------------------------------------

def _rms(v, w, eps):
    r = 1.0 / math.sqrt(sum(a * a for a in v) / len(v) + eps)
    return [a * r * wi for a, wi in zip(v, _vec(w))]


def _rope_complex(v, pos, theta):
    dr, out = len(v), []
    for i in range(dr // 2):
        z = complex(v[2 * i], v[2 * i + 1]) * cmath.exp(1j * pos * theta ** (-2 * i / dr))
        out += [z.real, z.imag]
    return out


def brute_mla(att, cfg, x):
    B, T, H = x.shape
    nh, dn, dr, dv, rkv = att.nh, att.dn, att.dr, att.dv, att.rkv
    out = torch.zeros(B, T, H, dtype=torch.float64)
    for b in range(B):
        qs, ks, vs = [], [], []
        for t in range(T):
            u = _vec(x[b, t])
            if cfg.q_lora_rank:
                q = _matvec(att.q_b_proj.weight, _rms(_matvec(att.q_a_proj.weight, u), att.q_a_layernorm.weight, 1e-6))
            else:
                q = _matvec(att.q_proj.weight, u)
            kv = _matvec(att.kv_a_proj_with_mqa.weight, u)
            kvb = _matvec(att.kv_b_proj.weight, _rms(kv[:rkv], att.kv_a_layernorm.weight, 1e-6))
            k_pe = _rope_complex(kv[rkv:], t, cfg.rope_theta)
            q_h, k_h, v_h = [], [], []
            for h in range(nh):
                qh = q[h * (dn + dr):(h + 1) * (dn + dr)]
                q_h.append(qh[:dn] + _rope_complex(qh[dn:], t, cfg.rope_theta))
                kh = kvb[h * (dn + dv):(h + 1) * (dn + dv)]
                k_h.append(kh[:dn] + k_pe)
                v_h.append(kh[dn:])
            qs.append(q_h), ks.append(k_h), vs.append(v_h)
        for t in range(T):
            o = []
            for h in range(nh):
                sc = [sum(a * c for a, c in zip(qs[t][h], ks[j][h])) / math.sqrt(dn + dr) for j in range(t + 1)]
                m = max(sc)
                e = [math.exp(z - m) for z in sc]
                o += [sum(e[j] * vs[j][h][d] for j in range(t + 1)) / sum(e) for d in range(dv)]
            out[b, t] = torch.tensor(_matvec(att.o_proj.weight, o), dtype=torch.float64)
    return out


def test_mla():
    for name, arch in [("q LoRA", TINY), ("q_proj", dict(TINY, q_lora_rank=None, qk_rope_head_dim=6))]:
        model = build(arch, seed=9, std=0.4)
        att = model.model.layers[0].self_attn
        x = torch.randn(2, 6, model.cfg.hidden_size, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
        with torch.no_grad():
            y = att(x)
        err = max_abs(y, brute_mla(att, model.cfg, x))
        check(f"(e) MLA == per-position loop with complex RoPE [{name}]", err < 1e-12, f"max|diff| {err:.2e}")


# ----------------------------------------------------------------------------------------------------------
# (f) safetensors + CLI end to end
# ----------------------------------------------------------------------------------------------------------

def test_safetensors_and_cli(tmp):
    # reader: hand-built file with mixed dtypes
    f32 = np.array([[1.5, -2.0], [3.25, 0.0]], dtype="<f4")
    bf16_vals = np.array([1.0, -0.5, 3.0], dtype="<f4")
    bf16 = (bf16_vals.view("<u4") >> 16).astype("<u2")
    f16 = np.array([0.5, -1.25], dtype="<f2")
    i32 = np.array([1, -7, 2 ** 30], dtype="<i4")
    i64 = np.array([2 ** 40, -3], dtype="<i8")
    entries = [("a", "F32", f32), ("b", "BF16", bf16), ("c", "F16", f16), ("d", "I32", i32), ("e", "I64", i64)]
    header, blob = {"__metadata__": {"format": "pt"}}, b""
    for name, dt, arr in entries:
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [len(blob), len(blob) + arr.nbytes]}
        blob += arr.tobytes()
    hb = json.dumps(header).encode()
    path = os.path.join(tmp, "mixed.safetensors")
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(hb)) + hb + blob)
    t = ref.read_safetensors(path)
    ok = (np.array_equal(t["a"].numpy(), f32) and np.array_equal(t["b"].numpy(), bf16_vals)
          and np.array_equal(t["c"].numpy(), f16.astype("<f4")) and t["d"].tolist() == i32.tolist()
          and t["e"].tolist() == i64.tolist())
    check("(f) safetensors reader F32/BF16/F16/I32/I64", ok)
    # writer: strict layout rules of spec §9.1 + round trip
    src = {"x.weight": torch.randn(3, 5, dtype=torch.float64), "a.b": torch.arange(4.0), "s": torch.tensor(2.0)}
    path = os.path.join(tmp, "w.safetensors")
    ref.write_safetensors(path, src)
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    hdr = json.loads(raw[8:8 + n])
    spans = sorted(v["data_offsets"] for k, v in hdr.items() if k != "__metadata__")
    contiguous = spans[0][0] == 0 and all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    back = ref.read_safetensors(path)
    ok = (n % 8 == 0 and hdr["__metadata__"] == {"format": "pt"} and contiguous and 8 + n + spans[-1][1] == len(raw)
          and all(torch.equal(back[k], src[k].float()) for k in src))
    check("(f) safetensors writer layout + round trip", ok)

    # CLI end to end on a random model written to disk
    mdir = os.path.join(tmp, "model")
    write_model(mdir, dict(TINY), rows=3, seq_len=10, std=0.3, bias_std=0.1, seed=4)
    grads_path = os.path.join(tmp, "grads.safetensors")
    cmd = [sys.executable, os.path.join(HERE, "deepseek_v3_ref.py"), "--model", mdir, "--tokens",
           os.path.join(mdir, "tokens.bin"), "--seq-len", "10", "--alpha", "0.01", "--json", "--grad-out", grads_path]
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.time() - t0
    try:
        res = json.loads(proc.stdout)
    except ValueError:
        check("(f) CLI prints one JSON object", False, proc.stderr[-500:])
        return
    check("(f) CLI prints one JSON object with the documented keys",
          proc.returncode == 0 and set(res) == {"loss", "ce_loss", "tokens", "perplexity", "expert_load"},
          f"{elapsed:.2f}s wall")
    K = TINY["num_experts_per_tok"]
    loads_ok = (list(res["expert_load"]) == ["model.layers.1.mlp", "model.layers.2.mlp"]
                and all(sum(v) == 30 * K and len(v) == TINY["n_routed_experts"] for v in res["expert_load"].values()))
    check("(f) expert_load: one list per MoE layer, sums to B*T*K", loads_ok, f"{res['expert_load']}")
    check("(f) tokens = B*T, perplexity = exp(ce), loss > ce with alpha",
          res["tokens"] == 30 and abs(res["perplexity"] - math.exp(res["ce_loss"])) < 1e-9 * res["perplexity"]
          and res["loss"] > res["ce_loss"])
    # in-process recomputation must agree with the file
    model = ref.load_model(mdir)
    inputs, targets = ref.read_tokens(os.path.join(mdir, "tokens.bin"), 10)
    loss, ce = model.loss(inputs, targets, 0.01)
    loss.backward()
    grads = ref.read_safetensors(grads_path)
    names = {k for k, _ in model.named_parameters()}
    err = max(max_abs(grads[k], torch.zeros(p.shape) if p.grad is None else p.grad.float())
              for k, p in model.named_parameters())
    check("(f) grad file: every parameter (no bias), F32, equal to autograd",
          set(grads) == names and not any("e_score_correction_bias" in k for k in grads) and err == 0,
          f"{len(grads)} tensors")
    check("(f) CLI loss == in-process loss", abs(res["loss"] - loss.item()) == 0)
    # CE equals an explicit log-softmax average; float32 run agrees with float64 to ~1e-6
    with torch.no_grad():
        logits = model.logits(inputs)
        manual = -(logits.log_softmax(-1).gather(-1, targets.unsqueeze(-1))).mean().item()
    check("(f) CE = mean over B*T of -log p(target)", abs(manual - ce.item()) < 1e-14)
    m32 = ref.load_model(mdir, torch.float32)
    with torch.no_grad():
        l32, _ = m32.loss(inputs, targets, 0.01)
    check("(f) float32 loss ~ float64 loss", abs(l32.item() - loss.item()) < 1e-5, f"{l32.item()} vs {loss.item()}")
    # q_lora_rank: 0 is read as null (single q_proj)
    cfg = ref.Config(dict(TINY, q_lora_rank=0))
    check("(f) q_lora_rank 0 -> q_proj", cfg.q_lora_rank is None and
          "model.layers.0.self_attn.q_proj.weight" in ref.DeepseekV3ForCausalLM(cfg).state_dict())


def main():
    quick = "--quick" in sys.argv
    torch.set_num_threads(1)
    t0 = time.time()
    test_rope()
    test_routing_cases()
    test_moe_bruteforce()
    test_mla()
    with tempfile.TemporaryDirectory() as tmp:
        test_safetensors_and_cli(tmp)
    test_gradients(quick)
    print(f"{len(PASSED)} passed, {len(FAILED)} failed  ({time.time() - t0:.1f}s)")
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
