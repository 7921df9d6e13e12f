"""Benchmark: the default `nichelab run transfer`, end to end, and its stages.

Target (issue 7): the default study (digits 0-4 and parts images -> digits 5-9; an MLP 64-64-64
and a CNN 16-32 fc=64; 3 seeds; 5 conditions x 3 cuts) in under 5 minutes on 2 CPU cores.
Also times the study in-process with 1 and 2 torch threads (the study's ``threads`` option), to
check its default of one thread.

Usage: python benchmarks/bench_transfer.py [--repeats 1] [--skip-threads]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save  # noqa: E402

TARGET_S = 300.0


def time_cli() -> float:
    """Wall-clock seconds of `nichelab run transfer` with defaults (start-up, imports and writing included)."""
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "nichelab", "run", "transfer", "--out", str(Path(tmp) / "run")],
                       check=True, capture_output=True)
        return time.perf_counter() - t


def time_study(threads: int) -> dict:
    """Seconds of ``run(TransferConfig(threads=...))`` in-process, with the study's own stage timings."""
    from nichelab.studies import transfer

    t = time.perf_counter()
    res = transfer.run(transfer.TransferConfig(threads=threads))
    total = time.perf_counter() - t
    return {"threads": threads, "study_s": total, "stages_s": res.timings,
            "trainings": sum(len(a["cells"]) - 1 - len(a["baseA_accuracy_on_A"]) for a in res.architectures) * res.config.seeds}


def load() -> float | None:
    """1-minute load average (other processes competing for the cores), if known."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--skip-threads", action="store_true", help="Skip the in-process 1 vs 2 threads comparison.")
    args = ap.parse_args()
    load_before = load()
    whole = [time_cli() for _ in range(args.repeats)]
    studies = [] if args.skip_threads else [time_study(1), time_study(2)]
    res = {"end_to_end_s": min(whole), "end_to_end_runs_s": whole, "target_end_to_end_s": TARGET_S,
           "meets_target": min(whole) < TARGET_S, "in_process": studies,
           "load_average_1min": {"before": load_before, "after": load()},
           "setting": "defaults: sources digits:0-4 and parts, target digits:5-9, mlp 64-64-64 and cnn 16-32 fc=64, "
                      "3 seeds, 20 epochs, batch 64"}
    print("transfer study, default settings")
    print(f"  end to end (CLI, best of {args.repeats})  {res['end_to_end_s']:7.1f} s   target < {TARGET_S:.0f} s: "
          f"{'yes' if res['meets_target'] else 'NO'}")
    for s in studies:
        st = s["stages_s"]
        train = sum(v for k, v in st.items() if k.endswith(("bases_s", "cells_s")))
        print(f"  in-process, {s['threads']} torch thread(s)   {s['study_s']:7.1f} s   (training {train:.1f} s, "
              f"{s['trainings']} cell networks)")
    print(f"  load average before/after: {load_before} / {res['load_average_1min']['after']}")
    print(f"saved {save('transfer', res)}")


if __name__ == "__main__":
    main()
