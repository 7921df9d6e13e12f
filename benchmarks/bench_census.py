"""Benchmark: activation capture + unit census of an MLP 784-512-512-10.

Data: n samples of 784 standard-normal features, random labels in 10 classes (n = 5,000 and
20,000). The census of each hidden layer (L1, L2: 512 units) is: unit_stats, dead_units,
selectivity_index, unit_correlation_matrix + its near-duplicate groups (correlation_groups,
the grouping step of near_duplicate_groups, reusing the matrix), participation_ratio.
The linear probe is timed separately (it is not part of the target).

Memory: every size runs in a fresh subprocess. After building the model and the inputs, the
process's peak-RSS counter is reset (``echo 5 > /proc/self/clear_refs``, Linux) and, after
the census, the new peak (``VmHWM``, the value ``getrusage().ru_maxrss`` reports) minus the
RSS just before gives the extra memory used by capture + census, torch and numpy included.
The inputs exist before the reset, so they are not counted. Where clear_refs is not
available, the plain ``ru_maxrss`` delta is reported (an upper bound). A second, untimed
pass under ``tracemalloc`` gives the peak of numpy allocations alone (torch's CPU allocator
is invisible to tracemalloc).

Times are the fastest of ``--repeat`` runs (wall and CPU seconds, with the 1-minute load
average: on a shared machine wall time is inflated by other processes).

Run:  python benchmarks/bench_census.py [--sizes 5000 20000] [--repeat 3] [--no-probe]
Writes benchmarks/results/census.json. Target: < 10 s and < 1 GB on 2 cores at n = 20,000.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "census.json"


def _census(model, x, y):
    from nichelab.capture import capture
    from nichelab.metrics.layers import correlation_groups, participation_ratio, unit_correlation_matrix
    from nichelab.metrics.units import dead_units, selectivity_index, unit_stats

    t = {}
    t0 = time.perf_counter()
    acts = capture(model, x)                      # default layers: hidden blocks L1, L2
    t["capture"] = time.perf_counter() - t0
    out = {}
    for name, a in acts.items():
        steps = {
            "unit_stats": lambda: unit_stats(a),
            "dead_units": lambda: dead_units(a),
            "selectivity": lambda: selectivity_index(a, y, n_classes=10),
            "correlation": lambda: unit_correlation_matrix(a),
            "near_duplicates": lambda: correlation_groups(out[(name, "correlation")]),
            "participation_ratio": lambda: participation_ratio(a),
        }
        for step, fn in steps.items():
            t0 = time.perf_counter()
            out[(name, step)] = fn()
            t[step] = t.get(step, 0.0) + time.perf_counter() - t0
    return acts, out, t


def child(n: int, probe: bool, repeat: int) -> dict:
    import numpy as np
    import torch

    from nichelab.metrics.probes import linear_probe
    from nichelab.nn import build_model

    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 784), dtype=np.float32)
    y = rng.integers(0, 10, n)
    model = build_model("mlp 512-512", 784, 10, seed=0)
    _census(model, x[:256], y[:256])              # warm-up (lazy torch / BLAS initialisation)

    from _common import reset_peak, status_kb
    rss_before = status_kb("VmRSS")
    exact = reset_peak()
    ru_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0, c0 = time.perf_counter(), time.process_time()
    acts, out, steps = _census(model, x, y)
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = status_kb("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    extra_mb = (peak - (rss_before if exact else ru_before)) / 1024
    act_mb = sum(a.nbytes for a in acts.values()) / 2**20
    del acts, out
    for _ in range(repeat - 1):       # best of `repeat` timings (the machine may be shared)
        t0, c0 = time.perf_counter(), time.process_time()
        _, _, again = _census(model, x, y)
        if time.perf_counter() - t0 < total:
            total, cpu, steps = time.perf_counter() - t0, time.process_time() - c0, again

    tracemalloc.start()
    _census(model, x, y)
    numpy_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    res = {
        "n_samples": n, "repeat": repeat, "seconds_total": total, "cpu_seconds_total": cpu, "seconds": steps,
        "load_average_1min": os.getloadavg()[0],
        "extra_peak_rss_mb": extra_mb, "activations_mb": act_mb,
        "extra_over_activations_mb": extra_mb - act_mb,
        "numpy_tracemalloc_peak_mb": numpy_peak_mb,
        "peak_method": "VmHWM after clear_refs" if exact else "ru_maxrss delta (upper bound)",
        "process_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch_threads": torch.get_num_threads(),
    }
    if probe:
        from nichelab.capture import capture
        h = capture(model, x, ["L2"])["L2"]
        t0 = time.perf_counter()
        p = linear_probe(h, y, max_iter=200)
        res["probe_L2"] = {"seconds": time.perf_counter() - t0, "test_acc": p.test_acc,
                           "chance": p.chance, "converged": p.converged}
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000])
    ap.add_argument("--no-probe", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="report the fastest of REPEAT runs")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, not args.no_probe, args.repeat)))
        return
    rows = []
    for n in args.sizes:
        cmd = [sys.executable, __file__, "--child", str(n), "--repeat", str(args.repeat)]
        cmd += ["--no-probe"] if args.no_probe else []
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))

    print(f"{'n':>7} {'total s':>8} {'cpu s':>6} {'load':>5} {'capture':>8} {'stats':>6} "
          f"{'dead':>6} {'select':>7} {'corr':>6} {'dups':>6} {'PR':>6} {'acts MB':>8} {'extra MB':>9} {'extra-acts':>10} "
          f"{'np peak':>8} {'probe s':>8}")
    for r in rows:
        s = r["seconds"]
        probe = f"{r['probe_L2']['seconds']:8.2f}" if "probe_L2" in r else f"{'-':>8}"
        print(f"{r['n_samples']:>7} {r['seconds_total']:8.2f} {r['cpu_seconds_total']:6.2f} "
              f"{r['load_average_1min']:5.1f} {s['capture']:8.2f} {s['unit_stats']:6.2f} "
              f"{s['dead_units']:6.2f} {s['selectivity']:7.2f} {s['correlation']:6.2f} "
              f"{s['near_duplicates']:6.2f} {s['participation_ratio']:6.2f} {r['activations_mb']:8.1f} "
              f"{r['extra_peak_rss_mb']:9.1f} {r['extra_over_activations_mb']:10.1f} "
              f"{r['numpy_tracemalloc_peak_mb']:8.1f} {probe}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    meta = {"python": platform.python_version(), "machine": platform.machine(),
            "model": "mlp 784-512-512-10", "layers": ["L1", "L2"], "results": rows}
    RESULTS.write_text(json.dumps(meta, indent=2))
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
