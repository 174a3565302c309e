#!/usr/bin/python3
"""Tables of scripts/bench-fp8-gemm from JMH's JSON results (standard library only).

usage: fp8_gemm_table.py --shapes shapes.json [--gemm gemm.json ...] [--quantize quantize.json ...]
                         [--backends fp32,java,opencl]

shapes.json is what io.sparkseek.bench.GemmShapes prints: every FP8 Linear of a training step with its per-step
count and the M, N, K of its fprop, dgrad and wgrad. gemm.json / quantize.json are JMH's -rf json output of
Fp8GemmBenchmark / QuantizeBenchmark. Their secondary metrics (JMH @AuxCounters):
  gflop / gbyte   GFLOP/s / GB/s, wall clock;
  perCpuSecond    GFLOP (GB) per CPU-second of the process (CpuRate): what another job on the shared cores disturbs
                  least; with 2 threads it is the rate per busy core.
Each figure is the median over the measurement iterations (JMH's score is their mean, which one disturbed iteration
moves). Prints Markdown tables: per thread count, one row per shape and op with "wall (per CPU-s)" GFLOP/s per
backend and the fp8-java/fp32 ratio of both, then a step total that weights each GEMM by how often a training step
runs it. Several --gemm/--quantize files are merged (e.g. a later run of one backend); a later file wins.
"""
import argparse
import json
import sys

OPS = ("fprop", "dgrad", "wgrad")
LABEL = {"fp32": "fp32", "java": "fp8-java", "opencl": "fp8-opencl"}


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_all(paths):
    return [e for p in paths or [] for e in load(p)]


def secondary(entry, name):
    """Median over the measurement iterations of a secondary metric; JMH's score if there are no raw samples."""
    m = entry.get("secondaryMetrics", {}).get(name)
    if m is None:
        return None
    raw = sorted(float(x) for fork in m.get("rawData", []) for x in fork)
    if not raw:
        return float(m["score"])
    h = len(raw) // 2
    return raw[h] if len(raw) % 2 else (raw[h - 1] + raw[h]) / 2


def table(header, rows, left=3):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]

    def line(r):
        return "| " + " | ".join(str(c).ljust(widths[i]) if i < left else str(c).rjust(widths[i])
                                 for i, c in enumerate(r)) + " |"
    out = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)


def fmt(x, digits=1):
    return "–" if x is None else f"{x:.{digits}f}"


def pair(wall, cpu, digits=1):
    """'wall (cpu)' or '–'."""
    if wall is None:
        return "–"
    return f"{wall:.{digits}f} ({fmt(cpu, digits)})"


def ratio(a, b):
    return a / b if a and b else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", required=True)
    ap.add_argument("--gemm", action="append")
    ap.add_argument("--quantize", action="append")
    ap.add_argument("--backends", default="fp32,java,opencl")
    args = ap.parse_args()
    backends = [b for b in args.backends.split(",") if b]
    linears = load(args.shapes)
    dims_of = {l["name"]: {op: tuple(l[op]) for op in OPS} for l in linears}

    # (metric, threads, backend, op, dims) -> GFLOP/s, metric "wall" or "cpu"; which (shape, op) were measured.
    gf = {}
    measured = []
    threads_seen = []
    for e in load_all(args.gemm):
        p = e["params"]
        shape, op, backend, threads = p["shape"], p["op"], p["backend"], int(p["threads"])
        wall = secondary(e, "gflop")
        if wall is None or shape not in dims_of:
            continue
        dims = dims_of[shape][op]
        gf[("wall", threads, backend, op, dims)] = wall
        cpu = secondary(e, "perCpuSecond")
        gf.pop(("cpu", threads, backend, op, dims), None)
        if cpu:
            gf[("cpu", threads, backend, op, dims)] = cpu
        if (shape, op) not in measured:
            measured.append((shape, op))
        if threads not in threads_seen:
            threads_seen.append(threads)
    if args.gemm and not gf:
        sys.exit("no Fp8GemmBenchmark results in " + ", ".join(args.gemm))
    if not args.gemm and not args.quantize:
        sys.exit("nothing to show: give --gemm and/or --quantize")
    order = {l["name"]: i for i, l in enumerate(linears)}
    measured.sort(key=lambda so: (order[so[0]], OPS.index(so[1])))

    for threads in sorted(threads_seen):
        header = (["shape", "op", "M×N×K"] + [LABEL.get(b, b) for b in backends]
                  + ["fp8-java/fp32", "same, CPU-s"])
        rows = []
        for shape, op in measured:
            dims = dims_of[shape][op]
            g = {(m, b): gf.get((m, threads, b, op, dims)) for m in ("wall", "cpu") for b in backends}
            rows.append([shape, op, "×".join(map(str, dims))]
                        + [pair(g[("wall", b)], g[("cpu", b)]) for b in backends]
                        + [fmt(ratio(g.get(("wall", "java")), g.get(("wall", "fp32"))), 2),
                           fmt(ratio(g.get(("cpu", "java")), g.get(("cpu", "fp32"))), 2)])
        # Step total: every FP8 GEMM of a step (shared experts included, by their shape), weighted by how often it
        # runs: GFLOP/s = sum(flops) / sum(time), over the GEMMs measured for both fp32 and fp8-java.
        secs = {(m, b): 0.0 for m in ("wall", "cpu") for b in backends}
        flops = {(m, b): 0.0 for m in ("wall", "cpu") for b in backends}
        covered = total = 0
        for l in linears:
            for op in OPS:
                dims = dims_of[l["name"]][op]
                total += 1
                if not (gf.get(("wall", threads, "fp32", op, dims)) and gf.get(("wall", threads, "java", op, dims))):
                    continue
                covered += 1
                fl = 2.0 * dims[0] * dims[1] * dims[2] * l["perStep"]
                for m in ("wall", "cpu"):
                    for b in backends:
                        v = gf.get((m, threads, b, op, dims))
                        if v:
                            flops[(m, b)] += fl
                            secs[(m, b)] += fl / (v * 1e9)
        tot = {k: (flops[k] / secs[k] * 1e-9 if secs[k] else None) for k in secs}
        if covered:
            what = "step total" if covered == total else f"step total ({covered} of {total} GEMMs)"
            rows.append([f"**{what}**", "all", "weighted"]
                        + [pair(tot[("wall", b)], tot[("cpu", b)]) for b in backends]
                        + [fmt(ratio(tot[("wall", "java")], tot[("wall", "fp32")]), 2),
                           fmt(ratio(tot[("cpu", "java")], tot[("cpu", "fp32")]), 2)])
        print(f"\n### FP8 GEMMs, {threads} thread{'s' if threads != 1 else ''}: GFLOP/s wall clock "
              f"(per CPU-second), medians of the iterations\n")
        print(table(header, rows))
        if covered:
            ms = {b: secs[("wall", b)] * 1e3 for b in backends if secs[("wall", b)]}
            cost = lambda m: 100 * (secs[(m, "java")] / secs[(m, "fp32")] - 1)  # noqa: E731
            print(f"\nGEMM time of a training step{'' if covered == total else ' (measured GEMMs only)'} (wall): " + ", ".join(f"{LABEL.get(b, b)} {ms[b]:.0f} ms" for b in ms)
                  + f"; fp8-java costs {cost('wall'):+.0f}% vs fp32 in wall time"
                  + (f", {cost('cpu'):+.0f}% in CPU time" if secs[("cpu", "fp32")] and secs[("cpu", "java")] else ""))

    if args.quantize:
        q = {}
        q_threads = []
        q_inputs = []
        for e in load_all(args.quantize):
            p = e["params"]
            wall = secondary(e, "gbyte")
            if wall is None:
                continue
            t = int(p["threads"])
            q[(p["input"], p["backend"], t)] = (wall, secondary(e, "perCpuSecond"))
            if t not in q_threads:
                q_threads.append(t)
            if p["input"] not in q_inputs:
                q_inputs.append(p["input"])
        if q:
            qb = [b for b in backends if b != "fp32"]
            header = ["input", "tiles", "shape"] + [f"{LABEL.get(b, b)}, {t} thr" for t in sorted(q_threads)
                                                     for b in qb]
            shapes = {"act_1x128": ("1×128", "2048×512"), "weight_128x128": ("128×128", "512×256")}
            rows = [[i, *shapes.get(i, ("?", "?"))] + [pair(*q.get((i, b, t), (None, None)), digits=2)
                                                        for t in sorted(q_threads) for b in qb] for i in q_inputs]
            print("\n### E4M3 quantization: GB/s of FP32 input, wall clock (per CPU-second), medians\n")
            print(table(header, rows))


if __name__ == "__main__":
    main()
