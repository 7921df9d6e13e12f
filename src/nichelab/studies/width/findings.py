"""The width study's answers in words, generated from the measured numbers (no fixed claims)."""
from __future__ import annotations

import numpy as np

from ...train.divergence import RULE as DIVERGENCE_RULE
from ..text import pct, plural
from .analysis import DatasetWidths
from .config import N_SPLITS_4, WidthConfig

__all__ = ["MEASURES", "seed_values", "curve", "top_unit_cost", "enough_width", "answer_accuracy", "answer_niches",
           "answer_dead", "answer_frivolous", "answer_short", "answer_diverged"]

#: Measures averaged over seeds at every width (``means_by_width`` in results.json).
MEASURES = ("accuracy", "dead", "dup_pairs", "dup_units", "partitions", "participation", "frivolous",
            "train_accuracy")


def seed_values(d: DatasetWidths, w: int, measure: str) -> np.ndarray:
    """(S,) float values of ``measure`` at width ``w``, one per seed (NaN where undefined)."""
    r = d.runs[w]
    v = {"accuracy": r.accuracy, "dead": r.dead_fraction, "dup_pairs": r.dup_pairs, "dup_units": r.dup_units,
         "participation": r.participation, "frivolous": r.frivolous, "train_accuracy": r.train_accuracy,
         "partitions": r.partitions if r.partitions is not None else np.full(len(r.accuracy), np.nan)}[measure]
    return np.asarray(v, dtype=float)


def curve(d: DatasetWidths, measure: str) -> np.ndarray:
    """Mean over seeds of ``measure`` at every width (NaN where undefined): (n_widths,)."""
    vals = [seed_values(d, w, measure) for w in d.widths]
    return np.array([float(np.nanmean(v)) if np.isfinite(v).any() else float("nan") for v in vals])


def top_unit_cost(d: DatasetWidths) -> np.ndarray:
    """Median over seeds of the accuracy lost by removing the most important unit, per width: (n_widths,).

    Diverged seeds are left out; NaN where every seed of a width diverged."""
    out = []
    for w in d.widths:
        r = d.runs[w]
        cost = -r.ablation_delta[~r.diverged].min(axis=1) if (~r.diverged).any() else np.array([np.nan])
        out.append(float(np.median(cost)))
    return np.array(out)


def enough_width(d: DatasetWidths, slack: float = 0.01) -> int:
    """Smallest width whose mean accuracy is within ``slack`` of the best width's (widths whose seeds
    all diverged are skipped; the widest width when every width diverged)."""
    acc = curve(d, "accuracy")
    if not np.isfinite(acc).any():
        return d.widths[-1]
    return d.widths[int(np.flatnonzero(acc >= np.nanmax(acc) - slack)[0])]


def answer_diverged(d: DatasetWidths) -> list[str]:
    """How many seeds diverged at each width (they are left out of every other number); [] if none."""
    counts = [(w, int(d.runs[w].diverged.sum())) for w in d.widths]
    if not any(k for _, k in counts):
        return []
    S = len(d.seeds)
    listing = ", ".join(f"{k} of {S} at {plural(w, 'unit')}" for w, k in counts if k)
    return [f"On the {d.dataset}, seeds diverged ({DIVERGENCE_RULE}): {listing}. They are left out of every other "
            "number; a width whose seeds all diverged has no value (n/a)."]


def _what(d: DatasetWidths) -> str:
    return (f"{len(d.eval)} fresh points from the blobs" if d.dataset == "blobs"
            else f"{len(d.eval)} held-out digit images")


def answer_accuracy(d: DatasetWidths) -> list[str]:
    """How many units does the task need?"""
    acc, W = curve(d, "accuracy"), d.widths
    if not np.isfinite(acc).any():
        return [f"On the {d.dataset}, every seed of every width diverged, so no accuracy can be measured: "
                "try a smaller --lr."]
    w_enough = enough_width(d)
    best = int(np.nanargmax(acc)) if np.isfinite(acc).any() else 0
    out = f"On the {d.dataset}, accuracy on {_what(d)} goes from {pct(acc[0])} with {plural(W[0], 'unit')} "
    out += f"to {pct(acc[-1])} with {W[-1]}; it is within 1 point of its best ({pct(acc[best])} at {W[best]} units) "
    out += f"from {w_enough} units on" + (": wider layers add no accuracy." if w_enough < W[-1] else ".")
    return [out]


def answer_niches(d: DatasetWidths, cfg: WidthConfig) -> list[str]:
    """Do the extra units find niches of their own, or copy existing ones?"""
    W, w_enough = d.widths, enough_width(d)
    i_e, i_max = W.index(w_enough), len(W) - 1
    dup, pairs, pr = curve(d, "dup_units"), curve(d, "dup_pairs"), curve(d, "participation")
    out = []
    if d.dataset == "blobs":
        parts = curve(d, "partitions")
        out.append(f"The blob networks' units cut the 4 classes in {parts[i_e]:.1f} different ways at {w_enough} units "
                   f"and in {parts[i_max]:.1f} at {W[i_max]} units (mean over seeds; {N_SPLITS_4} ways exist): "
                   f"{W[i_max]} units share a handful of niches.")
    verdict = ("most of them are near-copies of another unit" if dup[i_max] >= 0.5 else
               "some are near-copies of another unit" if dup[i_max] >= 0.1 else
               "few are exact near-copies of another unit")
    out.append(f"On the {d.dataset}, at {w_enough} units, {pct(dup[i_e])} of the live units have a near-duplicate "
               f"(activations correlated at r >= {cfg.dup_threshold:g}); at {W[i_max]} units {pct(dup[i_max])} do "
               f"({pairs[i_max]:.0f} such pairs per network), so {verdict}.")
    grow = pr[i_max] / pr[i_e] if pr[i_e] > 0 else float("nan")
    more = W[i_max] / max(w_enough, 1)
    out.append(f"On the {d.dataset}, the hidden activations span {pr[i_e]:.1f} effective dimensions (participation "
               f"ratio) at {w_enough} units and {pr[i_max]:.1f} at {W[i_max]} units -- {more:.3g} times the units, "
               f"{grow:.1f} times the dimensions" + _dims_verdict(grow, more, dup[i_max]) + ".")
    return out


def _dims_verdict(grow: float, more: float, dup: float) -> str:
    """What the growth in effective dimensions says about the extra units, given the near-duplicate share."""
    if not (np.isfinite(grow) and more > 1):
        return ""
    if grow >= 0.5 * more:
        return ": the extra units add new directions"
    if dup >= 0.5:
        return ": the extra units mostly repeat directions already there"
    return (f": the extra units add few new directions, yet only {pct(dup)} of them are near-copies of another "
            f"unit -- they mix directions already there rather than copy single units")


def answer_dead(d: DatasetWidths) -> list[str]:
    """Do dead units appear?"""
    dead, W = curve(d, "dead"), d.widths
    w_enough = enough_width(d)
    listing = ", ".join(f"{pct(x)} at {w}" for w, x in zip(W, dead))
    small = _nanmean(dead[[i for i, w in enumerate(W) if w <= w_enough]])
    wide = [i for i, w in enumerate(W) if w > w_enough]
    if not wide:
        return [f"On the {d.dataset}, the share of dead units (silent on every evaluation sample) by width: {listing}."]
    big = _nanmean(dead[wide])
    verdict = ("more often" if big > small + 0.05 else "less often" if big < small - 0.05 else "about as often")
    return [f"On the {d.dataset}, the share of dead units (silent on every evaluation sample) by width: {listing}. "
            f"Layers wider than needed (over {plural(w_enough, 'unit')}) lose units {verdict} than the narrower ones "
            f"({pct(big)} against {pct(small)} on average)."]


def _nanmean(v: np.ndarray) -> float:
    return float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")


def answer_frivolous(d: DatasetWidths, cfg: WidthConfig) -> list[str]:
    """Does any single unit still matter?"""
    friv, W = curve(d, "frivolous"), d.widths
    cost = dict(zip(W, top_unit_cost(d)))   # most important unit
    half = [w for w, f in zip(W, friv) if f >= 0.5]
    out = (f"On the {d.dataset}, removing the single most important unit costs {pct(cost[W[0]])} accuracy at "
           f"{plural(W[0], 'unit')} and {pct(cost[W[-1]])} at {plural(W[-1], 'unit')} (median over seeds). ")
    out += (f"From {half[0]} units on, at least half the units can each be removed for less than "
            f"{100 * cfg.ablation_cost:g}% accuracy ({pct(friv[-1])} of them at {W[-1]} units): the network's answer "
            f"is spread over many units, and no single one is needed."
            if half else f"At every width fewer than half the units can be removed for less than "
                         f"{100 * cfg.ablation_cost:g}% accuracy ({pct(friv[-1])} at {W[-1]} units).")
    return [out]


def answer_short(d: DatasetWidths) -> str:
    """One sentence for the summary."""
    W, w_enough = d.widths, enough_width(d)
    dup, friv, pr = curve(d, "dup_units")[-1], curve(d, "frivolous")[-1], curve(d, "participation")[-1]
    verdict = ("extra units mostly copy niches that are already taken" if dup >= 0.5 else
               "extra units are rarely exact copies, but each is dispensable: the redundancy is spread over many units"
               if friv >= 0.5 else "extra units keep distinct roles")
    return (f"On the {d.dataset}, {w_enough} units are enough; with {W[-1]} units, {pct(dup)} of the live units are "
            f"near-copies of another, the layer spans {pr:.1f} effective dimensions, and {pct(friv)} of the units can "
            f"each be removed for almost nothing -- {verdict}.")
