#!/usr/bin/env python3
"""Bytes allocated per training step from a JFR recording of scripts/sparkseek bench-model (docs/benchmarks.md,
"Allocation and heap of a training step").

Usage: jfr print --json --events jdk.ObjectAllocationSample,jdk.ExecutionSample --stack-depth 64 step.jfr > step.json
       python3 bench/jfr_alloc.py step.json <seconds of the measured steps> <number of measured steps> [bench.log]

Sums the allocation sample weights (JFR's estimate of the bytes each sample stands for) over the window of the given
length that ends at the last sample taken inside the model (a frame of io/sparkseek/model/layer or a trainer), so
that start-up and the final report fall outside it; execution (CPU) samples, when the JSON has them, place that end
even when the last steps allocate nothing; prints MB per step and the biggest sites by their first two
io/sparkseek frames. The window length is the sum of the measured steps' times that bench-model prints. With
bench-model's output as a 4th argument, also the MB sampled in io/sparkseek/model frames per step, the steps placed
back from that end by their printed times (step 0 includes start-up).
"""
import collections
import datetime
import json
import re
import sys


def when(event):
    return datetime.datetime.fromisoformat(event['values']['startTime'][:26]).timestamp()


def frames(event):
    trace = event['values'].get('stackTrace') or {'frames': []}
    return [f['method']['type']['name'] for f in trace['frames']], [
        f['method']['type']['name'].split('/')[-1] + '.' + f['method']['name'] for f in trace['frames']
        if f['method']['type']['name'].startswith('io/sparkseek')]


def main():
    path, window, steps = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    events = json.load(open(path))['recording']['events']
    in_model = [when(e) for e in events
                if any('/model/layer/' in t or 'Trainer' in t for t in frames(e)[0])]
    end = max(in_model) if in_model else max(when(e) for e in events)
    events = [e for e in events if e['type'] == 'jdk.ObjectAllocationSample']
    total = 0
    sites = collections.Counter()
    for e in events:
        if end - window <= when(e) <= end + 0.001:
            weight = e['values']['weight']
            total += weight
            ours = frames(e)[1]
            sites[' <- '.join(ours[:2]) or '(no sparkseek frame)'] += weight
    print(f'{window:.2f} s window: {total / 1e6:.1f} MB sampled, {total / steps / 1e6:.2f} MB per step '
          f'({steps} steps)')
    for site, weight in sites.most_common(15):
        print(f'  {weight / steps / 1e6:8.2f} MB/step  {site}')
    if len(sys.argv) > 4:
        times = [float(line.split()[-4]) for line in open(sys.argv[4]) if re.match(r'^step \d+ ', line)]
        model = [(when(e), e['values']['weight']) for e in events if any('/model/' in t for t in frames(e)[0])]
        per_step = []
        t1 = end
        for step in range(len(times) - 1, -1, -1):
            t0 = t1 - times[step]
            per_step.append(f'{step}:{sum(w for t, w in model if t0 < t <= t1) / 1e6:.1f}')
            t1 = t0
        print('MB per step in the model: ' + ' '.join(reversed(per_step)))


if __name__ == '__main__':
    main()
