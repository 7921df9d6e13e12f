"""The symmetry study's result: typed data only (numbers, words, figure-ready curves, weights).

``results.json`` keeps the layout of the study before results became data: ``seeds``, then
``datasets.<name>`` with its conditions, time-to-split numbers and findings; the figure-ready
numbers are under ``views``. Weights are ``{dataset}/{condition}/{initial|final}.{parameter}``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..base import SeededResult
from .config import SymmetryConfig

__all__ = ["SymmetryResult", "DatasetResult", "ConditionResult", "ConditionSummary", "TimeToSplit",
           "SymmetryViews", "GapPanel", "GapCurve", "TrainingPanel", "TrainingCurve", "EpsPanel", "EpsCurve",
           "SplitPanel"]


@dataclass
class ConditionSummary:
    """One condition over seeds, as the tables show it (NaN where undefined).

    Attributes
    ----------
    mean_accuracy, mean_loss : float — at the end, mean over seeds.
    largest_final_gap : float — largest gap between two units at the end, over seeds.
    mean_final_gap : float — mean gap over pairs of units at the end, mean over seeds.
    mean_distinct_final : float — distinct units at the end, mean over seeds.
    seeds_split : int — seeds whose units split.
    median_split_step : float — over the seeds that split.
    median_growth_per_step : float — growth rate of ln(gap) per step, median over seeds.
    tie : str — what happened to the tie (see :attr:`ConditionResult.tie`).
    seeds_identical : int — seeds whose units stayed bit-identical (gap exactly 0 at every step).
    median_first_gap_step : float — first step the gap left 0, median over the seeds where it did.
    median_gap_growth_per_step : float — growth rate of ln(gap) from that step, median over seeds.
    """

    mean_accuracy: float
    mean_loss: float
    largest_final_gap: float
    mean_final_gap: float
    mean_distinct_final: float
    seeds_split: int
    median_split_step: float
    median_growth_per_step: float
    tie: str = ""
    seeds_identical: int = 0
    median_first_gap_step: float = float("nan")
    median_gap_growth_per_step: float = float("nan")


@dataclass
class ConditionResult:
    """One condition trained for every seed (arrays over seeds, curves over steps or epochs).

    ``curves``: ``max_gap_per_step`` (S, steps + 1), ``mean_gap_per_epoch``, ``loss_per_epoch``,
    ``accuracy_per_epoch``, ``distinct_units_per_epoch`` (S, epochs + 1); gaps and losses are
    rounded to 4 significant digits (exact zeros stay 0).

    ``tie`` says what happened to identical units, measured: ``"tied"`` (one shared parameter
    vector, gap exactly 0 by construction), ``"identical"`` (separate copies, gap exactly 0 at
    every step in every seed), ``"rounding"`` (separate copies, no deliberate tie-breaker, and
    the gap left 0 in at least one seed: floating-point rounding split them), ``"dropout"``
    (started identical, dropout masks break the tie), ``"apart"`` (units differ from step 0:
    random or perturbed start) or ``"one unit"``. ``first_gap_step`` (S,): first step the gap
    was not exactly 0 (NaN: never); ``gap_growth_per_step`` (S,): growth rate of ln(gap) per
    step fitted from that step to the split; ``identical`` (S,): the gap stayed exactly 0.
    ``diverged`` (S,): seeds whose training diverged (:mod:`nichelab.train.divergence`); their
    per-seed values are NaN, they are left out of ``summary`` and of ``tie``, which is
    ``"diverged"`` when every seed diverged.
    """

    label: str
    init: str
    eps: float
    dropout: float
    optimizer: dict
    hidden: int
    source_unit: np.ndarray
    accuracy: np.ndarray
    loss: np.ndarray
    final_max_gap: np.ndarray
    largest_gap_any_step: np.ndarray
    distinct_units_final: np.ndarray
    split_step: np.ndarray
    growth_rate_per_step: np.ndarray
    steps_per_epoch: int
    curves: dict[str, np.ndarray]
    summary: ConditionSummary
    tied: bool = False
    tie: str = ""
    identical: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    first_gap_step: np.ndarray = field(default_factory=lambda: np.zeros(0))
    gap_growth_per_step: np.ndarray = field(default_factory=lambda: np.zeros(0))
    diverged: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


@dataclass
class TimeToSplit:
    """How the step at which units split grows with ln(1/eps), per seed and pooled.

    ``seed_slopes_steps_per_e`` (steps per factor e of eps), ``seed_r2``, ``seed_growth_per_step``
    (median growth rate of ln(gap) over eps), their medians, the pooled line (``pooled``: slope,
    intercept, r2, n), ``predicted_steps_per_decade`` = ln(10) / median growth, per seed
    ``seed_delay_per_decade`` (measured) and ``seed_predicted_delay_per_decade``, and the per-seed
    line fits (``seed_fits``).
    """

    seed_slopes_steps_per_e: np.ndarray
    seed_r2: np.ndarray
    seed_growth_per_step: np.ndarray
    median_slope_steps_per_decade: float
    median_growth_per_step: float
    pooled: dict
    predicted_steps_per_decade: float
    seed_slope_times_growth: np.ndarray
    seed_delay_per_decade: np.ndarray
    seed_predicted_delay_per_decade: np.ndarray
    seed_fits: list[dict]


@dataclass
class DatasetResult:
    """Every condition of one dataset, the split tolerance, the fits and the answers in words.

    ``main_conditions`` are the conditions of the terminal summary; ``shown_eps`` the perturbed
    condition drawn beside the others (None when no eps was run).
    """

    hidden: int
    n_samples: int
    n_classes: int
    seeds: list[int]
    typical_initial_norm: np.ndarray
    split_tolerance: np.ndarray
    conditions: dict[str, ConditionResult]
    time_to_split: TimeToSplit
    one_unit_collapse_max_logit_difference: float
    class_frequency_entropy: float
    zero_init_max_abs: dict | None
    findings: dict[str, list[str]]
    main_conditions: list[str]
    shown_eps: str | None
    tied_collapse_max_logit_difference: float = float("nan")
    dtype: str = ""


# ---- figure-ready numbers (one panel per dataset) --------------------------------------------
@dataclass
class GapCurve:
    """Largest gap per step over seeds: median, lowest and highest seed; ``zero`` if 0 at every step."""

    key: str
    label: str
    median: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    zero: bool


@dataclass
class GapPanel:
    """``tol``: median split tolerance; ``floor``: where exact zeros are drawn."""

    title: str
    tol: float
    floor: float
    curves: list[GapCurve]


@dataclass
class TrainingCurve:
    """Accuracy and distinct units per epoch, mean over seeds."""

    key: str
    label: str
    accuracy: np.ndarray
    distinct: np.ndarray


@dataclass
class TrainingPanel:
    title: str
    hidden: int
    curves: list[TrainingCurve]


@dataclass
class EpsCurve:
    """Median largest gap per step of one perturbation size, and its median split step (NaN: none)."""

    eps: float
    median: np.ndarray
    split: float


@dataclass
class EpsPanel:
    title: str
    tol: float
    xmax: int
    curves: list[EpsCurve]


@dataclass
class SplitPanel:
    """Split step against log10(1/eps) per seed, with each seed's fitted line.

    ``x`` (K,) log10(1/eps); ``split`` (S, K), NaN where the seed did not split after step 0;
    ``fit_x``, ``fit_y`` (S, 2) ends of each seed's line (NaN: no line).
    """

    title: str
    x: np.ndarray
    split: np.ndarray
    seeds: list[int]
    fit_x: np.ndarray
    fit_y: np.ndarray


@dataclass
class SymmetryViews:
    """Panels of the four figures: gap per condition, training curves, gap per eps, split vs eps."""

    gap: list[GapPanel] = field(default_factory=list)
    training: list[TrainingPanel] = field(default_factory=list)
    eps: list[EpsPanel] = field(default_factory=list)
    split_vs_eps: list[SplitPanel] = field(default_factory=list)


class SymmetryResult(SeededResult):
    """Everything the symmetry study measured.

    Attributes
    ----------
    datasets : dict of str -> DatasetResult
    views : SymmetryViews — figure-ready numbers.
    params : dict of str -> (S, ...) arrays — initial and final weights of every condition, named
        ``{dataset}/{condition}/{initial|final}.{parameter}`` (weights file).
    """

    study: ClassVar[str] = "symmetry"
    config: SymmetryConfig
    datasets: dict[str, DatasetResult]
    views: SymmetryViews = field(default_factory=SymmetryViews)

    def tables(self) -> dict:
        """``conditions`` (one row per dataset and condition) and ``time_to_split`` (per dataset and seed)."""
        import pandas as pd
        conditions = pd.DataFrame([{"dataset": ds, "condition": name, "label": c.label, **vars(c.summary)}
                                   for ds, d in self.datasets.items() for name, c in d.conditions.items()])
        speed = pd.DataFrame([{"dataset": ds, "seed": s, "delay_per_decade_steps": t.seed_delay_per_decade[i],
                               "r2": t.seed_r2[i], "growth_per_step": t.seed_growth_per_step[i],
                               "predicted_delay_per_decade_steps": t.seed_predicted_delay_per_decade[i]}
                              for ds, d in self.datasets.items() for t in [d.time_to_split]
                              for i, s in enumerate(d.seeds)])
        return {"conditions": conditions, "time_to_split": speed}

    def summary(self) -> str:
        """The short answer in words."""
        return " ".join(d.findings["stay"][0] for d in self.datasets.values())
