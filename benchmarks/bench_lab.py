"""Benchmark: `nichelab run lab --seeds 200`, training alone and the whole run end to end.

Target (issue 2): the 200-seed study end to end in under 20 s on 2 CPU cores. For scale, the
lab's own Keras code takes about 11 s per seed, i.e. over half an hour for 200 seeds.

Usage: python benchmarks/bench_lab.py [--seeds 200] [--repeats 3]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save  # noqa: E402


def time_training(seeds: int) -> float:
    """Seconds to train `seeds` lab networks at once (in-process, imports excluded)."""
    from nichelab.data import load_blobs
    from nichelab.nn import build_model
    from nichelab.studies.lab import LabConfig
    from nichelab.train import train_ensemble

    cfg = LabConfig(seeds=seeds)
    d = load_blobs()
    t = time.perf_counter()
    train_ensemble(lambda s: build_model("mlp 2", (2,), 4, seed=s), d.X, d.y, cfg.train_config(), cfg.seed_list)
    return time.perf_counter() - t


def time_cli(seeds: int) -> float:
    """Wall-clock seconds of the whole command, Python start-up and imports included."""
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "nichelab", "run", "lab", "--seeds", str(seeds),
                        "--out", str(Path(tmp) / "run")], check=True, capture_output=True)
        return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    train = [time_training(args.seeds) for _ in range(args.repeats)]
    whole = [time_cli(args.seeds) for _ in range(args.repeats)]
    res = {"seeds": args.seeds, "training_s": min(train), "end_to_end_s": min(whole),
           "training_runs_s": train, "end_to_end_runs_s": whole, "target_end_to_end_s": 20.0,
           "keras_reference_s_per_seed": 11.0, "keras_reference_total_s": 11.0 * args.seeds}
    res["meets_target"] = res["end_to_end_s"] < 20.0
    print(f"lab study, {args.seeds} seeds (best of {args.repeats})")
    print(f"  training          {res['training_s']:7.2f} s")
    print(f"  end to end (CLI)  {res['end_to_end_s']:7.2f} s   target < 20 s: {'yes' if res['meets_target'] else 'NO'}")
    print(f"  Keras lab code    {res['keras_reference_total_s']:7.0f} s   (11 s per seed, for scale)")
    print(f"saved {save('lab', res)}")


if __name__ == "__main__":
    main()
