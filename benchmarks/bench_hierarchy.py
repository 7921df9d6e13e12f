"""Benchmark: `nichelab run hierarchy` with its defaults, end to end, and where the time goes.

Target (issue 6): the default study -- 3 seeds of "cnn 8-16-32 fc=64" trained 10 epochs on
1050 parts images, every hidden layer measured on 450 held-out images for the trained networks
and their random-initialisation controls, feature visualisation of 8 units in both, report
written -- in under 3 minutes on 2 CPU cores.

The machine's load average is saved beside the timings: other processes on the same cores
slow every stage down.

Usage: python benchmarks/bench_hierarchy.py [--repeats 2] [--dataset parts]
(saves benchmarks/results/hierarchy.json; other datasets to hierarchy_<dataset>.json)
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save  # noqa: E402

TARGET_S = 180.0


def run_cli(dataset: str) -> dict:
    """Wall-clock seconds of the whole command (Python start-up and imports included) and the study's timings."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        load = os.getloadavg()[0]
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "nichelab", "run", "hierarchy", "--dataset", dataset, "--out", str(out)],
                       check=True, capture_output=True)
        wall = time.perf_counter() - t
        timings = json.loads((out / "results.json").read_text())["timings"]
    return {"end_to_end_s": wall, "timings": timings, "load_average_1min_before": load,
            "load_average_1min_after": os.getloadavg()[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--dataset", default="parts")
    args = ap.parse_args()
    runs = [run_cli(args.dataset) for _ in range(args.repeats)]
    best = min(runs, key=lambda r: r["end_to_end_s"])
    res = {"dataset": args.dataset, "defaults": "3 seeds, cnn 8-16-32 fc=64, 10 epochs, 300 images per class",
           "end_to_end_s": best["end_to_end_s"], "stages_s": best["timings"], "runs": runs,
           "target_end_to_end_s": TARGET_S, "meets_target": best["end_to_end_s"] < TARGET_S}
    t = best["timings"]
    print(f"hierarchy study on {args.dataset}, defaults (best of {args.repeats})")
    for key in ("data_s", "training_s", "measuring_s", "featvis_s", "writing_s"):
        print(f"  {key[:-2]:<18}{t.get(key, float('nan')):7.1f} s")
    print(f"  end to end (CLI)  {best['end_to_end_s']:7.1f} s   target < {TARGET_S:.0f} s: "
          f"{'yes' if res['meets_target'] else 'NO'}   (load average before: {best['load_average_1min_before']:.1f})")
    print(f"saved {save('hierarchy' if args.dataset == 'parts' else f'hierarchy_{args.dataset}', res)}")


if __name__ == "__main__":
    main()
