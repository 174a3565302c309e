"""A plain, idiomatic eager PyTorch baseline of the same DeepSeek-V3-style model, for speed comparison only.

Trains forward + backward + global-norm clipping + AdamW and prints tokens/s over the timed steps. Numerics follow
spec §2-§4 (MLA with q LoRA, interleaved RoPE, sigmoid group-limited routing with bias, shared expert, SwiGLU);
correctness is checked elsewhere (tests/reference). The routing bias is a buffer that is never updated here
(γ = 0; scripts/bench-vs-torch runs our trainer with --gamma 0 to match), and there is no balance loss (α = 0).

With --init DIR (an HF dir written by `scripts/sparkseek init`, loaded with tests/reference's safetensors reader)
and --tokens FILE (raw little-endian int32 rows of seq-len + 1 tokens; step s trains on rows s*batch ..
(s+1)*batch - 1), it trains exactly the model and the batches `scripts/sparkseek bench-model --init DIR --tokens
FILE` does: scripts/bench-vs-torch runs the two side by side. Without them: random init and random tokens.

With --step-gate stdin (as `bench-model --step-gate stdin`; bench/lockstep.py drives both): prints "READY" on stdout
once loaded, then before each step (warm-up and timed) reads one line from stdin and after it prints
"STEP {json}" (step, seconds, loss, rows_sum) on stdout, so that a driver can run the trainers one step at a time in
turn. After the last step it waits for the end of stdin (so that its exit does not overlap another side's timed
step), then prints the final JSON object, as without the gate.

AdamW as our optimizer (io.sparkseek.model.optim.AdamW): β 0.9/0.95, ε 1e-8, weight decay 0.1 on matrices only
(every Linear, the embedding, lm_head, the router gate; never the norm weights), constant learning rate, and the
global gradient norm clipped to 1.0.

Usage: /usr/bin/python3 bench/torch_train.py --model conf/models/small.json --threads 1 [--steps 6 --warmup 2]
       /usr/bin/python3 bench/torch_train.py --init DIR --tokens FILE --threads 1 --steps 10 --warmup 2
(for 2 threads set OMP_WAIT_POLICY=PASSIVE, see INFRA.md)
"""
import argparse, json, math, os, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
from deepseek_v3_ref import read_model_weights, read_tokens  # noqa: E402  (one safetensors reader for both)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return self.weight * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)


def rope(x, cos, sin):  # x [..., T, dr] interleaved pairs
    a, b = x[..., 0::2], x[..., 1::2]
    return torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1).flatten(-2)


class MLA(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.nh, self.dn, self.dr, self.dv = c["num_attention_heads"], c["qk_nope_head_dim"], c["qk_rope_head_dim"], c["v_head_dim"]
        self.rkv = c["kv_lora_rank"]
        H, rq, dq = c["hidden_size"], c["q_lora_rank"], self.dn + self.dr
        self.q_a_proj = nn.Linear(H, rq, bias=False)
        self.q_a_layernorm = RMSNorm(rq, 1e-6)
        self.q_b_proj = nn.Linear(rq, self.nh * dq, bias=False)
        self.kv_a_proj_with_mqa = nn.Linear(H, self.rkv + self.dr, bias=False)
        self.kv_a_layernorm = RMSNorm(self.rkv, 1e-6)
        self.kv_b_proj = nn.Linear(self.rkv, self.nh * (self.dn + self.dv), bias=False)
        self.o_proj = nn.Linear(self.nh * self.dv, H, bias=False)
        self.scale = dq ** -0.5

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        q = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(x))).view(B, T, self.nh, -1).transpose(1, 2)
        q_nope, q_pe = q.split([self.dn, self.dr], dim=-1)
        ckv, k_pe = self.kv_a_proj_with_mqa(x).split([self.rkv, self.dr], dim=-1)
        kv = self.kv_b_proj(self.kv_a_layernorm(ckv)).view(B, T, self.nh, -1).transpose(1, 2)
        k_nope, v = kv.split([self.dn, self.dv], dim=-1)
        q = torch.cat([q_nope, rope(q_pe, cos, sin)], dim=-1)
        k_pe = rope(k_pe.unsqueeze(1), cos, sin).expand(B, self.nh, T, self.dr)
        k = torch.cat([k_nope, k_pe], dim=-1)
        s = (q @ k.transpose(-1, -2)) * self.scale
        mask = torch.full((T, T), float("-inf")).triu(1)
        o = torch.softmax(s + mask, dim=-1) @ v
        return self.o_proj(o.transpose(1, 2).reshape(B, T, -1))


class MLP(nn.Module):
    def __init__(self, H, I):
        super().__init__()
        self.gate_proj = nn.Linear(H, I, bias=False)
        self.up_proj = nn.Linear(H, I, bias=False)
        self.down_proj = nn.Linear(I, H, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Gate(nn.Module):
    """Router weight [E, H] and the selection-only bias buffer (HF names: mlp.gate.weight, mlp.gate.e_score_correction_bias)."""

    def __init__(self, H, E):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(E, H))
        self.register_buffer("e_score_correction_bias", torch.zeros(E))


class MoE(nn.Module):
    def __init__(self, c):
        super().__init__()
        H, E = c["hidden_size"], c["n_routed_experts"]
        self.E, self.K, self.G, self.Gk = E, c["num_experts_per_tok"], c["n_group"], c["topk_group"]
        self.rsf = c["routed_scaling_factor"]
        self.gate = Gate(H, E)
        self.experts = nn.ModuleList(MLP(H, c["moe_intermediate_size"]) for _ in range(E))
        self.shared_experts = MLP(H, c["moe_intermediate_size"] * c["n_shared_experts"])

    def forward(self, x):
        shape = x.shape
        x = x.view(-1, shape[-1])
        s = torch.sigmoid(F.linear(x, self.gate.weight))
        with torch.no_grad():
            c = s + self.gate.e_score_correction_bias
            g = c.view(-1, self.G, self.E // self.G).topk(2, dim=-1).values.sum(-1)
            keep = torch.zeros_like(g).scatter_(1, g.topk(self.Gk, dim=-1).indices, 1.0)
            keep = keep.repeat_interleave(self.E // self.G, dim=1)
            idx = c.masked_fill(keep == 0, float("-inf")).topk(self.K, dim=-1).indices
        w = s.gather(1, idx)
        w = w / w.sum(-1, keepdim=True) * self.rsf
        y = self.shared_experts(x)
        for e in range(self.E):
            tok, slot = (idx == e).nonzero(as_tuple=True)
            if tok.numel():
                y = y.index_add(0, tok, self.experts[e](x[tok]) * w[tok, slot].unsqueeze(-1))
        return y.view(shape)


class Block(nn.Module):
    def __init__(self, c, layer):
        super().__init__()
        H, eps = c["hidden_size"], c["rms_norm_eps"]
        self.input_layernorm, self.post_attention_layernorm = RMSNorm(H, eps), RMSNorm(H, eps)
        self.self_attn = MLA(c)
        self.mlp = MLP(H, c["intermediate_size"]) if layer < c["first_k_dense_replace"] else MoE(c)

    def forward(self, h, cos, sin):
        h = h + self.self_attn(self.input_layernorm(h), cos, sin)
        return h + self.mlp(self.post_attention_layernorm(h))


class Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList(Block(c, l) for l in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        dr, theta = c["qk_rope_head_dim"], c["rope_theta"]
        self.inv_freq = theta ** (-torch.arange(0, dr, 2, dtype=torch.float64) / dr)

    def forward(self, rows):
        x, y = rows[:, :-1], rows[:, 1:]
        T = x.shape[1]
        ang = torch.arange(T, dtype=torch.float64)[:, None] * self.inv_freq[None, :]
        cos, sin = ang.cos().float(), ang.sin().float()
        h = self.embed_tokens(x)
        for layer in self.layers:
            h = layer(h, cos, sin)
        logits = self.lm_head(self.norm(h))
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def load_init(m, init_dir):
    """Loads an HF-named state (model.safetensors of `sparkseek init`) into this module's names (no "model." prefix)."""
    state = {k[len("model."):] if k.startswith("model.") else k: v for k, v in read_model_weights(init_dir).items()}
    own = m.state_dict()
    missing, extra = sorted(set(own) - set(state)), sorted(set(state) - set(own))
    if missing or extra:
        raise SystemExit(f"--init {init_dir}: tensors do not match the model of its config.json: missing {missing[:5]},"
                         f" unexpected {extra[:5]}; was it written by `scripts/sparkseek init` for this config?")
    for k, v in state.items():
        if v.shape != own[k].shape:
            raise SystemExit(f"--init {init_dir}: {k} has shape {tuple(v.shape)}, the model expects {tuple(own[k].shape)}")
    m.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)


def peak_rss_bytes():
    """VmHWM of this process (peak resident set), from /proc/self/status."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", help="HF config.json (not needed with --init, which has its own)")
    ap.add_argument("--init", help="HF model dir (config.json + model.safetensors) to start from")
    ap.add_argument("--tokens", help="raw LE int32 rows of seq-len + 1 tokens; default: random tokens")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=6, help="timed steps")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps first (they train too)")
    ap.add_argument("--seq-len", type=int, default=256)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3, help="constant learning rate")
    ap.add_argument("--step-gate", choices=("none", "stdin"), default="none",
                    help="stdin: wait for a line on stdin before each step, print 'STEP {json}' after it")
    a = ap.parse_args()
    if (a.model is None) == (a.init is None):
        raise SystemExit("give exactly one of --model CONFIG.json (random init) or --init HF_DIR")
    torch.set_num_threads(a.threads)
    if os.environ.get("OPENBLAS_NUM_THREADS") != str(a.threads):
        # OpenBLAS keeps its own pool (one thread per core by default), which set_num_threads does not limit
        print(f"torch_train: warning: OPENBLAS_NUM_THREADS is {os.environ.get('OPENBLAS_NUM_THREADS')!r}, not "
              f"{a.threads}: the GEMMs may use more threads than --threads", file=sys.stderr)
    torch.manual_seed(1)
    c = json.load(open(a.model if a.model else os.path.join(a.init, "config.json")))
    m = Model(c)
    if a.init:
        load_init(m, a.init)
    else:
        for p in m.parameters():
            if p.dim() >= 2:
                nn.init.normal_(p, std=c["initializer_range"])
    total = a.warmup + a.steps
    if a.tokens:
        inputs, targets = read_tokens(a.tokens, a.seq_len, c["vocab_size"])
        data = torch.cat([inputs, targets[:, -1:]], dim=1)
        if data.shape[0] < total * a.batch:
            raise SystemExit(f"--tokens {a.tokens}: {data.shape[0]} rows, {total} steps x batch {a.batch} need "
                             f"{total * a.batch}; write more rows or train fewer steps")
    decay = [p for p in m.parameters() if p.dim() >= 2]
    no_decay = [p for p in m.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.95), eps=1e-8)
    times, losses = [], []
    gated = a.step_gate == "stdin"
    if gated:
        print("READY", flush=True)
    for s in range(total):
        if a.tokens:
            rows = data[s * a.batch:(s + 1) * a.batch]
        else:
            rows = torch.randint(0, c["vocab_size"], (a.batch, a.seq_len + 1))
        if gated and not sys.stdin.readline():
            raise SystemExit(f"--step-gate stdin: input closed before step {s}; the driver must send one line per step")
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = m(rows)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        seconds = time.perf_counter() - t0
        if s >= a.warmup:
            times.append(seconds)
        losses.append(loss.item())
        if gated:
            print("STEP " + json.dumps({"step": s, "seconds": seconds, "loss": losses[-1],
                                        "rows_sum": int(rows.sum())}), flush=True)
    if gated:
        sys.stdin.read()   # until the driver closes the gate
    tok = a.batch * a.seq_len
    print(json.dumps({"impl": "pytorch-" + torch.__version__, "threads": a.threads,
                      "tokens_per_s": tok * len(times) / sum(times), "median_step_s": sorted(times)[len(times) // 2],
                      "median_tokens_per_s": tok / sorted(times)[len(times) // 2],
                      "final_loss": losses[-1], "losses": losses, "peak_rss_bytes": peak_rss_bytes()}))


if __name__ == "__main__":
    main()
