"""Figure- and table-ready numbers of the symmetry study, computed once here so figures only draw.

Medians and ranges over seeds of the gap curves, mean training curves, split steps against
log10(1/eps) with each seed's fitted line, and each condition's summary over seeds. Curves are
rounded to 4 significant digits (:func:`sig`) to keep ``results.json`` small: they are drawn,
not measured; exact zeros stay 0.
"""
from __future__ import annotations

import math

import numpy as np

from .analysis import ConditionRun, DatasetRun
from .result import (ConditionSummary, EpsCurve, EpsPanel, GapCurve, GapPanel, SplitPanel, SymmetryViews,
                     TrainingCurve, TrainingPanel)

__all__ = ["SHOWN_EPS", "sig", "shown_eps", "main_conditions", "condition_summary", "symmetry_views"]

#: The perturbation drawn beside the other conditions (the nearest one tried).
SHOWN_EPS = 1e-6
#: Exact zeros are drawn this many decades below the smallest positive value of a gap figure.
FLOOR_DECADES = 2


def sig(a, digits: int = 4) -> np.ndarray:
    """``a`` rounded to ``digits`` significant digits, float64 (exact zeros stay 0)."""
    a = np.asarray(a, dtype=np.float64)
    return np.array([float(f"{v:.{digits}g}") for v in a.ravel()]).reshape(a.shape)


def shown_eps(d: DatasetRun) -> ConditionRun | None:
    """The perturbed condition whose eps is nearest to :data:`SHOWN_EPS` (None: no eps run)."""
    eps = d.eps_runs()
    return min(eps, key=lambda r: abs(math.log(r.condition.eps / SHOWN_EPS))) if eps else None


def main_conditions(d: DatasetRun) -> list[str]:
    """Conditions of the terminal summary: random, symmetric, tied, one unit, dropout, smallest/shown/largest eps, zeros."""
    eps = d.eps_runs()
    picked = [n for n in ("random", "symmetric", "tied", "one unit", "symmetric+dropout") if n in d.runs]
    for r in ([eps[0], shown_eps(d), eps[-1]] if eps else []):
        if r.name not in picked:
            picked.append(r.name)
    return picked + (["zeros"] if "zeros" in d.runs else [])


def _nanmedian(x) -> float:
    x = np.asarray(x, dtype=np.float64)
    return float(np.nanmedian(x)) if np.isfinite(x).any() else float("nan")


def condition_summary(r: ConditionRun) -> ConditionSummary:
    """One condition over the seeds that did not diverge, as the tables show it (NaN when every seed did)."""
    from .findings import tie_outcome
    tie = tie_outcome(r)
    r = r.kept()
    if not r.max_gap.shape[0]:
        nan = float("nan")
        return ConditionSummary(mean_accuracy=nan, mean_loss=nan, largest_final_gap=nan, mean_final_gap=nan,
                                mean_distinct_final=nan, seeds_split=0, median_split_step=nan,
                                median_growth_per_step=nan, tie=tie, seeds_identical=0, median_first_gap_step=nan,
                                median_gap_growth_per_step=nan)
    return ConditionSummary(
        mean_accuracy=float(r.accuracy[:, -1].mean()), mean_loss=float(r.loss[:, -1].mean()),
        largest_final_gap=float(r.max_gap[:, -1].max()), mean_final_gap=float(r.mean_gap[:, -1].mean()),
        mean_distinct_final=float(r.distinct[:, -1].mean()), seeds_split=int(np.isfinite(r.split_step).sum()),
        median_split_step=_nanmedian(r.split_step), median_growth_per_step=_nanmedian(r.growth),
        tie=tie, seeds_identical=int((~np.any(r.max_gap != 0, axis=1)).sum()),
        median_first_gap_step=_nanmedian(r.first_gap), median_gap_growth_per_step=_nanmedian(r.gap_growth))


def _floor(curves: list[GapCurve]) -> float:
    pos = [float(c.median[c.median > 0].min()) for c in curves if np.any(c.median > 0)]
    return float(10 ** (np.floor(np.log10(min(pos))) - FLOOR_DECADES)) if pos else 1e-12


def gap_panel(name: str, d: DatasetRun) -> GapPanel:
    """Largest gap per step of random, dropout, the shown eps, symmetric, tied and zeros: median and range over seeds."""
    shown = shown_eps(d)
    runs = ([d.runs[k] for k in ("random", "symmetric+dropout") if k in d.runs] + ([shown] if shown else [])
            + [d.runs[k] for k in ("symmetric", "tied", "zeros") if k in d.runs])
    curves = []
    for r in runs:
        g = r.max_gap
        curves.append(GapCurve(r.name, r.condition.label, sig(np.median(g, axis=0)), sig(g.min(axis=0)),
                               sig(g.max(axis=0)), bool(not np.any(g > 0))))
    return GapPanel(f"{name}: {d.hidden} hidden units, {len(d.seeds)} seeds (band: all seeds)",
                    float(np.median(d.tol)), _floor(curves), curves)


def training_panel(name: str, d: DatasetRun) -> TrainingPanel:
    """Accuracy and distinct units per epoch (mean over seeds) of the main conditions."""
    shown = shown_eps(d)
    runs = [d.runs[k] for k in ("random", "symmetric", "tied", "one unit", "symmetric+dropout") if k in d.runs]
    runs += ([shown] if shown else []) + ([d.runs["zeros"]] if "zeros" in d.runs else [])
    return TrainingPanel(f"{name} ({d.hidden} hidden units)", d.hidden,
                         [TrainingCurve(r.name, r.condition.label, r.accuracy.mean(axis=0), r.distinct.mean(axis=0))
                          for r in runs])


def eps_panel(name: str, d: DatasetRun) -> EpsPanel:
    """Median largest gap per step for every eps, the median split step, and the steps worth drawing."""
    curves = [EpsCurve(r.condition.eps, sig(np.median(r.max_gap, axis=0)), _nanmedian(r.split_step))
              for r in d.eps_runs()]
    splits = [c.split for c in curves if np.isfinite(c.split)]
    sym = d.runs["symmetric"]
    T = sym.max_gap.shape[1] - 1
    xmax = min(T, max(3 * max(splits), 4 * sym.steps_per_epoch)) if splits else T
    return EpsPanel(f"{name}: symmetric start + noise of size eps", float(np.median(d.tol)), int(xmax), curves)


def split_panel(name: str, d: DatasetRun) -> SplitPanel:
    """Split step against log10(1/eps) per seed (splits at step 0 left out) and each seed's fitted line."""
    eps_runs = d.eps_runs()
    x = np.log10(1 / np.array([r.condition.eps for r in eps_runs], dtype=float))
    split = np.array([[t if t > 0 else np.nan for t in (r.split_step[i] for r in eps_runs)]
                      for i in range(len(d.seeds))], dtype=float)
    fit_x = np.full((len(d.seeds), 2), np.nan)
    fit_y = np.full((len(d.seeds), 2), np.nan)
    for i, f in enumerate(d.seed_fits):
        used = np.isfinite(split[i])
        if np.isfinite(f["slope"]) and used.any():
            fit_x[i] = [x[used].min(), x[used].max()]
            fit_y[i] = f["intercept"] + f["slope"] * math.log(10) * fit_x[i]
    return SplitPanel(f"{name} ({d.runs['symmetric'].steps_per_epoch} steps per epoch)", x, split,
                      [int(s) for s in d.seeds], fit_x, fit_y)


def symmetry_views(datasets: dict[str, DatasetRun]) -> SymmetryViews:
    """The panels of every figure, one per dataset (eps figures only for datasets with eps runs)."""
    with_eps = {k: d for k, d in datasets.items() if d.eps_runs()}
    return SymmetryViews(gap=[gap_panel(k, d) for k, d in datasets.items()],
                         training=[training_panel(k, d) for k, d in datasets.items()],
                         eps=[eps_panel(k, d) for k, d in with_eps.items()],
                         split_vs_eps=[split_panel(k, d) for k, d in with_eps.items()])
