"""Benchmark: `nichelab run convergence` with its defaults (5 seeds of mlp 64-64-64-64 on digits), its
stages in-process, and `nichelab compare` on two seeds of that run.

Target (issue 4): the default study well under 2 minutes on 2 CPU cores.

Usage: python benchmarks/bench_convergence.py [--repeats 2]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save  # noqa: E402

TARGET_S = 120.0


def time_stages() -> dict:
    """Seconds per stage of the default study, in-process (imports excluded), from its own timings."""
    from nichelab.studies import convergence as study

    t = time.perf_counter()
    result = study.run(study.ConvergenceConfig())
    return {**result.timings, "run_s": time.perf_counter() - t}


def time_cli(tmp: Path, i: int) -> tuple[float, float, dict]:
    """Wall-clock seconds of `run convergence` and of `compare RUN#0 RUN#1`, start-up included."""
    run = tmp / f"conv{i}"
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nichelab", "run", "convergence", "--out", str(run)], check=True,
                   capture_output=True)
    t_run = time.perf_counter() - t
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nichelab", "compare", f"{run}#0", f"{run}#1", "--out", str(tmp / f"cmp{i}")],
                   check=True, capture_output=True)
    t_cmp = time.perf_counter() - t
    return t_run, t_cmp, json.loads((run / "results.json").read_text())["timings"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    stages = [time_stages() for _ in range(args.repeats)]
    with tempfile.TemporaryDirectory() as tmp:
        cli = [time_cli(Path(tmp), i) for i in range(args.repeats)]
    best = min(range(args.repeats), key=lambda i: cli[i][0])
    res = {"config": "defaults: 5 seeds, mlp 64-64-64-64, digits, 40 epochs, 6 measures",
           "stages_s": min(stages, key=lambda s: s["run_s"]), "stage_runs": stages,
           "end_to_end_s": cli[best][0], "end_to_end_runs_s": [c[0] for c in cli],
           "run_folder_timings": cli[best][2],
           "compare_end_to_end_s": min(c[1] for c in cli), "compare_runs_s": [c[1] for c in cli],
           "target_end_to_end_s": TARGET_S}
    res["meets_target"] = res["end_to_end_s"] < TARGET_S
    s = res["stages_s"]
    print(f"convergence study, defaults (best of {args.repeats})")
    for k in ("training_s", "capture_s", "analysis_s", "run_s"):
        print(f"  {k:<22}{s[k]:7.2f} s")
    print(f"  end to end (CLI)      {res['end_to_end_s']:7.2f} s   target < {TARGET_S:.0f} s: "
          f"{'yes' if res['meets_target'] else 'NO'}")
    print(f"  compare RUN#0 RUN#1   {res['compare_end_to_end_s']:7.2f} s")
    print(f"saved {save('convergence', res)}")


if __name__ == "__main__":
    main()
