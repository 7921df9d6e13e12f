"""The symmetry study's answers in words, generated from the measured numbers (no fixed claims)."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..text import difference, pct, plural, share

if TYPE_CHECKING:
    from .analysis import ConditionRun, DatasetRun

__all__ = ["fmt_gap", "steps_text", "tie_outcome", "tie_text", "answer_stay", "answer_one_unit", "answer_breaks",
           "answer_speed", "answer_zero", "speed_numbers", "findings", "one_unit_verdict", "correct_counts"]

OPTIMIZER_CHECKS = ("symmetric, sgd", "symmetric, sgd+momentum", "symmetric, adam+weight decay")


def fmt_gap(g: float) -> str:
    """``0.0 -> "exactly 0"``, else 2 significant digits."""
    return "exactly 0" if g == 0 else f"{g:.1e}"


def steps_text(steps: float, per_epoch: int) -> str:
    """``112 -> "112 steps (2.0 epochs)"``, ``1 -> "1 step (0.018 epochs)"``."""
    ep = steps / per_epoch
    return (f"{steps:.0f} step{'' if steps == 1 else 's'} "
            f"({ep:.1f} epoch{'' if ep == 1 else 's'})" if ep >= 1 else f"{steps:.0f} step{'' if steps == 1 else 's'} "
            f"({ep:.2g} of an epoch)")


def diverged_text(d: DatasetRun) -> list[str]:
    """Per condition with diverged seeds: how many, by which rule, left out ([] when none diverged)."""
    from ...train.divergence import RULE
    S = len(d.seeds)
    bad = [(r.condition.label, int(r.diverged.sum())) for r in d.runs.values() if r.diverged.size and r.diverged.any()]
    if not bad:
        return []
    out = [f"Diverged seeds ({RULE}) are left out of every other number of their condition: "
           + "; ".join(f"{label} {k} of {S}" for label, k in bad) + "."]
    gone = d.all_diverged()
    if gone:
        out.append("Not measured (every seed diverged): "
                   + ", ".join(d.runs[n].condition.label for n in gone) + "; try a smaller learning rate.")
    return out


def findings(d: DatasetRun) -> dict[str, list[str]]:
    """Every answer in words for one dataset: ``stay``, ``one_unit``, ``breaks``, ``speed``, ``zero``
    (and ``diverged`` when seeds diverged).

    Each answer is computed from the seeds that did not diverge; an answer that needs a condition
    whose every seed diverged says it was not measured.
    """
    k = d.kept()
    out = {}
    for key, answer in (("stay", answer_stay), ("one_unit", answer_one_unit), ("breaks", answer_breaks),
                        ("speed", answer_speed), ("zero", answer_zero)):
        try:
            out[key] = answer(k)
        except KeyError as e:          # a condition it needs diverged in every seed
            out[key] = [f"Not measured: every seed of the {e.args[0]} condition diverged."]
    div = diverged_text(d)
    return ({"diverged": div} if div else {}) | out


def _final_acc(r: ConditionRun) -> np.ndarray:
    return r.accuracy[:, -1]


def _acc_text(r: ConditionRun) -> str:
    a = _final_acc(r)
    return f"{pct(a.mean())} (seeds {pct(a.min())}–{pct(a.max())})" if len(a) > 1 else pct(a.mean())


def correct_counts(r: ConditionRun, n_samples: int) -> tuple[int, int]:
    """(correct training predictions, predictions) at the end, pooled over the seeds that did not diverge."""
    a = _final_acc(r)
    a = a[np.isfinite(a)]
    return int(round(float(a.sum()) * n_samples)), len(a) * int(n_samples)


def _points(d: float, lo: float, hi: float) -> str:
    return f"{100 * d:+.1f} points, 95% CI {100 * lo:+.1f} to {100 * hi:+.1f}"


def one_unit_verdict(ref: tuple[int, int], one: tuple[int, int], rnd: tuple[int, int]) -> str:
    """Is the identical-unit network's accuracy that of one unit? From pooled counts (correct, total) of the
    identical-unit network, the separately trained one-unit network and the random start; a difference is
    called one only when its 95% interval (Newcombe) excludes zero."""
    d1, lo1, hi1, sep1 = difference(*ref, *one)
    d2, lo2, hi2, sep2 = difference(*rnd, *ref)
    if not (math.isfinite(d1) and math.isfinite(d2)):
        return "so the accuracies cannot be compared (nothing counted)"
    if sep1:
        return (f"so its accuracy is not that of the separately trained one-unit network here ({'higher' if d1 > 0 else 'lower'}: "
                f"{_points(d1, lo1, hi1)})")
    if sep2 and d2 > 0:
        return (f"so the run cannot tell its accuracy from the one-unit network's ({_points(d1, lo1, hi1)}), while "
                f"the random start does better ({_points(d2, lo2, hi2)}): its accuracy is that of one unit, not "
                "of many")
    return (f"and the run cannot tell its accuracy from the one-unit network's ({_points(d1, lo1, hi1)}) nor from "
            f"the random start's ({_points(d2, lo2, hi2)}): one unit is nearly enough for this data")


def _where(d: DatasetRun) -> str:
    return f"the {d.dataset} ({d.hidden} hidden units, {plural(len(d.seeds), 'seed')})"


def tie_outcome(r: ConditionRun) -> str:
    """What happened to identical units in one condition, from the measured gaps (every seed).

    ``"one unit"`` (a single hidden unit: no pair to compare), ``"apart"`` (the units differed at
    step 0: random or perturbed start), ``"tied"`` (one shared parameter vector and the gap exactly
    0 throughout), ``"dropout"`` (started identical; dropout masks break the tie on purpose),
    ``"identical"`` (separate copies, gap exactly 0 at every step in every seed) or ``"rounding"``
    (separate copies, no deliberate tie-breaker, gap not exactly 0 at some step in some seed:
    floating-point rounding split them), from the seeds that did not diverge; ``"diverged"`` when
    every seed diverged.
    """
    if r.diverged.size and r.diverged.all():
        return "diverged"
    r = r.kept()
    g = np.asarray(r.max_gap)
    hidden = r.final["L1.linear.weight"].shape[1] if "L1.linear.weight" in r.final else 2
    if hidden < 2:
        return "one unit"
    if np.any(g[:, 0] != 0):
        return "apart"
    zero = not np.any(g != 0)
    if r.condition.tied and zero:
        return "tied"
    if r.condition.dropout > 0:
        return "dropout"
    return "identical" if zero else "rounding"


def _median_range(x: np.ndarray, fmt=lambda v: f"{v:.0f}") -> str:
    """``"3"`` for one value, ``"3 (median; seeds from 1 to 5)"`` for several."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 1 or np.ptp(x) == 0:
        return fmt(x[0]) + ("" if x.size == 1 else f" (every one of the {x.size} seeds)")
    return f"{fmt(float(np.median(x)))} (median; seeds from {fmt(x.min())} to {fmt(x.max())})"


def tie_text(r: ConditionRun, d: DatasetRun) -> str:
    """What happened to the copies of one symmetric-start condition, measured (a clause, no subject).

    Says whether the copies stayed bit-identical or rounding split them -- then when the gap first
    left 0, how fast it grew (growth rate fitted from that step) and when it passed the split
    tolerance -- with the seed counts as shares with 95% intervals.
    """
    S = r.max_gap.shape[0]
    T = r.max_gap.shape[1] - 1
    per = r.steps_per_epoch
    kept = ~np.any(r.max_gap != 0, axis=1)
    k = int(kept.sum())
    kind = tie_outcome(r)
    if kind == "tied":
        return (f"the largest gap was exactly 0 at every one of the {T} steps in {share(k, S, 'seeds')}: units that "
                "are one set of numbers cannot differ")
    if k == S:
        return (f"the separate copies stayed bit-identical in {share(k, S, 'seeds')}: the largest distance between "
                f"any two units' incoming weights was exactly 0 at every one of the {T} optimizer steps")
    split = ~kept
    first, lam = r.first_gap[split], r.gap_growth[split]
    text = (f"floating-point rounding split the separate copies in {share(S - k, S, 'seeds')}: their largest gap "
            f"first left 0 at step {_median_range(first)}")
    ok = np.isfinite(lam) & (lam > 0)
    if ok.any():
        m = float(np.median(lam[ok]))
        text += (f", then grew like exp(λt) with λ = {m:.3g} per step (a 10-fold growth every "
                 f"{math.log(10) / m:.0f} steps; median over the {plural(int(ok.sum()), 'seed')} where it could be "
                 "fitted)")
    elif np.isfinite(r.gap_growth[split]).any():
        text += ", then did not grow (no positive growth rate)"
    passed = np.isfinite(r.split_step[split])
    if passed.any():
        when = r.split_step[split][passed]
        text += (f", and passed the split tolerance in {'all' if passed.all() else int(passed.sum())} of them at "
                 f"step {_median_range(when)}, i.e. after {float(np.median(when)) / per:.2g} epochs")
    else:
        text += ", but stayed below the split tolerance until the end"
    text += f"; they ended with {distinct_text(float(r.distinct[split, -1].mean()))} (mean over those seeds)"
    if k:
        text += f"; in the other {plural(k, 'seed')} the copies stayed bit-identical (gap exactly 0 at all {T} steps)"
    return text


def answer_stay(d: DatasetRun) -> list[str]:
    """Do identical units stay identical under gradient descent? Measured per condition."""
    sym = d.runs["symmetric"]
    out = [f"On {_where(d)}, trained in {d.dtype}, {tie_text(sym, d)}."]
    if "tied" in d.runs:
        out.append(f"In the tied network, whose units all read one shared parameter vector, "
                   f"{tie_text(d.runs['tied'], d)}.")
    checks = [n for n in OPTIMIZER_CHECKS if n in d.runs]
    kept = [n for n in checks if tie_outcome(d.runs[n]) == "identical"]
    if kept:
        runs = sum(d.runs[n].max_gap.shape[0] for n in kept)
        names = ", ".join(d.runs[n].condition.label.replace("symmetric, ", "") for n in kept)
        out.append(f"The same symmetric start trained with {names}: the separate copies stayed bit-identical in "
                   f"{share(runs, runs, 'runs (optimizers × seeds)')} -- plain gradient steps, momentum, Adam's "
                   "per-weight scaling and weight decay treat identical units identically whenever their gradients "
                   "are computed identically.")
    for n in checks:
        if n not in kept:
            out.append(f"Trained with {d.runs[n].condition.label.replace('symmetric, ', '')}, "
                       f"{tie_text(d.runs[n], d)}.")
    return out


def answer_one_unit(d: DatasetRun) -> list[str]:
    """Does a network of identical units behave like a network with one hidden unit?"""
    one, rnd = d.runs["one unit"], d.runs["random"]
    sym = d.runs["symmetric"]
    tied = d.runs.get("tied")
    ref = tied if tied is not None else sym
    verdict = one_unit_verdict(*(correct_counts(r, d.n_samples) for r in (ref, one, rnd)))
    what = (f"tied {d.hidden}-unit network (identical units by construction)" if tied is not None else
            f"symmetric {d.hidden}-unit network")
    out = [f"On the {d.dataset}, the {what} reached {_acc_text(ref)} training accuracy (correct predictions on the "
           f"{d.n_samples} training {'points' if d.dataset == 'blobs' else 'images'}, pooled over seeds for the "
           "intervals below); "
           f"a separate network made of the copied unit alone, trained on its own, reached {_acc_text(one)}, "
           f"and the same {d.hidden} units started from random weights {_acc_text(rnd)}, {verdict}."]
    if tied is not None:
        kind = tie_outcome(sym)
        S = sym.max_gap.shape[0]
        if kind == "identical":
            out.append(f"The symmetric start with separate copies stayed bit-identical here and reached "
                       f"{_acc_text(sym)}.")
        elif kind == "rounding":
            n = int(np.any(sym.max_gap != 0, axis=1).sum())
            m = float(sym.distinct[:, -1].mean())
            out.append(f"The symmetric start with separate copies, which rounding split in {n} of "
                       f"{plural(S, 'seed')}, reached {_acc_text(sym)} and ended with "
                       f"{distinct_text(m)} (mean over seeds): {split_meaning(m)}.")
    first = tied if tied is not None and np.isfinite(d.tied_collapse_error) else None
    if first is None and np.isfinite(d.collapse_error):
        first = sym
    if first is not None:
        err = d.tied_collapse_error if first is tied else d.collapse_error
        name = "tied" if first is tied else "symmetric"
        out.append(f"After training, the {name} network's outputs equal those of a different one-unit network -- "
                   f"not the separately trained one above, but one built from the {name} network itself (the "
                   f"shared unit, with its outgoing weights summed over the {d.hidden} copies) -- {_within(err)} on "
                   f"every {'point' if d.dataset == 'blobs' else 'image'}: {d.hidden} identical units compute one "
                   "feature. The two one-unit networks differ because the shared unit and the unit trained alone "
                   "follow different training paths, so their accuracies need not match.")
        if first is tied and np.isfinite(d.collapse_error):
            out.append(f"So do the separate copies, which stayed bit-identical: {_within(d.collapse_error)}.")
    return out


def distinct_text(mean_distinct: float) -> str:
    """``"1 distinct unit"`` / ``"2.5 distinct units"``: a mean number of distinct units in words."""
    return f"{mean_distinct:.3g} distinct {'unit' if mean_distinct == 1 else 'units'}"


def split_meaning(mean_distinct: float) -> str:
    """What a rounding split means for the network, from the mean number of distinct units at the end
    (more than one: the copies became different features; otherwise they still act as one unit)."""
    if mean_distinct > 1:
        return ("once the copies differ, training can pull them towards different features, so it is no longer "
                "a one-unit network")
    return "the copies differ only by rounding, below the split tolerance, so they still act as one unit"


def _within(err: float) -> str:
    return "exactly" if err == 0 else f"to within {err:.0e} (float rounding)"


def _split_summary(r: ConditionRun) -> tuple[int, float]:
    """(number of seeds split, largest split step among them)."""
    ok = np.isfinite(r.split_step)
    return int(ok.sum()), float(np.nanmax(r.split_step)) if ok.any() else float("nan")


def answer_breaks(d: DatasetRun) -> list[str]:
    """What breaks the tie between identical units?"""
    S = len(d.seeds)
    per = d.runs["symmetric"].steps_per_epoch
    out = []
    rnd = d.runs["random"]
    out.append(f"Random initialisation starts the units apart: {rnd.distinct[:, 0].mean():.3g} of {d.hidden} units "
               f"distinct at step 0 and {rnd.distinct[:, -1].mean():.3g} at the end (mean over seeds).")
    if "symmetric+dropout" in d.runs:
        r = d.runs["symmetric+dropout"]
        n, _ = _split_summary(r)
        med = float(np.nanmedian(r.split_step)) if n else float("nan")
        p = r.condition.dropout
        out.append(f"Dropout (p={p:g}) silences a different random set of units on every sample, so copies receive "
                   f"different gradients: the units split in {share(n, S, 'seeds')}, after a median of "
                   f"{steps_text(med, per) if n else 'never'}, ending with {r.distinct[:, -1].mean():.1f} distinct "
                   f"units and {_acc_text(r)} accuracy.")
    eps_runs = d.eps_runs()
    if eps_runs:
        all_split = [r for r in eps_runs if _split_summary(r)[0] == S]
        never = [r for r in eps_runs if _split_summary(r)[0] < S]
        smallest = eps_runs[0]
        n, worst = _split_summary(smallest)
        lead = ("Even the smallest perturbation tried broke the tie" if n == S else
                "A perturbation breaks the tie, given time")
        text = (f"{lead}: with eps={smallest.condition.eps:.0e} "
                f"(noise of that standard deviation on every weight), the units split in {share(n, S, 'seeds')}")
        text += (f", the last after {steps_text(worst, per)}" if n else "")
        acc = float(np.mean([_final_acc(r).mean() for r in eps_runs]))
        ref = d.runs.get("tied")
        ref_text = (f"{pct(_final_acc(ref).mean())} for the tied networks (identical by construction)" if ref is not None
                    else f"{pct(_final_acc(d.runs['symmetric']).mean())} for the unperturbed symmetric start")
        text += (f"; across all {len(eps_runs)} sizes tried, {len(all_split)} split in every seed, and the perturbed "
                 f"networks ended at {pct(acc)} mean accuracy against {ref_text}.")
        if never:
            text += (" Within the training time, not every seed split for eps = "
                     + ", ".join(f"{r.condition.eps:.0e}" for r in never) + ".")
        out.append(text)
    if "zeros" in d.runs:
        zg = float(d.runs["zeros"].max_gap.max())
        out.append(f"All-zero initialisation did not break it: the largest gap stayed {fmt_gap(zg)}." if zg == 0 else
                   f"All-zero initialisation: the largest gap reached {fmt_gap(zg)}.")
    return out


def speed_numbers(d: DatasetRun) -> dict:
    """Numbers behind :func:`answer_speed`: per-seed slopes, R^2, growth rates and the predicted delay."""
    slopes = np.array([f["slope"] for f in d.seed_fits], dtype=float)
    r2 = np.array([f["r2"] for f in d.seed_fits], dtype=float)
    lam = np.asarray(d.seed_growth, dtype=float)
    with np.errstate(all="ignore"):
        out = {"seed_slopes_steps_per_e": slopes, "seed_r2": r2, "seed_growth_per_step": lam,
               "median_slope_steps_per_decade": float(np.nanmedian(slopes) * math.log(10)) if np.isfinite(slopes).any() else float("nan"),
               "median_growth_per_step": float(np.nanmedian(lam)) if np.isfinite(lam).any() else float("nan"),
               "pooled": d.split_fit}
        out["predicted_steps_per_decade"] = (math.log(10) / out["median_growth_per_step"]
                                             if out["median_growth_per_step"] > 0 else float("nan"))
        ratio = np.where(lam > 0, slopes * lam, np.nan)
        out["seed_slope_times_growth"] = ratio
        out["seed_delay_per_decade"] = slopes * math.log(10)
        out["seed_predicted_delay_per_decade"] = np.where(lam > 0, math.log(10) / np.where(lam > 0, lam, 1.0), np.nan)
    return out


def answer_speed(d: DatasetRun) -> list[str]:
    """How fast does a small asymmetry grow into distinct units?"""
    n = speed_numbers(d)
    per = d.runs["symmetric"].steps_per_epoch
    slopes, r2 = n["seed_slopes_steps_per_e"], n["seed_r2"]
    ok = np.isfinite(slopes)
    if not ok.any():
        return [f"On the {d.dataset}, too few perturbation sizes split after step 0 to fit the time to split."]
    meas, pred = n["median_slope_steps_per_decade"], n["predicted_steps_per_decade"]
    lo = float(np.nanmin(r2[ok]))
    shape = ("grows in a straight line with" if lo >= 0.9 else "grows roughly linearly with" if lo >= 0.7 else
             "does not follow a straight line in")
    out = [f"On the {d.dataset}, the time to split {shape} log(1/eps): for each seed, the step "
           f"at which the units split fits a line in ln(1/eps) with R² from {np.nanmin(r2[ok]):.2f} to "
           f"{np.nanmax(r2[ok]):.2f}; each 10 times smaller perturbation delays the split by {meas:.0f} steps "
           f"({meas / per:.1f} epochs; median over seeds; per seed from {np.nanmin(slopes[ok]) * math.log(10):.0f} "
           f"to {np.nanmax(slopes[ok]) * math.log(10):.0f} steps). " + _pooled_text(d.split_fit["r2"], r2[ok])]
    if np.isfinite(pred):
        rel = abs(pred - meas) / meas if meas > 0 else float("inf")
        verdict = ("agrees with" if rel <= 0.25 else "is of the same order as" if rel <= 1 else "does not match")
        out.append(f"Before the split, the gap grew roughly like eps·exp(λt), with λ = {n['median_growth_per_step']:.3f} "
                   f"per step (median over seeds and eps; a 10-fold growth every {math.log(10) / n['median_growth_per_step']:.0f} "
                   f"steps). That linearised picture predicts ln(10)/λ = {pred:.0f} steps of delay per factor 10 of eps, "
                   f"which {verdict} the measured {meas:.0f}.")
    return out


def _pooled_text(pooled: float, per_seed: np.ndarray) -> str:
    if not np.isfinite(pooled):
        return ""
    if pooled < np.nanmin(per_seed) - 0.05:
        return (f"Pooling all seeds, one line fits worse (R² {pooled:.2f}): the delay per factor 10 differs from seed "
                "to seed, because the growth rate depends on where training starts.")
    return f"Pooling all seeds, one line fits nearly as well (R² {pooled:.2f}): the seeds share a similar rate."


def answer_zero(d: DatasetRun) -> list[str]:
    """What does an all-zero initialisation do?"""
    if "zeros" not in d.runs:
        return []
    r = d.runs["zeros"]
    w1 = float(np.abs(r.final["L1.linear.weight"]).max())
    b1 = float(np.abs(r.final["L1.linear.bias"]).max())
    w2 = float(np.abs(r.final["L2.linear.weight"]).max())
    b2 = float(np.abs(r.final["L2.linear.bias"]).max())
    T = r.max_gap.shape[1] - 1
    loss, acc = float(r.loss[:, -1].mean()), float(_final_acc(r).mean())
    learned = "only the output biases moved" if w1 == b1 == w2 == 0 and b2 > 0 else "some weights moved"
    return [f"On the {d.dataset}, every hidden unit of the all-zero network outputs ReLU(0) = 0 and ReLU's gradient at "
            f"0 is 0, so no gradient reaches the hidden weights and none reaches the output weights (they multiply "
            f"zero activations). After {T} steps the largest hidden weight was {fmt_gap(w1)}, the largest hidden bias "
            f"{fmt_gap(b1)} and the largest output weight {fmt_gap(w2)}: {learned}. The network predicts the class "
            f"frequencies: loss {loss:.3f} (the entropy of the class frequencies is {d.prior_loss:.3f}), accuracy "
            f"{pct(acc)}."]
