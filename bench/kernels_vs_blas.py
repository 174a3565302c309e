"""Our GEMMs and numpy/OpenBLAS SGEMM, sample by sample, on the cases KernelsVsBlas lists.

The host's CPU speed drifts (up to 2x over seconds on the 2-core dev VM: a neighbour on the same physical core), so
timing one side for minutes and then the other measures the drift as much as the kernels. Here both sides stay
resident: our JVM (`KernelsVsBlas --serve`, given after `--`) answers one timed sample per request, numpy runs in this
process, and per case the two alternate sample by sample (ours-numpy, then numpy-ours, ...), so each pair of
samples sees the same conditions. Rates are per CPU-second of the timing thread (both sides run the GEMM on it, one
thread each), so time spent waiting for a core while other jobs run does not count; wall-clock rates are kept in
the output too. Per case and implementation: the median GFLOP/s over its samples, and the ratio ours/OpenBLAS as
the median of the per-pair ratios.

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/kernels_vs_blas.py --cases CASES.jsonl --impls fp32,java
           [--pairs 7] [--sample-ms 200] -- java ... io.sparkseek.bench.KernelsVsBlas --serve --threads 1
One JSON line per case and implementation on stdout (the case, impl, gflops, openblas, ratio, samples).
"""
import argparse, json, os, statistics, subprocess, sys, time

import numpy as np



def operands(op, m, n, k, rng):
    """float32 operands in the layout our Linear uses; np.matmul passes the transposed views as BLAS flags:
    fprop Y[M,N] = X[M,K] . W[N,K]^T, dgrad dX[M,N] = dY[M,K] . W[K,N], wgrad dW[M,N] = dY[K,M]^T . X[K,N]."""
    f = lambda *s: rng.standard_normal(s, dtype=np.float32)
    if op == "fprop":
        return f(m, k), f(n, k).T
    if op == "dgrad":
        return f(m, k), f(k, n)
    if op == "wgrad":
        return f(k, m).T, f(k, n)
    raise SystemExit(f"op '{op}': use fprop, dgrad or wgrad")


class Ours:
    """The resident JVM: one request line in, one JSON line out (other output, e.g. JIT warm-up notes, skipped)."""

    def __init__(self, cmd):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def sample(self, impl, case, ms):
        self.p.stdin.write(f"{impl} {case['shape']} {case['op']} {ms}\n")
        self.p.stdin.flush()
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise SystemExit(f"kernels_vs_blas: our JVM ended while timing {impl} {case['shape']} {case['op']}"
                                 f" (exit {self.p.wait()}); see its stderr above")
            if line.startswith("{"):
                r = json.loads(line)
                return r["gflops"], r["gflops_cpu"]

    def close(self):
        self.p.stdin.close()
        if self.p.wait() != 0:
            raise SystemExit(f"kernels_vs_blas: our JVM exited with {self.p.returncode}")


def numpy_sample(x, w, out, flop, ms):
    """(wall, cpu) GFLOP/s of one sample; cpu divides by this thread's CPU time (OpenBLAS runs on it)."""
    t0, c0, calls = time.perf_counter(), time.thread_time(), 0
    while True:
        np.matmul(x, w, out=out)
        calls += 1
        dt = time.perf_counter() - t0
        if dt >= ms / 1000:
            return 1e-9 * flop * calls / dt, 1e-9 * flop * calls / (time.thread_time() - c0)


def main():
    argv = sys.argv[1:]
    if "--" not in argv:
        raise SystemExit("kernels_vs_blas: give our JVM's command after --")
    cut = argv.index("--")
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", required=True)
    ap.add_argument("--impls", default="fp32,java")
    ap.add_argument("--pairs", type=int, default=7)
    ap.add_argument("--sample-ms", type=int, default=200)
    a = ap.parse_args(argv[:cut])
    ours = Ours(argv[cut + 1:])
    rng = np.random.default_rng(42)
    threads = int(os.environ.get("OPENBLAS_NUM_THREADS", "0"))
    for line in open(a.cases):
        if not line.strip():
            continue
        c = json.loads(line)
        m, n, k = c["m"], c["n"], c["k"]
        x, w = operands(c["op"], m, n, k, rng)
        out = np.empty((m, n), dtype=np.float32)
        flop = 2.0 * m * n * k
        numpy_sample(x, w, out, flop, 300)          # warm-up
        for impl in a.impls.split(","):
            if impl != "fp32" and c["shape"] == "lm_head":
                continue                              # lm_head stays FP32 in the model
            ours.sample(impl, c, a.sample_ms)       # sets the case up (JIT warm-up) and drops a first sample
            mine, theirs = [], []
            for i in range(a.pairs):
                if i % 2 == 0:
                    mine.append(ours.sample(impl, c, a.sample_ms))
                    theirs.append(numpy_sample(x, w, out, flop, a.sample_ms))
                else:
                    theirs.append(numpy_sample(x, w, out, flop, a.sample_ms))
                    mine.append(ours.sample(impl, c, a.sample_ms))
            ratios = [o[1] / t[1] for o, t in zip(mine, theirs)]
            print(json.dumps(dict(c, impl="fp32" if impl == "fp32" else "fp8-" + impl, threads=threads,
                                  gflops=round(statistics.median(o[1] for o in mine), 2),
                                  openblas=round(statistics.median(t[1] for t in theirs), 2),
                                  ratio=round(statistics.median(ratios), 4),
                                  gflops_wall=round(statistics.median(o[0] for o in mine), 2),
                                  openblas_wall=round(statistics.median(t[0] for t in theirs), 2),
                                  samples=[round(o[1], 1) for o in mine],
                                  openblas_samples=[round(t[1], 1) for t in theirs])), flush=True)
    ours.close()


if __name__ == "__main__":
    main()
