"""Layer-by-layer CKA of two MLPs, capture included: torch-cka 0.21 vs nichelab StreamingCKA.

    python benchmarks/bench_cka_stream.py [--quick] [--batch 256 1000] [--repeats 3]

Setting: two MLPs 784 -> 6 x (Linear 256 + ReLU) -> Linear 10, random init with torch seeds 0
and 1; 10,000 samples of 784 standard-normal features (float32, numpy seed 0); the 7 x 7 matrix
of CKA between the six ReLU outputs and the output layer of each model. Both tools get the same
data through a DataLoader of the same batch size, in one process each.

* torch-cka: ``CKA(model1, model2, ...).compare(loader)``. It computes *minibatch* CKA (Nguyen,
  Raghu & Kornblith 2021): per batch the unbiased HSIC of uncentred float32 linear kernels,
  averaged over batches, then the ratio -- an estimate that depends on the batch size, not the
  full-data CKA. It builds a (batch, batch) Gram matrix per layer pair and per batch.
* nichelab: forward hooks on the same modules feed each batch to ``StreamingCKA.update`` (float64
  d x d statistics), then ``compute(debiased=True)``: the exact full-data debiased CKA.

Each tool runs in its own subprocess (``--worker``) after its imports, data and models; the
process's peak-RSS counter is then reset (``echo 5 > /proc/self/clear_refs``, Linux) so the
reported peak (``VmHWM``) is the RSS before the run plus the tool's own working memory (the
increment is reported too; ``ru_maxrss`` where clear_refs is unavailable). Import costs are
outside the timed region for both (torch_cka; nichelab.metrics with the scipy BLAS and
threadpoolctl modules StreamingCKA imports lazily). Times are the best of ``--repeats`` runs,
the two tools interleaved so they see the same load (the machine is shared; load averages are
saved per run). A third worker checks the numbers: nichelab ``MinibatchCKA`` on the same batches
must reproduce torch-cka's values (float32 rounding aside), and ``StreamingCKA`` must equal
``cka_matrix`` on all the activations.

The floor of exactness. Exact linear CKA from d x d statistics needs the cross products
``[X_1..X_7]' [Y_1..Y_7]`` (2 n D_a D_b = 47.8 GFLOP here, D = 1,546 units per model) and each
layer's ``X'X`` (7.9 GFLOP) in float64; no exact method needs fewer operations (the n x n Gram
route needs more). A ``floor`` worker times those products on this machine exactly as
StreamingCKA issues them, and the two models' forward passes at each batch size (paid by both
tools); their sum is the least time any exact float64 implementation can take end to end, so
torch-cka time / floor is the largest speedup possible. The output says, per batch size,
whether the 20x target is reachable under that floor.
Results: benchmarks/results/cka_stream.json.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
import warnings

import numpy as np

N_SAMPLES, N_FEATURES, WIDTH, DEPTH = 10_000, 784, 256, 6
LAYERS = [str(2 * i + 1) for i in range(DEPTH)] + [str(2 * DEPTH)]   # ReLU outputs + output Linear


def _status_mib(field: str) -> float | None:
    from _common import status_kb
    kb = status_kb(field)
    return None if kb is None else kb / 1024.0


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def setup(n: int):
    import torch

    torch.set_num_threads(os.cpu_count() or 1)

    def mlp(seed: int) -> torch.nn.Sequential:
        torch.manual_seed(seed)
        mods, d = [], N_FEATURES
        for _ in range(DEPTH):
            mods += [torch.nn.Linear(d, WIDTH), torch.nn.ReLU()]
            d = WIDTH
        mods.append(torch.nn.Linear(WIDTH, 10))
        return torch.nn.Sequential(*mods).eval()

    x = torch.from_numpy(np.random.default_rng(0).normal(size=(n, N_FEATURES)).astype(np.float32))
    return torch, mlp(0), mlp(1), x


def loader(torch, x, batch):
    from torch.utils.data import DataLoader, TensorDataset
    return DataLoader(TensorDataset(x), batch_size=batch, shuffle=False)


def run_torch_cka(torch, m1, m2, x, batch):
    from torch_cka import CKA

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cka = CKA(m1, m2, model1_name="mlp_seed0", model2_name="mlp_seed1",
                  model1_layers=LAYERS, model2_layers=LAYERS)
        dl = loader(torch, x, batch)
        cka.compare(dl, dl)
    return cka.export()["CKA"].numpy().astype(np.float64)


def capture_batches(torch, m1, m2, dl):
    """Yield ({layer: acts of model 1}, {layer: acts of model 2}) per batch via forward hooks."""
    store: dict[str, dict[str, np.ndarray]] = {"a": {}, "b": {}}
    handles = []
    try:
        for side, model in (("a", m1), ("b", m2)):
            mods = dict(model.named_modules())
            for name in LAYERS:
                def hook(_mod, _inp, out, side=side, name=name):
                    store[side][name] = out.detach().numpy()
                handles.append(mods[name].register_forward_hook(hook))
        with torch.inference_mode():
            for (xb,) in dl:
                m1(xb)
                m2(xb)
                yield dict(store["a"]), dict(store["b"])
    finally:
        for h in handles:
            h.remove()


def run_nichelab(torch, m1, m2, x, batch):
    from nichelab.metrics import StreamingCKA

    acc = StreamingCKA()
    for acts_a, acts_b in capture_batches(torch, m1, m2, loader(torch, x, batch)):
        acc.update(acts_a, acts_b)
    return acc.compute(debiased=True)


def worker(tool: str, batch: int, n: int) -> dict:
    torch, m1, m2, x = setup(n)
    if tool == "torch_cka":
        import torch_cka  # noqa: F401  (import cost outside the timed region, as for nichelab)
    else:
        import scipy.linalg.blas  # noqa: F401  (StreamingCKA defers these imports; import costs
        import threadpoolctl  # noqa: F401        stay outside the timed region for both tools)

        import nichelab.metrics  # noqa: F401
    gc.collect()
    base = _status_mib("VmRSS")
    from _common import reset_peak
    exact = reset_peak()
    if not exact:
        base = rss_mib()
    t0 = time.perf_counter()
    try:
        matrix = (run_torch_cka if tool == "torch_cka" else run_nichelab)(torch, m1, m2, x, batch).tolist()
        error = None
    except AssertionError as err:   # torch-cka asserts "HSIC computation resulted in NANs"
        matrix, error = None, f"{type(err).__name__}: {err}"
    seconds = time.perf_counter() - t0
    peak = _status_mib("VmHWM") if exact else rss_mib()
    return {"seconds": seconds, "peak_rss_mib": peak, "base_rss_mib": base, "matrix": matrix,
            "error": error, "peak_method": "VmHWM after clear_refs" if exact else "ru_maxrss",
            "load_average": os.getloadavg()}


def check(batch: int, n: int) -> dict:
    """Reference values: MinibatchCKA on torch-cka's batches, cka_matrix on all activations."""
    from nichelab.metrics import MinibatchCKA, cka_matrix

    torch, m1, m2, x = setup(n)
    batches = list(capture_batches(torch, m1, m2, loader(torch, x, batch)))
    mini = np.empty((len(LAYERS), len(LAYERS)))
    for i, la in enumerate(LAYERS):
        for j, lb in enumerate(LAYERS):
            acc = MinibatchCKA()
            for a, b in batches:
                if len(a[la]) >= 4:
                    acc.update(a[la], b[lb])
            mini[i, j] = acc.compute()
    full_a = {k: np.concatenate([a[k] for a, _ in batches]) for k in LAYERS}
    full_b = {k: np.concatenate([b[k] for _, b in batches]) for k in LAYERS}
    full = cka_matrix(full_a, full_b, debiased=True)[2]
    offset = {k: float(np.abs(v.mean(0)).max() / v.std(0).mean()) for k, v in full_b.items()}
    out = {"minibatch": mini.tolist(), "full_debiased": full.tolist(), "mean_over_std_b": offset}
    if batch <= 256:   # torch-cka's own formula, typed in, in float64 (O(batch^3) per pair)
        out["torch_cka_formula_float64"] = torch_cka_formula(torch, batches, torch.float64).tolist()
    return out


def torch_cka_formula(torch, batches, dtype) -> np.ndarray:
    """torch-cka 0.21's ``_HSIC`` and ``compare`` arithmetic, in ``dtype``: per batch the unbiased
    HSIC of uncentred linear Grams with zeroed diagonals, averaged, then the ratio."""
    def hsic(k, l):
        n = k.shape[0]
        ones = torch.ones(n, 1, dtype=dtype)
        result = torch.trace(k @ l)
        result += ((ones.t() @ k @ ones @ ones.t() @ l @ ones) / ((n - 1) * (n - 2))).item()
        result -= ((ones.t() @ k @ l @ ones) * 2 / (n - 2)).item()
        return (1 / (n * (n - 3)) * result).item()

    sums = np.zeros((len(LAYERS), len(LAYERS), 3))
    for a, b in batches:
        grams = []
        for acts in (a, b):
            g = {}
            for name in LAYERS:
                x = torch.from_numpy(acts[name]).to(dtype)
                k = x @ x.t()
                k.fill_diagonal_(0.0)
                g[name] = k
            grams.append(g)
        for i, la in enumerate(LAYERS):
            for j, lb in enumerate(LAYERS):
                k, l = grams[0][la], grams[1][lb]
                sums[i, j] += (hsic(k, k), hsic(k, l), hsic(l, l))
    return sums[..., 1] / np.sqrt(sums[..., 0] * sums[..., 2])


def floor(batches: list[int], n: int) -> dict:
    """What any exact float64 method must spend here, measured on this machine.

    * forward: both models' forward passes over the loader (inference mode, no hooks), per
      batch size -- paid by torch-cka and nichelab alike;
    * products: the float64 products that exact d x d statistics need, timed on one staging
      chunk exactly as StreamingCKA issues them (the cross product [X_1..X_7]'[Y_1..Y_7] with
      threaded dgemm, one unthreaded dsyrk per layer) and scaled to n samples;
    * the GEMM rate of the cross product at that chunk size and at 4096 rows.
    """
    from scipy.linalg import blas
    from threadpoolctl import threadpool_limits

    from nichelab.metrics._checks import CHUNK_ELEMENTS

    torch, m1, m2, x = setup(n)
    forward = {}
    for batch in batches:
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            with torch.inference_mode():
                for (xb,) in loader(torch, x, batch):
                    m1(xb)
                    m2(xb)
            times.append(time.perf_counter() - t0)
        forward[str(batch)] = min(times)
    widths = [WIDTH] * DEPTH + [10]
    d_a = sum(widths)
    d = 2 * d_a
    rows = max(1, CHUNK_ELEMENTS // d)
    rng = np.random.default_rng(0)

    def best_of(fn, repeats=5):
        out = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
        return min(out)

    def products(m):
        z = np.asfortranarray(rng.normal(size=(m, d)))
        cross = np.zeros((d_a, d_a), order="F")
        diag = [np.zeros((w, w), order="F") for w in widths + widths]
        edges = np.concatenate([[0], np.cumsum(widths + widths)])

        def run_cross():
            blas.dgemm(1.0, z[:, :d_a], z[:, d_a:], beta=1.0, c=cross, trans_a=1, overwrite_c=1)

        def run_diag():
            with threadpool_limits(1, user_api="blas"):
                for k, c in enumerate(diag):
                    blas.dsyrk(1.0, z[:, edges[k]:edges[k + 1]], beta=1.0, c=c, trans=1, overwrite_c=1)
        return best_of(run_cross), best_of(run_diag)

    t_cross, t_diag = products(rows)
    t_cross_big, _ = products(4096)
    flops_cross = 2.0 * n * d_a * d_a
    flops_diag = 2.0 * n * sum(w * (w + 1) / 2 for w in widths + widths)
    return {
        "forward_seconds": forward,
        "chunk_rows": rows,
        "flops": {"cross": flops_cross, "per_layer": flops_diag},
        "gemm_gflops_chunk": 2.0 * rows * d_a * d_a / t_cross / 1e9,
        "gemm_gflops_4096_rows": 2.0 * 4096 * d_a * d_a / t_cross_big / 1e9,
        "syrk_gflops_chunk_1_thread": 2.0 * rows * sum(w * (w + 1) / 2 for w in widths + widths) / t_diag / 1e9,
        "products_seconds": (t_cross + t_diag) * n / rows,
        "statistics_mib": 8.0 * (d_a * d_a + 2 * sum(w * w for w in widths)) / 2**20,
        "staging_mib": 8.0 * rows * d / 2**20,
        "load_average": os.getloadavg(),
    }


def _maxdiff(a, b) -> float | None:
    d = np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))
    return None if np.isnan(d).all() else float(np.nanmax(d))


def spawn(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"worker {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 samples, 1 repeat")
    parser.add_argument("--batch", type=int, nargs="+", default=[64, 256, 1000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--worker", choices=["torch_cka", "nichelab", "check", "floor"])
    parser.add_argument("--n", type=int, default=N_SAMPLES)
    args = parser.parse_args()
    if args.worker:
        if args.worker == "floor":
            result = floor(args.batch, args.n)
        elif args.worker == "check":
            result = check(args.batch[0], args.n)
        else:
            result = worker(args.worker, args.batch[0], args.n)
        print(json.dumps(result))
        return

    n = 2_000 if args.quick else args.n
    repeats = 1 if args.quick else args.repeats
    load_before = os.getloadavg()
    rows, floors = [], []
    for batch in args.batch:
        runs = {"torch_cka": [], "nichelab": []}
        flb = []
        for i in range(repeats):          # interleaved, so both tools and the floor see the same load
            for tool in runs:
                if i and runs[tool][0]["seconds"] > 60:     # slow runs: once
                    continue
                runs[tool].append(spawn(["--worker", tool, "--batch", str(batch), "--n", str(n)]))
            flb.append(spawn(["--worker", "floor", "--n", str(n), "--batch", str(batch)]))
        fl = min(flb, key=lambda f: f["forward_seconds"][str(batch)] + f["products_seconds"])
        floors.append(fl)
        ref = spawn(["--worker", "check", "--batch", str(batch), "--n", str(n)])
        best = {tool: min(r, key=lambda r: r["seconds"]) for tool, r in runs.items()}
        tc_error = best["torch_cka"]["error"]
        tc = np.full((len(LAYERS), len(LAYERS)), np.nan) if tc_error else np.array(best["torch_cka"]["matrix"])
        nl = np.array(best["nichelab"]["matrix"])
        rows.append({
            "batch": batch,
            "seconds": {t: [r["seconds"] for r in rs] for t, rs in runs.items()},
            "best_seconds": {t: b["seconds"] for t, b in best.items()},
            "speedup": best["torch_cka"]["seconds"] / best["nichelab"]["seconds"],
            "exact_floor_seconds": fl["forward_seconds"][str(batch)] + fl["products_seconds"],
            "max_possible_speedup": best["torch_cka"]["seconds"] / (fl["forward_seconds"][str(batch)]
                                                                    + fl["products_seconds"]),
            "target_20x_seconds": best["torch_cka"]["seconds"] / 20.0,
            "load_average_per_run": {t: [r["load_average"] for r in rs] for t, rs in runs.items()},
            "peak_rss_mib": {t: min(r["peak_rss_mib"] for r in rs) for t, rs in runs.items()},
            "base_rss_mib": {t: min(r["base_rss_mib"] for r in rs) for t, rs in runs.items()},
            "working_mib": {t: min(r["peak_rss_mib"] - r["base_rss_mib"] for r in rs) for t, rs in runs.items()},
            "peak_method": best["nichelab"]["peak_method"],
            "max_abs_diff": {
                "torch_cka_vs_nichelab_minibatch_cka": _maxdiff(tc, ref["minibatch"]),
                "torch_cka_vs_nichelab_minibatch_cka_relu_layers": _maxdiff(
                    tc[:DEPTH, :DEPTH], np.array(ref["minibatch"])[:DEPTH, :DEPTH]),
                "nichelab_stream_vs_cka_matrix_full": float(np.abs(nl - np.array(ref["full_debiased"])).max()),
                "torch_cka_formula_in_float64_vs_nichelab_minibatch_cka": (
                    _maxdiff(ref["torch_cka_formula_float64"], ref["minibatch"])
                    if "torch_cka_formula_float64" in ref else None),
                "torch_cka_minibatch_vs_full_debiased": _maxdiff(tc, nl),
            },
            "layer_mean_over_std_model_b": ref["mean_over_std_b"],
            "torch_cka_error": tc_error,
            "torch_cka_matrix": None if tc_error else tc.tolist(), "nichelab_matrix": nl.tolist(),
        })

    print(f"CKA 7x7 layer matrix, two MLPs {N_FEATURES}-{'-'.join([str(WIDTH)] * DEPTH)}-10, "
          f"n={n}, capture included (best of {repeats}; load average before {load_before[0]:.1f})")
    print(f"{'batch':>6} {'torch-cka s':>12} {'nichelab s':>11} {'speedup':>8} {'floor s':>8} {'max x':>6} "
          f"{'peak RSS MiB tc / nl':>22} {'(+ over base)':>16} {'|tc-mini|':>10} {'relu only':>10} {'|nl-full|':>10}")
    for r in rows:
        p, w = r["peak_rss_mib"], r["working_mib"]
        d = {k: (np.nan if v is None else v) for k, v in r["max_abs_diff"].items()}
        print(f"{r['batch']:>6} {r['best_seconds']['torch_cka']:>12.3f} {r['best_seconds']['nichelab']:>11.3f} "
              f"{r['speedup']:>7.1f}x {r['exact_floor_seconds']:>8.2f} {r['max_possible_speedup']:>5.1f}x "
              f"{p['torch_cka']:>10.0f} / {p['nichelab']:<9.0f} "
              f"{w['torch_cka']:>6.0f} / {w['nichelab']:<7.0f} "
              f"{d['torch_cka_vs_nichelab_minibatch_cka']:>10.1e} "
              f"{d['torch_cka_vs_nichelab_minibatch_cka_relu_layers']:>10.1e} "
              f"{d['nichelab_stream_vs_cka_matrix_full']:>10.1e}"
              + (f"  torch-cka failed: {r['torch_cka_error']}" if r["torch_cka_error"] else ""))
    print("|tc-mini|: torch-cka vs nichelab MinibatchCKA (float64) on the same batches; "
          "|nl-full|: StreamingCKA vs cka_matrix on all activations")
    fl = {**min(floors, key=lambda f: f["products_seconds"]),
          "forward_seconds": {str(b): f["forward_seconds"][str(b)] for b, f in zip(args.batch, floors)}}
    print(f"Floor of exact float64 CKA here: the cross products need {fl['flops']['cross'] / 1e9:.1f} GFLOP "
          f"(2 n D_a D_b, D = {len(LAYERS)} layers = {DEPTH * WIDTH + 10} units per model) and the per-layer "
          f"X'X {fl['flops']['per_layer'] / 1e9:.1f} GFLOP; this machine's float64 GEMM ran at "
          f"{fl['gemm_gflops_chunk']:.0f} GFLOP/s on a {fl['chunk_rows']}-row chunk "
          f"({fl['gemm_gflops_4096_rows']:.0f} at 4096 rows), so the products take "
          f"{fl['products_seconds']:.2f} s; with the two models' forward passes (paid by both tools: "
          + ", ".join(f"{fl['forward_seconds'][str(b)]:.2f} s at batch {b}" for b in args.batch)
          + ") that is the 'floor s' column, and 'max x' = torch-cka time / floor.")
    for r in rows:
        ok = r["exact_floor_seconds"] <= r["target_20x_seconds"]
        print(f"batch {r['batch']}: 20x needs <= {r['target_20x_seconds']:.2f} s; the exact floor is "
              f"{r['exact_floor_seconds']:.2f} s -> 20x {'is possible' if ok else 'is impossible'} "
              f"(at most {r['max_possible_speedup']:.1f}x); measured {r['speedup']:.1f}x")
    print(f"Memory floor: the float64 statistics are {fl['statistics_mib']:.1f} MiB (D_a x D_b cross "
          f"product + per-layer X'X) plus the {fl['staging_mib']:.1f} MiB staging buffer; "
          "'+ over base' is each tool's peak RSS above its RSS before the run "
          f"({rows[0]['peak_method']}).")
    for r in rows:
        f64 = r["max_abs_diff"]["torch_cka_formula_in_float64_vs_nichelab_minibatch_cka"]
        if f64 is not None:
            print(f"batch {r['batch']}: torch-cka's formula typed in float64 vs nichelab MinibatchCKA: "
                  f"max |diff| {f64:.1e} (so |tc-mini| is torch-cka's float32 rounding)")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _common import save
    path = save("cka_stream", {
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "exact_float64_floor": fl,
        "exact_float64_floor_per_batch": floors,
        "setting": {"n_samples": n, "n_features": N_FEATURES, "width": WIDTH, "depth": DEPTH,
                    "layers": LAYERS, "repeats": repeats, "torch_cka": "0.21"},
        "what_is_computed": {
            "torch_cka": "minibatch CKA (Nguyen et al. 2021): mean over batches of the unbiased HSIC "
                         "of uncentred float32 linear Grams, then the ratio; depends on the batch size",
            "nichelab": "StreamingCKA.compute(debiased=True): exact full-data debiased linear CKA "
                        "(float64 d x d statistics), independent of the batch size",
        },
        "rows": rows,
    })
    print(f"saved {path}")


if __name__ == "__main__":
    main()
