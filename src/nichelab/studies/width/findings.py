"""The width study's answers in words, generated from the measured numbers (no fixed claims)."""
from __future__ import annotations

import numpy as np

from ...train.divergence import RULE as DIVERGENCE_RULE
from ..text import difference, num, pct, plural, share, wilson_interval
from .analysis import DatasetWidths
from .config import N_SPLITS_4, WidthConfig

__all__ = ["MEASURES", "seed_values", "curve", "top_unit_cost", "enough_width", "unit_counts", "census_counts", "compare_shares",
           "answer_accuracy", "answer_niches", "answer_dead", "answer_frivolous", "answer_short",
           "answer_diverged"]

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


def seed_interval(values) -> str:
    """``"mean over 5 seeds; 95% CI 81–88%"`` (Student t over seeds), or ``"1 seed"`` when there is one."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return plural(v.size, "seed")
    from scipy.stats import t
    half = float(t.ppf(0.975, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))
    m = float(v.mean())
    return f"mean over {v.size} seeds; 95% CI {pct(max(m - half, 0.0))}–{pct(min(m + half, 1.0))}"


def answer_accuracy(d: DatasetWidths) -> list[str]:
    """How many units does the task need?"""
    acc, W = curve(d, "accuracy"), d.widths
    if not np.isfinite(acc).any():
        return [f"On the {d.dataset}, every seed of every width diverged, so no accuracy can be measured: "
                "try a smaller --lr."]
    w_enough = enough_width(d)
    best = int(np.nanargmax(acc))
    ci = lambda w: seed_interval(d.runs[w].accuracy)  # noqa: E731
    out = (f"On the {d.dataset}, accuracy on {_what(d)} goes from {pct(acc[0])} ({ci(W[0])}) with "
           f"{plural(W[0], 'unit')} ")
    out += f"to {pct(acc[-1])} ({ci(W[-1])}) with {W[-1]}; "
    out += f"it is within 1 point of its best ({pct(acc[best])} at {W[best]} units) "
    out += f"from {w_enough} units on" + (": wider layers add no accuracy." if w_enough < W[-1] else ".")
    return [out]


def unit_counts(d: DatasetWidths, w: int, measure: str) -> tuple[int, int, int]:
    """Counts behind a share of units at width ``w``, pooled over seeds: (units with the trait, units, seeds with one).

    ``measure`` is ``"dead"`` (of all units), ``"dup_units"`` (live units with a near-duplicate, of the live
    units) or ``"frivolous"`` (of all units). Pooled shares equal the mean over seeds when every seed has
    the same number of units counted (dead, frivolous); for near-duplicates the live units may differ.
    """
    r = d.runs[w]
    ok = ~np.asarray(r.diverged, bool)                    # diverged seeds are left out (counted elsewhere)
    dead = r.dead[ok]
    S, W = dead.shape
    if measure == "dead":
        per_seed = dead.sum(axis=1)
        return int(per_seed.sum()), S * W, int((per_seed > 0).sum())
    if measure == "frivolous":
        per_seed = np.rint(np.nan_to_num(np.asarray(r.frivolous, float)[ok]) * W).astype(int)
        return int(per_seed.sum()), S * W, int((per_seed > 0).sum())
    live = (~dead).sum(axis=1)
    share = np.nan_to_num(np.asarray(r.dup_units, float)[ok])
    per_seed = np.rint(share * live).astype(int)
    return int(per_seed.sum()), int(live.sum()), int((per_seed > 0).sum())


def census_counts(c, w: int, measure: str) -> tuple[int, int]:
    """:func:`unit_counts` from a stored :class:`~nichelab.studies.width.result.WidthCensus` of width ``w``:
    ``(units with the trait, units counted)``, pooled over the seeds that did not diverge.

    ``measure``: ``"dead"`` or ``"frivolous"`` (of all units), ``"dup_units"`` (of the live units).
    """
    div = np.zeros(len(c.accuracy), bool) if c.diverged is None else np.asarray(c.diverged, bool)
    ok = ~div
    dead = np.rint(np.nan_to_num(np.asarray(c.dead_fraction, float)[ok]) * w).astype(int)
    if measure == "dead":
        return int(dead.sum()), int(ok.sum()) * w
    if measure == "frivolous":
        return int(np.rint(np.nan_to_num(np.asarray(c.frivolous_fraction, float)[ok]) * w).sum()), int(ok.sum()) * w
    live = w - dead
    share = np.nan_to_num(np.asarray(c.units_with_near_duplicate, float)[ok])
    return int(np.rint(share * live).sum()), int(live.sum())


def _at(w: int) -> str:
    return f"at {plural(w, 'unit')}"


def compare_shares(k1: int, n1: int, k2: int, n2: int, seeds1: int, seeds2: int, more: str, less: str,
                   same: str) -> str:
    """Words for two shares of units: ``more``/``less`` only when the 95% interval of the difference excludes 0.

    The first share is called larger (``more``) or smaller (``less``) than the second only when
    :func:`~nichelab.studies.text.difference` separates them and the larger one does not rest on the units
    of a single seed (one event); otherwise ``same`` followed by why the run cannot tell.
    """
    diff, lo, hi, separated = difference(k1, n1, k2, n2)
    if n1 == 0 or n2 == 0:
        return f"{same}: one of the groups has no units to count"
    events = seeds1 if diff > 0 else seeds2
    ci = f"difference {spct(diff)}, 95% CI {spct(lo)} to {spct(hi)}"
    if separated and events > 1:
        return f"{more if diff > 0 else less} ({ci})"
    if separated:
        return (f"{same}: the {'first' if diff > 0 else 'second'} share rests on a single seed (one event), "
                f"too little to call a difference ({ci})")
    return f"{same}: the run cannot tell them apart ({ci})"


def spct(x: float) -> str:
    """A signed difference of shares in percentage points: ``+3.1 points``, ``n/a`` for NaN."""
    if not np.isfinite(x):
        return "n/a"
    return f"{'+' if x >= 0 else '−'}{abs(100 * x):.1f} points"


def answer_niches(d: DatasetWidths, cfg: WidthConfig) -> list[str]:
    """Do the extra units find niches of their own, or copy existing ones?"""
    W, w_enough = d.widths, enough_width(d)
    i_e, i_max = W.index(w_enough), len(W) - 1
    w_max = W[i_max]
    pairs, pr = curve(d, "dup_pairs"), curve(d, "participation")
    S = len(d.seeds)
    out = []
    if d.dataset == "blobs":
        parts = curve(d, "partitions")
        widths = (f"{parts[i_e]:.1f} different ways {_at(w_enough)} and in {parts[i_max]:.1f} {_at(w_max)}"
                  if w_max != w_enough else f"{parts[i_max]:.1f} different ways {_at(w_max)}")
        out.append(f"A unit's split is the way it divides the 4 classes into those it is on for and those it is off "
                   f"for. The blob networks' live units cut the 4 classes in {widths} (mean over seeds; "
                   f"{N_SPLITS_4} ways exist)"
                   + (f": {w_max} units share a handful of niches." if w_max > N_SPLITS_4 else "."))
    k_e, n_e, _ = unit_counts(d, w_enough, "dup_units")
    k_m, n_m, s_m = unit_counts(d, w_max, "dup_units")
    verdict = _copies_verdict(k_m, n_m)
    with_pairs = int((np.asarray(d.runs[w_max].dup_pairs) > 0).sum())
    pair_txt = (f"{num(pairs[i_max], 2)} near-duplicate pairs per network on average over the {plural(S, 'seed')}; "
                f"{with_pairs} of {S} networks have at least one")
    head = f"On the {d.dataset}, a near-duplicate is a live unit whose activations correlate at r >= " \
           f"{cfg.dup_threshold:g} with another live unit's. "
    if w_max != w_enough:
        head += (f"{_at(w_enough).capitalize()}, {share(k_e, n_e, 'live units, all seeds')} have one; "
                 f"{_at(w_max)}, {share(k_m, n_m, 'live units')} do")
    else:
        head += f"{_at(w_max).capitalize()}, {share(k_m, n_m, 'live units, all seeds')} have one"
    out.append(head + f" ({pair_txt}), so {verdict}.")
    grow = pr[i_max] / pr[i_e] if pr[i_e] > 0 else float("nan")
    more = w_max / max(w_enough, 1)
    if w_max != w_enough:
        out.append(f"On the {d.dataset}, the hidden activations span {pr[i_e]:.1f} effective dimensions "
                   f"(participation ratio) {_at(w_enough)} and {pr[i_max]:.1f} {_at(w_max)} -- {more:.3g} times the "
                   f"units, {grow:.1f} times the dimensions" + _dims_verdict(grow, more, k_m, n_m) + ".")
    else:
        out.append(f"On the {d.dataset}, the hidden activations span {pr[i_max]:.1f} effective dimensions "
                   f"(participation ratio) {_at(w_max)}.")
    return out


def _copies_verdict(k: int, n: int) -> str:
    """How many of the widest layer's live units are near-copies, in words the 95% interval supports."""
    if n == 0:
        return "no live unit is left to compare"
    lo, hi = wilson_interval(k, n)
    return ("most of them are near-copies of another unit" if lo > 0.5 else
            "few are near-copies of another unit" if hi < 0.1 else
            "fewer than half are near-copies of another unit" if hi < 0.5 else
            "some are near-copies of another unit")


def _dims_verdict(grow: float, more: float, k: int, n: int) -> str:
    """What the growth in effective dimensions says about the extra units, given the near-duplicate count
    ``k`` of ``n`` live units (a majority or minority only when the 95% interval says so)."""
    if not (np.isfinite(grow) and more > 1):
        return ""
    if grow >= 0.5 * more:
        return ": the extra units add new directions"
    lo, hi = wilson_interval(k, n) if n else (float("nan"), float("nan"))
    if lo > 0.5:
        return ": the extra units mostly repeat directions already there"
    if hi < 0.5:
        return (": the extra units add few new directions, yet fewer than half of them are near-copies of another "
                "unit (above) -- they mix directions already there rather than copy single units")
    return (": the extra units add few new directions; whether most of them are near-copies of another unit, the "
            "run cannot tell (above)")


def answer_dead(d: DatasetWidths) -> list[str]:
    """Do dead units appear, and do wider layers lose them more or less often (counts, 95% intervals)?"""
    W, w_enough = d.widths, enough_width(d)
    counts = {w: unit_counts(d, w, "dead") for w in W}
    listing = ", ".join(f"{k} of {n} {_at(w)}" + (f" (in {plural(s, 'seed')})" if k else "")
                        for w, (k, n, s) in counts.items())
    out = (f"On the {d.dataset}, a dead unit is one whose ReLU output is 0 (or constant) on every evaluation "
           f"sample. Dead units by width, over all {plural(len(d.seeds), 'seed')}: {listing}.")
    wide = [w for w in W if w > w_enough]
    if not wide:
        return [out]
    narrow = [w for w in W if w <= w_enough]
    k1, n1, s1 = (sum(counts[w][i] for w in wide) for i in range(3))
    k2, n2, s2 = (sum(counts[w][i] for w in narrow) for i in range(3))
    if k1 + k2 == 0:
        return [out + " No width lost a unit, so wider and narrower layers cannot be compared."]
    words = compare_shares(k1, n1, k2, n2, s1, s2, "more often", "less often", "about as often as far as this "
                           "run shows")
    return [out + f" Layers wider than needed (over {plural(w_enough, 'unit')}) lose {share(k1, n1, 'units')}, "
                  f"the narrower ones {share(k2, n2, 'units')}: wider layers lose units {words}."]


def _nanmean(v: np.ndarray) -> float:
    return float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")


def answer_frivolous(d: DatasetWidths, cfg: WidthConfig) -> list[str]:
    """Does any single unit still matter?"""
    friv, W = curve(d, "frivolous"), d.widths
    cost = dict(zip(W, top_unit_cost(d)))   # most important unit
    half = [w for w, f in zip(W, friv) if f >= 0.5]
    k, n, _ = unit_counts(d, W[-1], "frivolous")
    out = (f"On the {d.dataset}, removing (switching off) the single most important unit costs "
           f"{pct(cost[W[0]])} accuracy {_at(W[0])} and {pct(cost[W[-1]])} {_at(W[-1])} (median over seeds). ")
    out += (f"From {half[0]} units on, at least half the units can each be removed for less than "
            f"{100 * cfg.ablation_cost:g}% accuracy ({share(k, n, 'units')} {_at(W[-1])}): the network's "
            f"answer is spread over many units, and no single one is needed."
            if half else f"At every width fewer than half the units can be removed for less than "
                         f"{100 * cfg.ablation_cost:g}% accuracy ({share(k, n, 'units')} {_at(W[-1])}).")
    return [out]


def answer_short(d: DatasetWidths) -> str:
    """One sentence for the summary."""
    W, w_enough = d.widths, enough_width(d)
    kd, nd, _ = unit_counts(d, W[-1], "dup_units")
    kf, nf, _ = unit_counts(d, W[-1], "frivolous")
    if nf == 0:
        return (f"On the {d.dataset}, every seed with {plural(W[-1], 'unit')} diverged, so there is no census of the "
                "widest layer to summarise.")
    pr = curve(d, "participation")[-1]
    parts = curve(d, "partitions")[-1]
    shared = np.isfinite(parts) and parts < 0.75 * W[-1]
    most_copies = nd > 0 and wilson_interval(kd, nd)[0] > 0.5
    verdict = ("extra units mostly copy niches that are already taken" if most_copies else
               f"several units make the same split of the classes ({num(parts)} distinct splits among {W[-1]} units "
               "on average), although their activations are not near-copies" if shared else
               "extra units are rarely exact copies, but each is dispensable: the redundancy is spread over many units"
               if wilson_interval(kf, nf)[0] > 0.5 else "extra units keep distinct roles")
    enough = (f"{w_enough} units are enough" if w_enough < W[-1] else
              f"accuracy is best at the widest layer tried ({W[-1]} units), so this run cannot say how many are enough")
    return (f"On the {d.dataset}, {enough}; with {W[-1]} units, {share(kd, nd, 'live units')} "
            f"are near-copies of another (activations correlated almost perfectly), the layer spans {pr:.1f} "
            f"effective dimensions (participation ratio), and {share(kf, nf, 'units')} can each be removed for "
            f"almost nothing -- {verdict}.")
