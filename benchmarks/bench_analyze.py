"""Benchmark: `nichelab analyze` stage by stage.

Cases:

- ``digits``: the built-in default, ``mlp 64-32`` trained 30 epochs on digits (1,258 training
  samples), census of the 539 held-out samples, ablation of all 96 units.
- ``user-mlp``: a user's TorchScript ``784-256-256-10`` MLP (untrained, Glorot-like init) on
  n = 10,000 samples of 784 standard-normal features with random labels; census of every sample,
  single-unit ablation of all 512 hidden units on the default 2,000-sample subset.

Each stage's seconds come from the result's own timings (prepare includes loading and training),
plus the report (figures + HTML) and the JSON encoding. The 1-minute load average is recorded: on a
shared machine wall time is inflated by other processes.

Run:  python benchmarks/bench_analyze.py [--cases digits user-mlp]
Writes benchmarks/results/analyze.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "analyze.json"


def _user_files(folder: Path, n: int) -> tuple[str, str]:
    import numpy as np
    import torch
    from torch import nn

    rng = np.random.default_rng(0)
    np.savez(folder / "data.npz", X=rng.standard_normal((n, 784), dtype=np.float32), y=rng.integers(0, 10, n))
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)).eval()
    torch.jit.save(torch.jit.script(model), str(folder / "model.pt"))
    return str(folder / "data.npz"), str(folder / "model.pt")


def bench(case: str) -> dict:
    from nichelab.reporting import render_page
    from nichelab.runs.jsonio import dumps
    from nichelab.studies.analyze import AnalyzeConfig, run

    with tempfile.TemporaryDirectory() as tmp:
        if case == "digits":
            cfg = AnalyzeConfig(dataset="digits", model="mlp 64-32")
        else:
            data, model = _user_files(Path(tmp), 10_000)
            cfg = AnalyzeConfig(dataset=data, model=model)
        t0 = time.perf_counter()
        res = run(cfg)
        t_run = time.perf_counter() - t0
        t1 = time.perf_counter()
        html = render_page(res)
        t_report = time.perf_counter() - t1
        t2 = time.perf_counter()
        text = dumps(res.to_dict())
        t_json = time.perf_counter() - t2
    return {"case": case, "n_samples": res.data.get("n_samples"), "units": sum(l["units"] for l in res.layers),
            "ablation_samples": len(res.ablation_indices), "seconds_run": t_run, "stages": res.timings,
            "seconds_report": t_report, "seconds_json": t_json, "html_mb": len(html) / 2**20,
            "json_mb": len(text) / 2**20, "load_average_1min": os.getloadavg()[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=["digits", "user-mlp"], choices=["digits", "user-mlp"])
    args = ap.parse_args()
    rows = [bench(c) for c in args.cases]
    print(f"{'case':>9} {'n':>6} {'units':>5} {'abl n':>5} {'run s':>6} {'prep s':>6} {'capt s':>6} {'census s':>8} "
          f"{'abl s':>6} {'report s':>8} {'json s':>6} {'html MB':>7} {'load':>5}")
    for r in rows:
        s = r["stages"]
        print(f"{r['case']:>9} {r['n_samples']:>6} {r['units']:>5} {r['ablation_samples']:>5} {r['seconds_run']:6.2f} "
              f"{s['prepare_s']:6.2f} {s['capture_s']:6.2f} {s['census_s']:8.2f} {s['ablation_s']:6.2f} "
              f"{r['seconds_report']:8.2f} {r['seconds_json']:6.2f} {r['html_mb']:7.2f} {r['load_average_1min']:5.1f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"python": platform.python_version(), "machine": platform.machine(),
                                   "cpus": os.cpu_count(), "results": rows}, indent=2))
    print(f"saved {RESULTS}")


if __name__ == "__main__":
    main()
