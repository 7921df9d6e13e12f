"""Benchmark: ``nichelab tour`` end to end (the quick scale), as a user runs it.

Runs ``nichelab tour --out <tmp>`` in a fresh process (imports, five studies, their reports, the
tour page), ``--repeats`` times, and reports the wall time of the command and each study's time
(from the tour's tour.json). Target: under 3 minutes on 2 cores. The machine's load average is
recorded beside the times: on a shared machine the wall time grows with the load.

Usage: python benchmarks/bench_tour.py [--repeats 1] [--scale quick]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save  # noqa: E402

TARGET_S = 180.0


def once(scale: str) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="nichelab-tour-bench-"))
    out = tmp / "tour"
    load0 = os.getloadavg()[0]
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(["nichelab", "tour", "--scale", scale, "--out", str(out)], capture_output=True, text=True)
    wall = time.perf_counter() - t
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"nichelab tour failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    info = json.loads((out / "tour.json").read_text())
    shutil.rmtree(tmp, ignore_errors=True)
    return {"wall_s": wall, "cpu_s": cpu, "in_process_s": info["seconds"], "load_before": load0, "load_after": os.getloadavg()[0],
            "studies_s": {k: v["seconds"] for k, v in info["studies"].items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--scale", default="quick", choices=["quick", "full"])
    args = ap.parse_args()
    runs = [once(args.scale) for _ in range(args.repeats)]
    best = min(runs, key=lambda r: r["wall_s"])
    print(f"nichelab tour --scale {args.scale}: {args.repeats} run(s), target {TARGET_S:.0f} s on 2 cores")
    print(f"{'run':>3} {'wall s':>7} {'cpu s':>6} {'load':>5} " + " ".join(f"{k[:8]:>8}" for k in best["studies_s"]))
    for i, r in enumerate(runs, start=1):
        print(f"{i:>3} {r['wall_s']:>7.1f} {r['cpu_s']:>6.1f} {r['load_before']:>5.1f} "
              + " ".join(f"{v:>8.1f}" for v in r["studies_s"].values()))
    verdict = "meets" if best["wall_s"] < TARGET_S else "misses"
    print(f"best wall time {best['wall_s']:.1f} s: {verdict} the {TARGET_S:.0f} s target")
    path = save("tour", {"scale": args.scale, "target_s": TARGET_S, "runs": runs, "best_wall_s": best["wall_s"],
                         "meets_target": best["wall_s"] < TARGET_S})
    print(f"saved {path}")


if __name__ == "__main__":
    main()
