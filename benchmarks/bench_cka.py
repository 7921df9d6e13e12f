"""Benchmark linear CKA, the layer matrix and minibatch CKA; writes benchmarks/results/cka.json.

    python benchmarks/bench_cka.py [--quick]

1. linear_cka on n=10,000 samples, 512 units per side, against
   (a) the bare matrix products X'X, Y'Y, Y'X on the same input (target: linear_cka <= 2x), and
   (b) the plain Gram-matrix formula (two n x n Grams, double-centred, HSIC).
2. cka_matrix for 6 layers of 512 units on 10,000 samples: one network (6 x 6 against itself)
   and two networks (6 x 6 across), against a loop of linear_cka calls.
3. MinibatchCKA over 200,000 samples in batches of 1,000 generated on the fly, with the
   tracemalloc peak for 20,000 and 200,000 samples (and batch 2,000): memory set by the batch.

Timings are the best of several repeats (other processes share the machine); the products
and linear_cka runs are interleaved so both see the same load.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
import tracemalloc
from pathlib import Path

import numpy as np

from nichelab.metrics.similarity import MinibatchCKA, cka_matrix, linear_cka

RESULTS = Path(__file__).resolve().parent / "results" / "cka.json"


def correlated(rng: np.random.Generator, n: int, d: int, latent: np.ndarray) -> np.ndarray:
    """(n, d) float64 activations sharing a latent factor, plus noise and an offset."""
    w = rng.normal(size=(latent.shape[1], d)) / np.sqrt(latent.shape[1])
    return np.tanh(latent @ w) + 0.5 * rng.normal(size=(n, d)) + 3.0


def best_of(fn, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def products(x: np.ndarray, y: np.ndarray):
    return x.T @ x, y.T @ y, y.T @ x


def gram_formula_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Plain Gram-matrix CKA: K = XX', L = YY', double-centred, HSIC ratio (float64)."""
    def centred_gram(a):
        k = a @ a.T
        k -= k.mean(axis=0, keepdims=True)
        k -= k.mean(axis=1, keepdims=True)
        return k

    k = centred_gram(x)
    l = centred_gram(y)
    return float(np.vdot(k, l) / np.sqrt(np.vdot(k, k) * np.vdot(l, l)))


def bench_linear(rng, n, d, repeats):
    latent = rng.normal(size=(n, 32))
    x, y = correlated(rng, n, d, latent), correlated(rng, n, d, latent)
    t_cka, t_prod = float("inf"), float("inf")
    for _ in range(repeats):  # interleaved
        t, value = best_of(lambda: linear_cka(x, y), 1)
        t_cka = min(t_cka, t)
        t_prod = min(t_prod, best_of(lambda: products(x, y), 1)[0])
    t_deb, value_deb = best_of(lambda: linear_cka(x, y, debiased=True), max(1, repeats // 2))
    t_gram, value_gram = best_of(lambda: gram_formula_cka(x, y), 1)
    return {
        "n": n, "d1": d, "d2": d,
        "linear_cka_s": t_cka, "linear_cka_debiased_s": t_deb, "products_s": t_prod,
        "gram_formula_s": t_gram,
        "ratio_cka_over_products": t_cka / t_prod,
        "speedup_over_gram_formula": t_gram / t_cka,
        "cka": value, "cka_debiased": value_deb, "cka_gram_formula": value_gram,
        "abs_diff_vs_gram_formula": abs(value - value_gram),
        "target_ratio_max": 2.0, "target_met": t_cka / t_prod <= 2.0,
    }


def bench_matrix(rng, n, d, n_layers, naive: bool):
    latent = rng.normal(size=(n, 32))
    net_a = {f"L{i + 1}": correlated(rng, n, d, latent) for i in range(n_layers)}
    net_b = {f"L{i + 1}": correlated(rng, n, d, latent) for i in range(n_layers)}
    t_one, (_, _, m_one) = best_of(lambda: cka_matrix(net_a), 1)
    t_two, (_, _, m_two) = best_of(lambda: cka_matrix(net_a, net_b), 1)
    out = {
        "n": n, "units_per_layer": d, "layers": n_layers,
        "one_network_s": t_one, "two_networks_s": t_two,
        "one_network_offdiag_mean": float(m_one[~np.eye(n_layers, dtype=bool)].mean()),
        "two_networks_mean": float(m_two.mean()),
    }
    if naive:
        names = list(net_a)

        def loop():
            return np.array([[linear_cka(net_a[a], net_b[b]) for b in names] for a in names])

        t_loop, m_loop = best_of(loop, 1)
        out["two_networks_linear_cka_loop_s"] = t_loop
        out["speedup_over_loop"] = t_loop / t_two
        out["max_abs_diff_vs_loop"] = float(np.abs(m_loop - m_two).max())
    return out


def stream(n_total: int, batch: int, d: int, seed: int) -> dict:
    """MinibatchCKA over generated batches; tracemalloc peak and time in update()."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(16, d)) / 4.0
    metric = MinibatchCKA()
    t_update = 0.0
    tracemalloc.start()
    t0 = time.perf_counter()
    for _ in range(n_total // batch):
        z = rng.normal(size=(batch, 16))
        xb = np.tanh(z @ w) + 0.5 * rng.normal(size=(batch, d))
        yb = z @ w[:, ::-1] + rng.normal(size=(batch, d))
        t1 = time.perf_counter()
        metric.update(xb, yb)
        t_update += time.perf_counter() - t1
        del z, xb, yb
    value = metric.compute()
    total = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "n_samples": metric.n_samples, "batch": batch, "d1": d, "d2": d,
        "total_s": total, "update_s": t_update, "peak_mib": peak / 2**20, "cka": value,
        "one_batch_pair_mib": 2 * batch * d * 8 / 2**20,
    }


def bench_minibatch(n_total, batch, d):
    small = stream(n_total // 10, batch, d, seed=1)
    full = stream(n_total, batch, d, seed=1)
    double = stream(n_total // 10, 2 * batch, d, seed=1)
    return {
        "full": full, "tenth": small, "double_batch": double,
        "peak_ratio_full_over_tenth": full["peak_mib"] / small["peak_mib"],
        "all_data_pair_mib": 2 * n_total * d * 8 / 2**20,
    }


def blas_info() -> dict:
    try:
        from threadpoolctl import threadpool_info

        return {k: v for k, v in threadpool_info()[0].items() if k in ("internal_api", "version", "num_threads", "architecture")}
    except Exception:  # noqa: BLE001 - informational only
        return {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (default: BLAS's own)")
    args = parser.parse_args()
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    n, d, layers, stream_n, batch, repeats = (10_000, 512, 6, 200_000, 1_000, 5)
    if args.quick:
        n, d, stream_n, batch, repeats = 2_000, 128, 20_000, 500, 2
    rng = np.random.default_rng(0)
    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "numpy": np.__version__, "blas": blas_info(),
                    "load_average_1min": os.getloadavg()[0]},
        "linear_cka": bench_linear(rng, n, d, repeats),
        "cka_matrix": bench_matrix(rng, n, d, layers, naive=True),
        "minibatch_cka": bench_minibatch(stream_n, batch, d),
    }
    lin, mat, mb = results["linear_cka"], results["cka_matrix"], results["minibatch_cka"]
    rows = [
        (f"linear_cka  n={n} d={d}+{d}", f"{lin['linear_cka_s']:.3f} s", f"CKA {lin['cka']:.6f}"),
        ("  products X'X, Y'Y, Y'X alone", f"{lin['products_s']:.3f} s",
         f"ratio {lin['ratio_cka_over_products']:.2f}x (target <= 2x: {'met' if lin['target_met'] else 'MISSED'})"),
        ("  plain Gram-matrix formula", f"{lin['gram_formula_s']:.3f} s",
         f"{lin['speedup_over_gram_formula']:.1f}x slower; |diff| {lin['abs_diff_vs_gram_formula']:.1e}"),
        ("  linear_cka debiased", f"{lin['linear_cka_debiased_s']:.3f} s", f"CKA {lin['cka_debiased']:.6f}"),
        (f"cka_matrix {layers}x{layers}, one network", f"{mat['one_network_s']:.3f} s", "21 distinct pairs"),
        (f"cka_matrix {layers}x{layers}, two networks", f"{mat['two_networks_s']:.3f} s", "36 pairs"),
        ("  loop of 36 linear_cka calls", f"{mat['two_networks_linear_cka_loop_s']:.3f} s",
         f"{mat['speedup_over_loop']:.1f}x slower; max |diff| {mat['max_abs_diff_vs_loop']:.1e}"),
        (f"MinibatchCKA {mb['full']['n_samples']} samples / batch {batch}", f"{mb['full']['total_s']:.3f} s",
         f"update {mb['full']['update_s']:.3f} s; peak {mb['full']['peak_mib']:.1f} MiB; CKA {mb['full']['cka']:.4f}"),
        (f"  same, {mb['tenth']['n_samples']} samples", f"{mb['tenth']['total_s']:.3f} s",
         f"peak {mb['tenth']['peak_mib']:.1f} MiB (full/tenth {mb['peak_ratio_full_over_tenth']:.2f})"),
        (f"  batch {2 * batch}, {mb['double_batch']['n_samples']} samples", f"{mb['double_batch']['total_s']:.3f} s",
         f"peak {mb['double_batch']['peak_mib']:.1f} MiB (all data would be {mb['all_data_pair_mib']:.0f} MiB)"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  {'time':>9}  notes")
    for name, t, note in rows:
        print(f"{name:<{width}}  {t:>9}  {note}")
    if not args.quick:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        tmp = RESULTS.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(results, indent=2) + "\n")
        tmp.replace(RESULTS)
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
