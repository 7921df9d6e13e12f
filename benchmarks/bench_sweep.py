"""Benchmark: sweeps -- seed chunks on the local process pool and on Ray, and the default lab sweep.

1. 100,000 lab seeds in 20 chunks (``--chunk 5000``, rounded to 5120) trained and measured as
   tasks on the local backend (a spawn process pool, the sweep's own task function
   ``run_part``) and on Ray (a local Ray bound to 127.0.0.1), with 1 and 2 workers: seeds per
   second and the speed-up from 1 to 2 workers. The chunks are gathered in the driver; merging
   them into one result is timed once. (A 100,000-seed run folder, ~1 GB of results.json, is
   not written.) Default --epochs 20 keeps the benchmark to minutes on a shared machine; training
   time grows linearly with epochs (the lab's 200 epochs: about a tenth of the seeds per second).
2. ``nichelab sweep lab`` (hidden 1-6 x init x optimizer, 1000 seeds per cell, 200 epochs, 24 run
   folders with their reports), end to end on the local backend. Target: under 3 minutes on 2 cores.

Usage: python benchmarks/bench_sweep.py [--seeds 100000] [--epochs 20] [--skip-default]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save  # noqa: E402


def chunks_local(cfg, bounds, workers: int) -> tuple[float, list]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    from nichelab.runs.sweep_backends import _worker_init
    from nichelab.runs.sweep_tasks import run_part
    t = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_worker_init) as pool:
        parts = list(pool.map(run_part, ["lab"] * len(bounds), [cfg] * len(bounds),
                              [a for a, _ in bounds], [b for _, b in bounds]))
    return time.perf_counter() - t, parts


def chunks_ray(cfg, bounds, workers: int) -> tuple[float, float, list]:
    import ray
    from nichelab.runs.sweep_backends import RAY_RETRIES
    from nichelab.runs.sweep_tasks import run_part
    tmp = tempfile.mkdtemp(prefix="nlrb", dir="/tmp")
    t0 = time.perf_counter()
    ray.init(num_cpus=workers, include_dashboard=False, _temp_dir=tmp, _node_ip_address="127.0.0.1",
             log_to_driver=False)
    try:
        start = time.perf_counter() - t0
        task = ray.remote(max_retries=RAY_RETRIES, retry_exceptions=False, num_cpus=1)(run_part)
        t = time.perf_counter()
        parts = ray.get([task.remote("lab", cfg, a, b) for a, b in bounds])
        return time.perf_counter() - t, start, parts
    finally:
        ray.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


def default_sweep() -> float:
    tmp = tempfile.mkdtemp(prefix="nl-sweep-bench-")
    try:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "nichelab", "sweep", "lab", "--out", str(Path(tmp) / "sw")],
                       check=True, capture_output=True)
        return time.perf_counter() - t
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=100_000)
    ap.add_argument("--chunk", type=int, default=5000)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--skip-default", action="store_true", help="skip the default `nichelab sweep lab`")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from nichelab.studies.lab.config import LabConfig
    from nichelab.studies.lab.pipeline import merge_chunks
    from nichelab.runs.sweep_tasks import chunk_bounds
    load0 = [round(x, 1) for x in os.getloadavg()]  # other work on the machine skews every number
    cfg = LabConfig(seeds=args.seeds, epochs=args.epochs)
    bounds = chunk_bounds(args.seeds, args.chunk)
    rows, parts = [], None
    for backend in ("local", "ray"):
        for workers in (1, 2):
            extra = {}
            if backend == "local":
                secs, parts = chunks_local(cfg, bounds, workers)
            else:
                secs, start, parts = chunks_ray(cfg, bounds, workers)
                extra["ray_start_s"] = round(start, 2)
            rows.append({"backend": backend, "workers": workers, "chunks": len(bounds), "seeds": args.seeds,
                         "epochs": args.epochs, "seconds": round(secs, 2),
                         "seeds_per_s": round(args.seeds / secs, 1), **extra})
            print(rows[-1], flush=True)
    for backend in ("local", "ray"):
        one, two = (r for r in rows if r["backend"] == backend)
        two["speedup_vs_1"] = round(one["seconds"] / two["seconds"], 2)
    t = time.perf_counter()
    merged = merge_chunks(cfg, parts)
    merge_s = time.perf_counter() - t
    assert len(merged.per_seed) == args.seeds
    out = {"chunks": rows, "merge_s": round(merge_s, 2), "load_average_at_start": load0,
           "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
           "note": "chunk tasks trained and measured, gathered in the driver; pool/worker start-up included "
                   "for local, Ray start timed apart (ray_start_s)"}
    if not args.skip_default:
        secs = default_sweep()
        out["default_sweep"] = {"command": "nichelab sweep lab", "cells": 24, "seeds_per_cell": 1000,
                                "epochs": 200, "backend": "local", "seconds": round(secs, 1),
                                "target_s": 180, "met": secs < 180}
    print(f"{'backend':8} {'workers':>7} {'chunks':>6} {'seconds':>8} {'seeds/s':>9} {'speed-up':>8}")
    for r in rows:
        print(f"{r['backend']:8} {r['workers']:7d} {r['chunks']:6d} {r['seconds']:8.1f} {r['seeds_per_s']:9.0f} "
              f"{r.get('speedup_vs_1', ''):>8}")
    print(f"merging {args.seeds} seeds into one result: {merge_s:.1f} s")
    if "default_sweep" in out:
        d = out["default_sweep"]
        print(f"nichelab sweep lab (24 cells x 1000 seeds, local): {d['seconds']:.0f} s (target < 180 s)")
    print(save("sweep", out))


if __name__ == "__main__":
    main()
