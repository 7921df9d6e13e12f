"""Benchmark: many seeds at once against the one-seed loop, and `nichelab run lab --seeds 1000` end to end.

Targets (issue 5): 1000 lab seeds end to end in under 10 s; the vectorised trainer at least 20
times faster than running the one-seed loop 100 times. Lab settings: Dense(2, ReLU) -> Dense(4),
Adam 0.01, 200 epochs, batch 32, 100 points. A second pair times a deeper MLP with dropout on
digits (SGD + momentum), to show the ratio away from the lab's tiny matrices.

Usage: python benchmarks/bench_training.py [--cli-seeds 1000] [--loop-seeds 100] [--repeats 3]
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


def _setups():
    from nichelab.data import load_blobs, load_digits
    from nichelab.nn import build_model
    from nichelab.train import TrainConfig

    blobs, digits = load_blobs(), load_digits()
    return {
        "lab: mlp 2, adam, 200 epochs": (lambda s: build_model("mlp 2", (2,), 4, seed=s), blobs,
                                         TrainConfig(epochs=200)),
        "digits: mlp 64-32 dropout=0.2, sgd+momentum, 5 epochs": (
            lambda s: build_model("mlp 64-32 dropout=0.2", (64,), 10, seed=s), digits,
            TrainConfig(epochs=5, optimizer="sgd", lr=0.05, momentum=0.9)),
    }


def time_pair(build, data, cfg, seeds: int) -> dict:
    """Seconds for the ensemble on ``seeds`` seeds and for the one-seed loop run once per seed."""
    from nichelab.train import train_ensemble, train_one

    t = time.perf_counter()
    ens = train_ensemble(build, data.X, data.y, cfg, range(seeds))
    t_ens = time.perf_counter() - t
    t = time.perf_counter()
    for s in range(seeds):
        train_one(build(s), data.X, data.y, cfg, seed=s)
    t_loop = time.perf_counter() - t
    return {"seeds": seeds, "ensemble_s": t_ens, "loop_s": t_loop, "ratio": t_loop / t_ens, "backend": ens.backend}


def time_training(seeds: int) -> float:
    """Seconds to train ``seeds`` lab networks at once (in-process, imports excluded)."""
    from nichelab.data import load_blobs
    from nichelab.nn import build_model
    from nichelab.studies.lab import LabConfig
    from nichelab.train import train_ensemble

    cfg = LabConfig(seeds=seeds)
    d = load_blobs()
    t = time.perf_counter()
    train_ensemble(lambda s: build_model("mlp 2", (2,), 4, seed=s), d.X, d.y, cfg.train_config(), cfg.seed_list)
    return time.perf_counter() - t


def time_cli(seeds: int) -> tuple[float, dict]:
    """Wall-clock seconds of ``nichelab run lab --seeds N`` (start-up and imports included) and its timings."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "nichelab", "run", "lab", "--seeds", str(seeds), "--out", str(out)],
                       check=True, capture_output=True)
        wall = time.perf_counter() - t
        timings = json.loads((out / "results.json").read_text())["timings"]
    return wall, timings


def time_import() -> float:
    """Seconds for a fresh interpreter to import what `nichelab run lab` imports."""
    code = "import nichelab.cli, nichelab.studies.lab, nichelab.runs.runner"
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli-seeds", type=int, default=1000)
    ap.add_argument("--loop-seeds", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    pairs = {name: time_pair(b, d, c, args.loop_seeds) for name, (b, d, c) in _setups().items()}
    train = [time_training(args.cli_seeds) for _ in range(args.repeats)]
    imports = [time_import() for _ in range(args.repeats)]
    cli = [time_cli(args.cli_seeds) for _ in range(args.repeats)]
    best = min(range(len(cli)), key=lambda i: cli[i][0])
    lab = pairs["lab: mlp 2, adam, 200 epochs"]
    res = {"loop_vs_ensemble": pairs, "lab_training_s": min(train), "lab_training_runs_s": train,
           "cli_seeds": args.cli_seeds, "end_to_end_s": cli[best][0], "end_to_end_runs_s": [c[0] for c in cli],
           "end_to_end_timings": cli[best][1], "import_s": min(imports),
           "targets": {"end_to_end_s": 10.0, "ratio_at_100_seeds": 20.0}}
    res["meets_end_to_end"] = res["end_to_end_s"] < 10.0
    res["meets_ratio"] = lab["ratio"] >= 20.0

    print(f"vectorised trainer vs the one-seed loop, {args.loop_seeds} seeds")
    print(f"  {'setting':58s} {'ensemble':>9s} {'loop':>9s} {'ratio':>7s}")
    for name, p in pairs.items():
        print(f"  {name:58s} {p['ensemble_s']:8.2f}s {p['loop_s']:8.2f}s {p['ratio']:6.0f}x  ({p['backend']})")
    print(f"  target: lab ratio >= 20x: {'yes' if res['meets_ratio'] else 'NO'}")
    print(f"lab, {args.cli_seeds} seeds (best of {args.repeats})")
    print(f"  training (in-process)       {res['lab_training_s']:7.2f} s")
    print(f"  imports (fresh interpreter) {res['import_s']:7.2f} s")
    print(f"  end to end (CLI)            {res['end_to_end_s']:7.2f} s   target < 10 s: "
          f"{'yes' if res['meets_end_to_end'] else 'NO'}")
    t = res["end_to_end_timings"]
    print("  of which: " + ", ".join(f"{k} {v:.2f} s" for k, v in t.items()))
    print(f"saved {save('training', res)}")


if __name__ == "__main__":
    main()
