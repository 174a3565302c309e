#!/usr/bin/python3
"""Tables of scripts/bench-fp8-gemm from JMH's JSON results (standard library only).

usage: fp8_gemm_table.py --shapes shapes.json --gemm gemm.json [--quantize quantize.json] [--backends fp32,java,opencl]

shapes.json is what io.sparkseek.bench.GemmShapes prints: every FP8 Linear of a training step with its per-step
count and the M, N, K of its fprop, dgrad and wgrad. gemm.json / quantize.json are JMH's -rf json output of
Fp8GemmBenchmark / QuantizeBenchmark; their secondary metric "gflop" / "gbyte" (an @AuxCounters counter, per
second) is GFLOP/s / GB/s; the tables show its median over the measurement iterations. Prints Markdown tables: per thread count, one row per shape and op with GFLOP/s per
backend and the fp8-java/fp32 ratio, then a step total that weights each GEMM by how often a training step runs it.
"""
import argparse
import json
import sys

OPS = ("fprop", "dgrad", "wgrad")
LABEL = {"fp32": "fp32", "java": "fp8-java", "opencl": "fp8-opencl"}


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def secondary(entry, name):
    """Median over the measurement iterations (a shared 2-core machine has bursts of other work; the median
    ignores a disturbed iteration, JMH's mean does not); JMH's score if there are no raw samples."""
    m = entry.get("secondaryMetrics", {}).get(name)
    if m is None:
        return None
    raw = sorted(float(x) for fork in m.get("rawData", []) for x in fork)
    if not raw:
        return float(m["score"])
    h = len(raw) // 2
    return raw[h] if len(raw) % 2 else (raw[h - 1] + raw[h]) / 2


def table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    def line(r):
        return "| " + " | ".join(str(c).ljust(widths[i]) if i < 3 else str(c).rjust(widths[i])
                                 for i, c in enumerate(r)) + " |"
    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)


def fmt(x, digits=1):
    return "–" if x is None else f"{x:.{digits}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", required=True)
    ap.add_argument("--gemm", required=True)
    ap.add_argument("--quantize")
    ap.add_argument("--backends", default="fp32,java,opencl")
    args = ap.parse_args()
    backends = [b for b in args.backends.split(",") if b]
    linears = load(args.shapes)
    dims_of = {l["name"]: {op: tuple(l[op]) for op in OPS} for l in linears}

    # (threads, backend, op, dims) -> GFLOP/s; also which (shape, op) were measured, in run order.
    gf = {}
    measured = []
    threads_seen = []
    for e in load(args.gemm):
        p = e["params"]
        shape, op, backend, threads = p["shape"], p["op"], p["backend"], int(p["threads"])
        g = secondary(e, "gflop")
        if g is None or shape not in dims_of:
            continue
        dims = dims_of[shape][op]
        gf[(threads, backend, op, dims)] = g
        if (shape, op) not in measured:
            measured.append((shape, op))
        if threads not in threads_seen:
            threads_seen.append(threads)
    if not gf:
        sys.exit("no Fp8GemmBenchmark results in " + args.gemm)
    order = {l["name"]: i for i, l in enumerate(linears)}
    measured.sort(key=lambda so: (order[so[0]], OPS.index(so[1])))

    for threads in sorted(threads_seen):
        header = ["shape", "op", "M×N×K"] + [LABEL.get(b, b) + " GFLOP/s" for b in backends] + ["fp8-java/fp32"]
        rows = []
        for shape, op in measured:
            dims = dims_of[shape][op]
            vals = [gf.get((threads, b, op, dims)) for b in backends]
            j, f = gf.get((threads, "java", op, dims)), gf.get((threads, "fp32", op, dims))
            ratio = fmt(j / f, 2) if j and f else "–"
            rows.append([shape, op, "×".join(map(str, dims))] + [fmt(v) for v in vals] + [ratio])
        # Step total: every FP8 GEMM of a step (shared experts included, by their shape), weighted by how often it
        # runs: total GFLOP/s = sum(flops) / sum(time), over the GEMMs measured for every backend shown.
        flops = {b: 0.0 for b in backends}
        secs = {b: 0.0 for b in backends}
        covered = total = 0
        for l in linears:
            for op in OPS:
                dims = dims_of[l["name"]][op]
                total += 1
                got = {b: gf.get((threads, b, op, dims)) for b in backends}
                have = [b for b in backends if got[b]]
                if "fp32" not in have or "java" not in have:
                    continue
                covered += 1
                fl = 2.0 * dims[0] * dims[1] * dims[2] * l["perStep"]
                for b in have:
                    flops[b] += fl
                    secs[b] += fl / (got[b] * 1e9)
        tot = {b: (flops[b] / secs[b] * 1e-9 if secs[b] else None) for b in backends}
        ms = {b: secs[b] * 1e3 for b in backends if secs[b]}
        if tot.get("java") and tot.get("fp32"):
            what = "step total" if covered == total else f"step total ({covered} of {total} GEMMs)"
            rows.append([f"**{what}**", "all", "weighted"] + [fmt(tot[b]) for b in backends]
                        + [fmt(tot["java"] / tot["fp32"], 2)])
        print(f"\n### FP8 GEMMs, {threads} thread{'s' if threads != 1 else ''} (GFLOP/s = 2·M·N·K / time, median of the iterations)\n")
        print(table(header, rows))
        if tot.get("java") and tot.get("fp32"):
            print("\nGEMM time per training step: " + ", ".join(f"{LABEL.get(b, b)} {ms[b]:.0f} ms" for b in ms)
                  + f"; fp8-java costs {100 * (secs['java'] / secs['fp32'] - 1):+.0f}% vs fp32")

    if args.quantize:
        q = {}
        q_threads = []
        q_inputs = []
        for e in load(args.quantize):
            p = e["params"]
            g = secondary(e, "gbyte")
            if g is None:
                continue
            t = int(p["threads"])
            q[(p["input"], p["backend"], t)] = g
            if t not in q_threads:
                q_threads.append(t)
            if p["input"] not in q_inputs:
                q_inputs.append(p["input"])
        if q:
            qb = [b for b in backends if b != "fp32"]
            header = ["input", "tiles", "shape"] + [f"{LABEL.get(b, b)} {t}t GB/s" for t in sorted(q_threads)
                                                     for b in qb]
            shapes = {"act_1x128": ("1×128", "2048×512"), "weight_128x128": ("128×128", "512×256")}
            rows = [[i, *shapes.get(i, ("?", "?"))] + [fmt(q.get((i, b, t)), 2) for t in sorted(q_threads)
                                                        for b in qb] for i in q_inputs]
            print("\n### E4M3 quantization (GB/s of FP32 input)\n")
            print(table(header, rows))


if __name__ == "__main__":
    main()
