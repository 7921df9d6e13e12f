"""Unit-level and subspace-level agreement between seeds, from captured activations.

Pure numpy on dicts ``{layer: (n_samples, n_units) array}``, one per seed. Pairs of seeds are
*ordered* (i, j), i != j: unit matching and PWCCA are read from seed i's side, and the
layer-identification test (Kornblith et al. 2019, table 2) asks, for every layer of seed i,
which layer of seed j is most similar.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ...metrics.identification import identify_layers
from ...metrics.matching import match_units
from ...metrics.prediction import linear_prediction
from ...metrics.similarity import DegenerateCCAWarning, cka_matrix, linear_cka
from ...metrics.units import constant_units
from .agreement import verdict
from .measures import CKA_MEASURES, DISTANCES

__all__ = ["ConvergenceAnalysis", "analyse", "layer_summaries", "unit_census"]


@dataclass
class ConvergenceAnalysis:
    """Every number the study computes from the activations (S seeds, P = S(S-1) ordered pairs).

    Attributes
    ----------
    layers : list of str
    widths : list of int
    pairs : list of (int, int)
        Ordered pairs of seed indices (i, j), i != j.
    similarity : dict measure -> (P, L, L)
        Layer-by-layer similarity of seed i (rows) with seed j (columns).
    within : (S, L, L)
        Linear CKA between the layers of one network (for reference).
    identified : dict measure -> (P, L) bool
        Whether layer l of seed i is most similar to layer l of seed j.
    dead : list over seeds of dict layer -> (d,) bool
        Units constant on the test data.
    matched, semi, linpred, baseline_matched : dict layer -> (P, d)
        Per unit of seed i: one-to-one matched correlation with seed j (Hungarian), best single
        partner's correlation (semi-matching), held-out correlation of its best linear prediction
        from all of seed j's units, and one-to-one matched correlation with seed j's *untrained*
        network.
    partner : dict layer -> (P, d) int
        Seed j's unit matched one-to-one to each unit of seed i (-1 when unmatched).
    baseline_cka : (P, L)
        Linear CKA of layer l of trained seed i with layer l of untrained seed j.
    notes : list of str
        Warnings raised while measuring (e.g. degenerate CCA).
    """

    layers: list
    widths: list
    pairs: list
    similarity: dict
    within: np.ndarray
    identified: dict
    dead: list
    matched: dict
    semi: dict
    partner: dict
    linpred: dict
    baseline_matched: dict
    baseline_cka: np.ndarray
    notes: list = field(default_factory=list)

    def live(self, layer: str) -> np.ndarray:
        """(P, d) bool: seed i's unit is live (not constant on the test data), per pair."""
        return np.stack([~self.dead[i][layer] for i, _ in self.pairs])

    def pooled(self, what: dict, layer: str) -> np.ndarray:
        """Values of ``what[layer]`` over live units of every pair, NaN removed: 1-D."""
        v = what[layer][self.live(layer)]
        return v[np.isfinite(v)]

    def cross_mean(self, measure: str) -> np.ndarray:
        """(L, L) mean over pairs of the cross-seed matrices."""
        return np.nanmean(self.similarity[measure], axis=0)

    def diag_mean(self, measure: str) -> np.ndarray:
        """(L,) mean over pairs of the similarity of each layer with the same layer of another seed."""
        return np.diagonal(self.cross_mean(measure)).copy()


def _similarities(test: list[dict], layers: list[str], pairs, measures, debiased: bool, notes: list) -> dict:
    out = {}
    for measure in measures:
        symmetric = measure != "pwcca"
        mats: dict = {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DegenerateCCAWarning)
            for i, j in pairs:
                if symmetric and (j, i) in mats:
                    mats[(i, j)] = mats[(j, i)].T
                    continue
                a = {n: test[i][n] for n in layers}
                b = {n: test[j][n] for n in layers}
                mats[(i, j)] = cka_matrix(a, b, measure=measure,
                                          debiased=debiased and measure in CKA_MEASURES)[2]
        if any(issubclass(w.category, DegenerateCCAWarning) for w in caught):
            notes.append(f"{measure}: some layer pairs have more dimensions than test samples allow "
                         "(rank(x) + rank(y) > n - 1), so some canonical correlations are 1 by construction.")
        out[measure] = np.stack([mats[p] for p in pairs])
    return out


def analyse(test: list[dict], train: list[dict], untrained: list[dict], layers: list[str], measures,
            *, debiased: bool = False, threshold_high: float = 0.9, threshold_low: float = 0.5,
            progress=None) -> ConvergenceAnalysis:
    """Compare every ordered pair of seeds, layer by layer and unit by unit.

    Parameters
    ----------
    test, train, untrained : list over seeds of dict layer -> (n, d) array
        Activations of the trained networks on the test and training rows, and of the untrained
        (initial) networks on the test rows.
    layers : list of str
        Layers to compare (the same in every seed), in order.
    measures : sequence of str
        ``cka_matrix`` measures; must include ``"linear_cka"``.
    debiased : bool
        Debiased HSIC for the CKA measures.
    threshold_high, threshold_low : float
        Passed to :func:`nichelab.metrics.match_units`.
    progress : callable (stage, done, total), optional

    Returns
    -------
    ConvergenceAnalysis
    """
    S = len(test)
    pairs = [(i, j) for i in range(S) for j in range(S) if i != j]
    notes: list[str] = []
    tick = progress or (lambda *a: None)
    sim = {}
    for k, measure in enumerate(measures):
        sim.update(_similarities(test, layers, pairs, [measure], debiased, notes))
        tick("similarity", k + 1, len(measures))
    within = np.stack([cka_matrix({n: t[n] for n in layers}, measure="linear_cka", debiased=debiased)[2]
                       for t in test])
    identified = {m: identify_layers(v, m in DISTANCES) for m, v in sim.items()}
    dead = [{n: constant_units(t[n]) for n in layers} for t in test]
    matched, semi, partner, linpred, base = {}, {}, {}, {}, {}
    baseline_cka = np.empty((len(pairs), len(layers)))
    for li, name in enumerate(layers):
        rows = {k: [] for k in ("m", "s", "p", "l", "b")}
        for pi, (i, j) in enumerate(pairs):
            um = match_units(test[i][name], test[j][name], threshold_high, threshold_low)
            p = np.full(um.matched_corr.shape, -1, dtype=np.int64)
            p[um.pairs[:, 0]] = um.pairs[:, 1]
            rows["m"].append(um.matched_corr)
            rows["s"].append(um.semi_corr)
            rows["p"].append(p)
            rows["l"].append(linear_prediction(train[j][name], train[i][name], test[j][name], test[i][name]))
            rows["b"].append(match_units(test[i][name], untrained[j][name], threshold_high, threshold_low).matched_corr)
            baseline_cka[pi, li] = linear_cka(test[i][name], untrained[j][name], debiased=debiased)
        matched[name], semi[name], partner[name] = (np.stack(rows[k]) for k in ("m", "s", "p"))
        linpred[name], base[name] = np.stack(rows["l"]), np.stack(rows["b"])
        tick("matching", li + 1, len(layers))
    widths = [int(test[0][n].shape[1]) for n in layers]
    return ConvergenceAnalysis(list(layers), widths, pairs, sim, within, identified, dead, matched, semi,
                               partner, linpred, base, baseline_cka, notes)


def _mean(v: np.ndarray) -> float:
    return float(np.mean(v)) if v.size else float("nan")


def _median(v: np.ndarray) -> float:
    return float(np.median(v)) if v.size else float("nan")


def _share(v: np.ndarray, t: float) -> float:
    return float(np.mean(v >= t)) if v.size else float("nan")


def layer_summaries(a: ConvergenceAnalysis, *, threshold_high: float = 0.9, threshold_low: float = 0.5,
                    majority: float = 0.5, subspace_high: float = 0.8) -> list[dict]:
    """One record per layer: unit-level and subspace-level agreement across seed pairs, and the verdict.

    Shares are over the *live* units of seed i pooled over ordered pairs (i, j); a dead unit
    (constant on the test data) is counted in ``dead_mean`` and nowhere else.
    """
    out = []
    cka = a.diag_mean("linear_cka")
    for li, name in enumerate(a.layers):
        m, s = a.pooled(a.matched, name), a.pooled(a.semi, name)
        lp, b = a.pooled(a.linpred, name), a.pooled(a.baseline_matched, name)
        rec = {
            "layer": name, "width": a.widths[li],
            "dead_mean": float(np.mean([d[name].sum() for d in a.dead])),
            "matched_mean": _mean(m), "matched_median": _median(m),
            "frac_high": _share(m, threshold_high), "frac_low": _share(m, threshold_low),
            "frac_none": float(np.mean(m < threshold_low)) if m.size else float("nan"),
            "semi_mean": _mean(s), "semi_frac_high": _share(s, threshold_high),
            "linpred_median": _median(lp), "linpred_frac_high": _share(lp, threshold_high),
            "baseline_matched_mean": _mean(b), "baseline_frac_high": _share(b, threshold_high),
            "cka": float(cka[li]), "baseline_cka": float(np.nanmean(a.baseline_cka[:, li])),
            "similarity": {k: float(a.diag_mean(k)[li]) for k in a.similarity},
            "identification": {k: float(v[:, li].mean()) for k, v in a.identified.items()},
        }
        rec["verdict"] = verdict(rec["frac_high"], rec["cka"], majority, subspace_high)
        out.append(rec)
    return out


def unit_census(a: ConvergenceAnalysis, seed_index: int, layer: str, threshold_high: float = 0.9,
                threshold_low: float = 0.5) -> list[dict]:
    """Per unit of one seed's layer: in how many other seeds it has a counterpart, and how close.

    Returns one dict per unit: ``name`` (``L:k``), ``dead``, ``counterparts_high`` /
    ``counterparts_low`` (other seeds where its one-to-one matched correlation reaches the high /
    low threshold), ``matched_mean`` (mean over the other seeds; None for a dead unit),
    ``best_partner`` per other seed index, and ``linpred_mean``.
    """
    idx = [p for p, (i, _) in enumerate(a.pairs) if i == seed_index]
    m = a.matched[layer][idx]
    lp = a.linpred[layer][idx]
    dead = a.dead[seed_index][layer]
    others = [a.pairs[p][1] for p in idx]
    units = []
    for k in range(m.shape[1]):
        col = m[:, k]
        units.append({
            "name": f"{layer}:{k}", "dead": bool(dead[k]),
            "counterparts_high": int(np.sum(np.nan_to_num(col, nan=-2) >= threshold_high)),
            "counterparts_low": int(np.sum(np.nan_to_num(col, nan=-2) >= threshold_low)),
            "matched_mean": None if dead[k] else float(np.nanmean(col)),
            "matched": {int(j): (None if not np.isfinite(c) else float(c)) for j, c in zip(others, col)},
            "partner": {int(j): int(a.partner[layer][p, k]) for j, p in zip(others, idx)},
            "linpred_mean": None if dead[k] or not np.isfinite(lp[:, k]).any() else float(np.nanmean(lp[:, k])),
        })
    return units
