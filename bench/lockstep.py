"""Runs trainers in lock step: one training step of each in turn, so that all of them see the same machine speed.

A machine whose speed drifts (a noisy neighbour on the host: the same kernel at 145 GFLOP/s for some seconds, then
at 70) makes two whole runs one after the other measure the drift as much as the trainers. Here every trainer is a
resident process started with a step gate (`scripts/sparkseek bench-model --step-gate stdin`,
`bench/torch_train.py --step-gate stdin`): it prints "READY" once loaded, then before each step (warm-up and timed)
reads one line from stdin and after the step prints "STEP {json}" (step, seconds, loss, rows_sum) on stdout; its
final JSON object (peak_rss_bytes among others) comes only when its stdin closes after the last step of all
sides, so that no side's exit overlaps another's timed step. This driver starts
all sides for one thread count, waits until all are READY, then for each step asks each side in turn for that step
and waits for its STEP line; the order rotates every step (A B C, B C A, C A B, ...) so that no side always goes
first, and it sleeps --pause seconds before each side's step so that spin-waiting threads of the previous side
(OpenBLAS's, ~0.1 s) are asleep when the next one starts. Only one side trains at any time.

Per timed step k it takes t_ref(k) / t_side(k) (ref: --reference, e.g. torch; > 1: the side is faster) and reports
per thread count the median of these per-step ratios, tokens/s of each side (tokens over the sum of its timed step
times), the median per-step tokens/s, peak RSS, and the loss check of --loss-check against --reference: step 1
within 1e-4 relative, the last step within 1e-3, and the same rows (rows_sum) at every step on every side.
Prints one table row per thread count and one JSON line (prefix "JSON "); exit 1 if a check fails.

To show whether the idle sides really keep still (a JVM may compile or collect garbage in the background), it reads
the CPU time of the idle processes (/proc/<pid>/stat) before and after each step and prints, per side, the CPU time
the others used during its timed steps relative to those steps' time.

Files in --out: <side>-t<threads>.steps.jsonl (one STEP object per line, plus "order" (0 = went first),
"driver_s" (the driver's own wall time of the step, gate included) and "idle_cpu_s" (CPU seconds the other sides
used meanwhile)), <side>-t<threads>.json (the side's final JSON) and <side>-t<threads>.log (its stderr).

Usage (scripts/bench-vs-torch builds the commands; {threads} is replaced by each thread count):
  /usr/bin/python3 bench/lockstep.py --out DIR --threads "1 2" --steps 20 --warmup 3 --seq-len 256 --batch 8 \\
      --side ours 'scripts/sparkseek bench-model ... --threads {threads} --json --step-gate stdin' \\
      --side torch 'env OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/torch_train.py ... --step-gate stdin' \\
      --reference torch --loss-check ours
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

FIRST_TOL, LAST_TOL = 1e-4, 1e-3
CLK_TCK = os.sysconf("SC_CLK_TCK")


class SideFailed(Exception):
    pass


class Side:
    """One resident trainer process behind a step gate."""

    def __init__(self, name, command, threads, out):
        self.name = name
        self.prefix = f"{out}/{name}-t{threads}"
        self.log_path = self.prefix + ".log"
        self.log = open(self.log_path, "w")
        self.steps_file = open(self.prefix + ".steps.jsonl", "w")
        self.records = []
        self.other_lines = []
        argv = shlex.split(command.replace("{threads}", str(threads)))
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                         text=True, bufsize=1)
        except OSError as e:
            raise SideFailed(f"side '{name}': cannot start {argv[0]!r}: {e}") from None

    def fail(self, what):
        rc = self.proc.wait()
        self.log.flush()
        with open(self.log_path) as fh:
            tail = "".join(fh.readlines()[-15:])
        return SideFailed(f"side '{self.name}' {what} (exit status {rc}); last lines of {self.log_path}:\n{tail}")

    def read_until(self, prefix):
        """Returns the rest of the next stdout line that starts with prefix; other lines are kept for the end."""
        for line in self.proc.stdout:
            if line.startswith(prefix):
                return line[len(prefix):].strip()
            self.other_lines.append(line)
        raise self.fail(f"ended before printing '{prefix.strip()}'")

    def wait_ready(self):
        self.read_until("READY")

    def step(self, s, order):
        t0 = time.perf_counter()
        try:
            self.proc.stdin.write(f"step {s}\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise self.fail(f"no longer reads its step gate (step {s})") from None
        rec = json.loads(self.read_until("STEP "))
        if rec.get("step") != s:
            raise SideFailed(f"side '{self.name}' reported step {rec.get('step')} when asked for step {s}")
        rec.update(order=order, driver_s=time.perf_counter() - t0)
        return rec

    def save(self, rec):
        self.records.append(rec)
        self.steps_file.write(json.dumps(rec) + "\n")
        self.steps_file.flush()

    def finish(self):
        """Closes the gate; returns the side's final JSON object (the last stdout line that parses as one)."""
        self.proc.stdin.close()
        lines = self.other_lines + self.proc.stdout.readlines()
        rc = self.proc.wait()
        self.steps_file.close()
        self.log.close()
        if rc != 0:
            raise self.fail("failed after its last step")
        for line in reversed(lines):
            if line.startswith("{"):
                final = json.loads(line)
                with open(self.prefix + ".json", "w") as fh:
                    json.dump(final, fh)
                    fh.write("\n")
                return final
        raise SideFailed(f"side '{self.name}' printed no final JSON object on stdout (see {self.log_path})")

    def cpu_seconds(self):
        """CPU time (user + system, all threads) the process has used so far, from /proc/<pid>/stat."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / CLK_TCK   # utime, stime (fields 14, 15 of proc(5))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run_thread_count(a, threads):
    """Starts all sides for one thread count, runs them in lock step; returns {name: (records, final JSON)}."""
    sides = []
    try:
        for name, command in a.side:
            sides.append(Side(name, command, threads, a.out))
        for side in sides:
            side.wait_ready()
        total = a.warmup + a.steps
        for s in range(total):
            k = s % len(sides)
            order = sides[k:] + sides[:k]
            times = {}
            for pos, side in enumerate(order):
                time.sleep(a.pause)
                idle = [x for x in sides if x is not side]
                before = sum(x.cpu_seconds() for x in idle)
                rec = side.step(s, pos)
                rec["idle_cpu_s"] = sum(x.cpu_seconds() for x in idle) - before
                side.save(rec)
                times[side.name] = rec["seconds"]
            label = "warm-up" if s < a.warmup else "timed"
            print(f"  {threads} thread(s) step {s + 1}/{total} ({label}): "
                  + ", ".join(f"{n} {times[n]:.3f} s" for n, _ in a.side), flush=True)
        return {side.name: (side.records, side.finish()) for side in sides}
    finally:
        for side in sides:
            side.kill()


def rel(x, y):
    return abs(x - y) / abs(y)


def summarize(a, threads, results):
    """One result row: tokens/s, per-step ratios against the reference, RSS, rows and loss checks."""
    tok = a.seq_len * a.batch
    ref = a.reference
    timed = {n: [r["seconds"] for r in recs[a.warmup:]] for n, (recs, _) in results.items()}
    row = {"threads": threads, "sides": {}, "ratios": {}, "problems": []}
    for name, (recs, final) in results.items():
        t = timed[name]
        idle_cpu = sum(r["idle_cpu_s"] for r in recs[a.warmup:])
        row["sides"][name] = {"tokens_per_s": tok * len(t) / sum(t), "idle_cpu_share": idle_cpu / sum(t),
                              "median_step_tokens_per_s": tok / statistics.median(t),
                              "peak_rss_bytes": final.get("peak_rss_bytes", -1),
                              "step_seconds": t, "losses": [r["loss"] for r in recs]}
        if name != ref:
            row["ratios"][name] = statistics.median(tr / ts for tr, ts in zip(timed[ref], t))
    total = a.warmup + a.steps
    for s in range(total):
        sums = {n: recs[s]["rows_sum"] for n, (recs, _) in results.items()}
        if len(set(sums.values())) != 1:
            row["problems"].append(f"step {s + 1}: different rows (rows_sum {sums})")
    mine, theirs = row["sides"][a.loss_check]["losses"], row["sides"][ref]["losses"]
    row["first_loss_rel_diff"] = rel(mine[0], theirs[0])
    row["last_loss_rel_diff"] = rel(mine[-1], theirs[-1])
    if not row["first_loss_rel_diff"] < FIRST_TOL:
        row["problems"].append(f"step 1 loss {a.loss_check} {mine[0]} vs {ref} {theirs[0]}: "
                               f"{row['first_loss_rel_diff']:.1e} relative, over {FIRST_TOL:g}")
    if not row["last_loss_rel_diff"] < LAST_TOL:
        row["problems"].append(f"step {total} loss {a.loss_check} {mine[-1]} vs {ref} {theirs[-1]}: "
                               f"{row['last_loss_rel_diff']:.1e} relative, over {LAST_TOL:g}")
    return row


def print_table(a, rows):
    names = [n for n, _ in a.side]
    others = [n for n in names if n != a.reference]
    total = a.warmup + a.steps
    mib = lambda b: f"{b / 1048576:,.0f}"
    print(f"\n{a.model}, seq {a.seq_len} x batch {a.batch}, {a.warmup} warm-up + {a.steps} timed steps in lock step "
          f"(one step of each side in turn, rotating order); tokens/s over the timed steps; "
          f"X/{a.reference} = median over the timed steps of t_{a.reference}(k) / t_X(k)")
    hdr = ("| threads | " + " | ".join(f"{n} tok/s" for n in names) + " | "
           + " | ".join(f"{n}/{a.reference}" for n in others)
           + " | median-step tok/s " + " / ".join(names) + " | peak RSS " + " / ".join(names) + " MiB"
           + f" | loss step 1 {a.loss_check} / {a.reference} | loss step {total} {a.loss_check} / {a.reference}"
           + " | rel. diff |")
    print(hdr)
    print("|" + "---|" * (hdr.count("|") - 1))
    for row in rows:
        sd = row["sides"]
        mine, theirs = sd[a.loss_check]["losses"], sd[a.reference]["losses"]
        print(f"| {row['threads']} | " + " | ".join(f"{sd[n]['tokens_per_s']:,.0f}" for n in names) + " | "
              + " | ".join(f"**{row['ratios'][n]:.2f}**" for n in others)
              + " | " + " / ".join(f"{sd[n]['median_step_tokens_per_s']:,.0f}" for n in names)
              + " | " + " / ".join(mib(sd[n]["peak_rss_bytes"]) for n in names)
              + f" | {mine[0]:.5f} / {theirs[0]:.5f} | {mine[-1]:.4f} / {theirs[-1]:.4f}"
              + f" | {row['first_loss_rel_diff']:.1e}, {row['last_loss_rel_diff']:.1e} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="directory for the per-step files (exists)")
    ap.add_argument("--threads", default="1 2", help="thread counts, one after another (default '1 2')")
    ap.add_argument("--steps", type=int, default=20, help="timed steps (default 20)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    ap.add_argument("--seq-len", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--model", default="?", help="model config, for the header and the JSON line")
    ap.add_argument("--side", nargs=2, action="append", metavar=("NAME", "COMMAND"), required=True,
                    help="a trainer: name and command line ({threads} is replaced); repeat per side")
    ap.add_argument("--reference", required=True, help="the side the others are compared with")
    ap.add_argument("--loss-check", required=True, help="the side whose losses must match the reference's")
    ap.add_argument("--pause", type=float, default=0.2, help="seconds before each side's step (default 0.2)")
    a = ap.parse_args()
    names = [n for n, _ in a.side]
    if len(set(names)) != len(names):
        ap.error(f"--side names must differ, got {names}")
    for opt, value in (("--reference", a.reference), ("--loss-check", a.loss_check)):
        if value not in names:
            ap.error(f"{opt} {value}: not one of the --side names {names}")
    if a.loss_check == a.reference:
        ap.error(f"--loss-check {a.loss_check} is the --reference itself")
    if a.steps < 1 or a.warmup < 0:
        ap.error(f"--steps {a.steps} must be >= 1 and --warmup {a.warmup} >= 0")
    try:
        threads = [int(t) for t in a.threads.split()]
    except ValueError:
        ap.error(f"--threads '{a.threads}': expected whole numbers separated by spaces")
    if not os.path.isdir(a.out):
        ap.error(f"--out {a.out}: not a directory")

    rows = []
    for t in threads:
        print(f"{t} thread(s): starting {', '.join(names)} (load {os.getloadavg()[0]:.1f})", flush=True)
        try:
            results = run_thread_count(a, t)
        except SideFailed as e:
            print(f"lockstep: {t} thread(s): {e}", file=sys.stderr)
            return 1
        rows.append(summarize(a, t, results))
    print(f"load at the end: {os.getloadavg()[0]:.1f}")
    print_table(a, rows)
    print("CPU time the idle sides used during a side's timed steps, relative to those steps' time (0 = no "
          "interference):\n  " + "; ".join(f"{row['threads']} thread(s): " + ", ".join(
              f"{n} {s['idle_cpu_share']:.1%}" for n, s in row["sides"].items()) for row in rows))
    ok = True
    for row in rows:
        for p in row["problems"]:
            print(f"  {row['threads']} thread(s): {p}")
        ok &= not row["problems"]
    total = a.warmup + a.steps
    print(f"loss check ({a.loss_check} vs {a.reference}: step 1 within {FIRST_TOL:g} relative, step {total} within "
          f"{LAST_TOL:g}, same rows on every side at every step): " + ("passed" if ok else "FAILED"))
    medians = {}
    for row in rows:
        m = {f"{n}_tokens_per_s": s["tokens_per_s"] for n, s in row["sides"].items()}
        m.update({("ratio" if n == a.loss_check else f"{n}_ratio"): r for n, r in row["ratios"].items()})
        medians[row["threads"]] = m
    print("JSON " + json.dumps({"bench": "vs-torch", "mode": "lockstep", "model": a.model, "seq_len": a.seq_len,
                                "batch": a.batch, "steps": a.steps, "warmup": a.warmup, "reference": a.reference,
                                "results": rows, "medians": medians, "loss_check_passed": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
