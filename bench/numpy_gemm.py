"""numpy/OpenBLAS SGEMM on the GEMM cases KernelsVsBlas lists, timed as KernelsVsBlas times ours.

Reads the cases (JSON lines: shape, op, m, n, k, per_step) from --cases, and for each builds float32 operands in the
layout our Linear uses and calls np.matmul with a preallocated output (so one SGEMM, no copies: numpy passes the
transposed views to BLAS as transpose flags):
  fprop  Y[M,N] = X[M,K] . W[N,K]^T      dgrad  dX[M,N] = dY[M,K] . W[K,N]      wgrad  dW[M,N] = dY[K,M]^T . X[K,N]
After a 0.3 s warm-up, --samples samples of at least --sample-ms ms; GFLOP/s = 2*M*N*K*calls / time, median.
One JSON line per case. Threads: set OPENBLAS_NUM_THREADS (scripts/bench-kernels sets 1 and OPENBLAS_CORETYPE).

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/numpy_gemm.py --cases CASES.jsonl [--samples 5 --sample-ms 200]
"""
import argparse, json, os, statistics, time

import numpy as np


def operands(op, m, n, k, rng):
    f = lambda *s: rng.standard_normal(s, dtype=np.float32)
    if op == "fprop":
        return f(m, k), f(n, k).T
    if op == "dgrad":
        return f(m, k), f(k, n)
    if op == "wgrad":
        return f(k, m).T, f(k, n)
    raise SystemExit(f"op '{op}': use fprop, dgrad or wgrad")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", required=True)
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--sample-ms", type=int, default=200)
    a = ap.parse_args()
    rng = np.random.default_rng(42)
    for line in open(a.cases):
        if not line.strip():
            continue
        c = json.loads(line)
        m, n, k = c["m"], c["n"], c["k"]
        x, w = operands(c["op"], m, n, k, rng)
        out = np.empty((m, n), dtype=np.float32)
        t_end = time.perf_counter() + 0.3
        while time.perf_counter() < t_end:
            np.matmul(x, w, out=out)
        rates = []
        for _ in range(a.samples):
            t0, calls = time.perf_counter(), 0
            while True:
                np.matmul(x, w, out=out)
                calls += 1
                dt = time.perf_counter() - t0
                if dt >= a.sample_ms / 1000:
                    break
            rates.append(2e-9 * m * n * k * calls / dt)
        c.update(impl="openblas", threads=int(os.environ.get("OPENBLAS_NUM_THREADS", "0")),
                 gflops=round(statistics.median(rates), 2), samples=[round(r, 1) for r in rates])
        print(json.dumps(c), flush=True)


if __name__ == "__main__":
    main()
