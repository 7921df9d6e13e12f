"""The symmetry study's answers in words, generated from the measured numbers (no fixed claims)."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..text import pct, plural

if TYPE_CHECKING:
    from .analysis import ConditionRun, DatasetRun

__all__ = ["fmt_gap", "steps_text", "answer_stay", "answer_one_unit", "answer_breaks", "answer_speed",
           "answer_zero", "speed_numbers", "findings"]

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


def findings(d: DatasetRun) -> dict[str, list[str]]:
    """Every answer in words for one dataset: ``stay``, ``one_unit``, ``breaks``, ``speed``, ``zero``."""
    return {"stay": answer_stay(d), "one_unit": answer_one_unit(d), "breaks": answer_breaks(d),
            "speed": answer_speed(d), "zero": answer_zero(d)}


def _final_acc(r: ConditionRun) -> np.ndarray:
    return r.accuracy[:, -1]


def _acc_text(r: ConditionRun) -> str:
    a = _final_acc(r)
    return f"{pct(a.mean())} (seeds {pct(a.min())}–{pct(a.max())})" if len(a) > 1 else pct(a.mean())


def _where(d: DatasetRun) -> str:
    return f"the {d.dataset} ({d.hidden} hidden units, {len(d.seeds)} seeds)"


def answer_stay(d: DatasetRun) -> list[str]:
    """Do identical units stay identical under gradient descent?"""
    sym = d.runs["symmetric"]
    T = sym.max_gap.shape[1] - 1
    g = float(sym.max_gap.max())
    verdict = ("stayed identical" if g == 0 else
               "stayed identical up to float rounding" if g < 1e-10 * float(d.norm0.mean()) else
               "did NOT stay identical")
    out = [f"On {_where(d)}, the units of the symmetric networks {verdict}: the largest distance between any "
           f"two units' incoming weights was {fmt_gap(g)} over all {T} optimizer steps and every seed."]
    checks = [(d.runs[n].condition.label.replace("symmetric, ", ""), float(d.runs[n].max_gap.max()))
              for n in OPTIMIZER_CHECKS if n in d.runs]
    if checks:
        parts = ", ".join(f"{lab}: {fmt_gap(v)}" for lab, v in checks)
        same = all(v == 0 for _, v in checks)
        out.append(f"The same symmetric start trained with other optimizers gave a largest gap of {parts}"
                   + (" -- plain gradient steps, momentum, Adam's per-weight scaling and weight decay all treat "
                      "identical units identically." if same else "."))
    return out


def answer_one_unit(d: DatasetRun) -> list[str]:
    """Does the symmetric network behave like a network with one hidden unit?"""
    sym, one, rnd = d.runs["symmetric"], d.runs["one unit"], d.runs["random"]
    a_sym, a_one, a_rnd = (float(_final_acc(r).mean()) for r in (sym, one, rnd))
    close = abs(a_sym - a_one) <= 0.15
    far = a_rnd - a_sym >= 0.15
    verdict = ("so its accuracy is close to that of a separately trained one-unit network" if close and far else
               "so its accuracy is not that of the separately trained one-unit network here" if not close else
               "though here one unit is nearly enough for this data")
    out = [f"On the {d.dataset}, the symmetric {d.hidden}-unit network reached {_acc_text(sym)} training accuracy; "
           f"a separate network made of the copied unit alone, trained on its own, reached {_acc_text(one)}, "
           f"and the same {d.hidden} units started from random weights {_acc_text(rnd)}, {verdict}."]
    if np.isfinite(d.collapse_error):
        within = ("exactly" if d.collapse_error == 0 else
                  f"to within {d.collapse_error:.0e} (float rounding)")
        out.append(f"After training, its outputs equal those of a different one-unit network -- not the separately "
                   f"trained one above, but one built from the symmetric network itself (the shared unit, with its "
                   f"outgoing weights summed over the {d.hidden} copies) -- {within} on every "
                   f"{'point' if d.dataset == 'blobs' else 'image'}: {d.hidden} copies compute one feature. "
                   f"The two one-unit networks differ because the shared unit and the unit trained alone "
                   f"follow different training paths, so their accuracies need not match.")
    return out


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
                   f"different gradients: {n} of {plural(S, 'seed')} split, after a median of "
                   f"{steps_text(med, per) if n else 'never'}, ending with {r.distinct[:, -1].mean():.1f} distinct "
                   f"units and {_acc_text(r)} accuracy.")
    eps_runs = d.eps_runs()
    if eps_runs:
        all_split = [r for r in eps_runs if _split_summary(r)[0] == S]
        never = [r for r in eps_runs if _split_summary(r)[0] < S]
        smallest = eps_runs[0]
        n, worst = _split_summary(smallest)
        lead = ("A perturbation breaks the tie however small it is" if n == S else
                "A perturbation breaks the tie, given time")
        text = (f"{lead}: with eps={smallest.condition.eps:.0e} "
                f"(noise of that standard deviation on every weight), {n} of {plural(S, 'seed')} split")
        text += (f", the last after {steps_text(worst, per)}" if n else "")
        acc = float(np.mean([_final_acc(r).mean() for r in eps_runs]))
        text += (f"; across all {len(eps_runs)} sizes tried, {len(all_split)} split in every seed, and the perturbed "
                 f"networks ended at {pct(acc)} mean accuracy against {pct(_final_acc(d.runs['symmetric']).mean())} "
                 "for the exactly symmetric ones.")
        if never:
            text += (" Within the training time, not every seed split for eps = "
                     + ", ".join(f"{r.condition.eps:.0e}" for r in never) + ".")
        out.append(text)
    if "zeros" in d.runs:
        out.append(f"All-zero initialisation never breaks it: the largest gap stayed {fmt_gap(float(d.runs['zeros'].max_gap.max()))}.")
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
