"""Figure-ready numbers of the convergence study (and of compare's unit matching), computed once
here so that figures only draw.

Values that are only drawn are rounded to 4 decimals to keep ``results.json`` small.
"""
from __future__ import annotations

import numpy as np

from ...metrics.identification import most_similar
from ...metrics.matching import match_units, unit_correlation
from ...metrics.units import constant_units
from .analysis import ConvergenceAnalysis
from .measures import DISTANCES

__all__ = ["reorder_by_matching", "matching_panel", "matching_panels", "unit_distributions", "unit_shares",
           "heatmap_best", "layer_pair_matches", "DISTRIBUTIONS"]

#: The three ways a unit is compared with another network, in the order they are drawn.
DISTRIBUTIONS = ("one_to_one", "semi", "linear_combination")


def _round(x) -> np.ndarray:
    return np.round(np.asarray(x, dtype=np.float64), 4)


def reorder_by_matching(corr: np.ndarray, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows sorted by matched correlation (best first), columns in their partners' order, then the rest.

    Parameters
    ----------
    corr : (d1, d2) float — unit correlations.
    pairs : (k, 2) int — one-to-one matches (unit i of rows, unit j of columns).

    Returns
    -------
    (matrix, row_order, col_order) : the matched pairs lie on the diagonal of ``matrix``.
    """
    corr = np.asarray(corr, float)
    pairs = np.asarray(pairs, int).reshape(-1, 2)
    score = corr[pairs[:, 0], pairs[:, 1]]
    order = np.argsort(-score, kind="stable")
    rows_m, cols_m = pairs[order, 0], pairs[order, 1]
    rows = np.r_[rows_m, np.setdiff1d(np.arange(corr.shape[0]), rows_m)].astype(np.int64)
    cols = np.r_[cols_m, np.setdiff1d(np.arange(corr.shape[1]), cols_m)].astype(np.int64)
    return corr[np.ix_(rows, cols)], rows, cols


def matching_panel(title: str, corr: np.ndarray, pairs: np.ndarray) -> dict:
    """``{"title", "matrix" (reordered, matches on the diagonal), "rows", "cols"}`` for one layer."""
    m, rows, cols = reorder_by_matching(corr, pairs)
    return {"title": title, "matrix": _round(m), "rows": rows, "cols": cols}


def matching_panels(a: ConvergenceAnalysis, acts: list[dict], seeds: list[int], pair: int = 0) -> dict:
    """Unit correlation matrices of one ordered seed pair, every layer, reordered by the matching."""
    i, j = a.pairs[pair]
    panels = []
    for n in a.layers:
        corr = unit_correlation(acts[i][n], acts[j][n])
        pairs = np.stack([np.arange(corr.shape[0]), a.partner[n][pair]], axis=1)
        pairs = pairs[pairs[:, 1] >= 0]
        panels.append(matching_panel(f"{n}: seed {seeds[i]} vs seed {seeds[j]}", corr, pairs))
    return {"seed_a": seeds[i], "seed_b": seeds[j], "panels": panels}


def unit_distributions(a: ConvergenceAnalysis) -> dict:
    """Per kind of comparison (:data:`DISTRIBUTIONS`), per layer: the live units' correlations
    pooled over ordered seed pairs (finite values only)."""
    what = {"one_to_one": a.matched, "semi": a.semi, "linear_combination": a.linpred}
    return {k: {n: _round(a.pooled(what[k], n)) for n in a.layers} for k in DISTRIBUTIONS}


def unit_shares(summaries: list[dict]) -> dict:
    """Per layer, shares of *all* units: counterpart (>= high), loose (low .. high), none (< low), dead."""
    live = np.array([1 - s["dead_mean"] / s["width"] for s in summaries])
    high = np.array([s["frac_high"] for s in summaries], float)
    low = np.array([s["frac_low"] for s in summaries], float)
    none = np.array([s["frac_none"] for s in summaries], float)
    return {"high": np.nan_to_num(high * live), "loose": np.nan_to_num((low - high) * live),
            "none": np.nan_to_num(none * live), "dead": 1 - live}


def heatmap_best(a: ConvergenceAnalysis) -> dict:
    """Each row's most similar column (-1: none finite) of every heatmap: ``within`` (linear CKA inside
    one seed) and every measure across seeds."""
    out = {"within": most_similar(a.within.mean(axis=0))}
    out.update({m: most_similar(a.cross_mean(m), m in DISTANCES) for m in a.similarity})
    return out


def pair_units(match, names_a: list[str], names_b: list[str], dead_a: np.ndarray | None = None) -> dict:
    """One layer pair's one-to-one matches, best first, A's constant (dead) units last:
    ``{"unit_a", "unit_b", "r", "dead"}`` lists.

    ``match`` is a :class:`~nichelab.metrics.matching.UnitMatch`; ``r`` is each A unit's matched
    correlation (None for NaN), rounded to 4 decimals; ``dead_a`` (d_a,) bool marks A's units that
    are constant on the data (their correlation is not a match).
    """
    pairs = np.asarray(match.pairs, int).reshape(-1, 2)
    r = np.asarray(match.matched_corr, float)[pairs[:, 0]]
    dead = np.zeros(len(pairs), bool) if dead_a is None else np.asarray(dead_a, bool)[pairs[:, 0]]
    order = np.lexsort((-np.nan_to_num(r, nan=-np.inf), dead))
    pairs, r, dead = pairs[order], np.round(r[order], 4), dead[order]
    return {"unit_a": [names_a[i] for i in pairs[:, 0]], "unit_b": [names_b[j] for j in pairs[:, 1]],
            "r": [float(x) if np.isfinite(x) else None for x in r], "dead": [bool(x) for x in dead]}


def layer_pair_matches(a: ConvergenceAnalysis, acts: list[dict], seeds: list[int], pair: int = 0,
                       threshold_high: float = 0.9, threshold_low: float = 0.5) -> dict:
    """One-to-one unit matching (Hungarian, Li et al. 2015) of every layer of seed i with every layer of
    seed j, for one ordered seed pair: what a heatmap cell shows when clicked.

    Returns
    -------
    dict
        ``{"seed_a", "seed_b", "pairs": [{"layer_a", "layer_b", "unit_a", "unit_b", "r", "dead"}, ...]}``,
        one entry per (layer of seed i, layer of seed j), matches sorted by correlation, best first,
        seed i's constant (dead) units last.

    References
    ----------
    Li, Yosinski, Clune, Lipson, Hopcroft (2015), Convergent learning: do different neural networks
    learn the same representations? ICLR 2016.
    """
    i, j = a.pairs[pair]
    out = []
    for la in a.layers:
        for lb in a.layers:
            m = match_units(acts[i][la], acts[j][lb], threshold_high, threshold_low)
            names_a = [f"{la}:{k}" for k in range(np.asarray(acts[i][la]).shape[1])]
            names_b = [f"{lb}:{k}" for k in range(np.asarray(acts[j][lb]).shape[1])]
            out.append({"layer_a": la, "layer_b": lb,
                        **pair_units(m, names_a, names_b, constant_units(np.asarray(acts[i][la])))})
    return {"seed_a": seeds[i], "seed_b": seeds[j], "pairs": out}
