"""Run the symmetry study: train every condition on every dataset, keep the numbers as a SymmetryResult."""
from __future__ import annotations

import time

import numpy as np

from ...data.blobs import load_blobs
from ...data.digits import load_digits
from ...train.config import threads
from . import findings as fx
from . import views
from .analysis import ConditionRun, DatasetRun, run_dataset
from .config import SymmetryConfig
from .result import ConditionResult, DatasetResult, SymmetryResult, TimeToSplit

__all__ = ["run", "measure", "to_result"]


def _load(name: str):
    return load_blobs() if name == "blobs" else load_digits()


def measure(config: SymmetryConfig, *, progress=None) -> tuple[dict[str, DatasetRun], dict[str, float]]:
    """Train and measure every condition of every dataset, with one torch thread.

    Returns
    -------
    (datasets, timings) : dict of str -> DatasetRun, dict of ``"{dataset}_s"`` -> seconds
    """
    datasets, timings = {}, {}
    with threads(1):
        for name in config.data:
            t0 = time.perf_counter()
            cb = (lambda d, t, name=name: progress(name, d, t)) if progress else None
            datasets[name] = run_dataset(_load(name), config, cb)
            timings[f"{name}_s"] = time.perf_counter() - t0
    return datasets, timings


def run(config: SymmetryConfig, *, progress=None) -> SymmetryResult:
    """Train every condition on every dataset and measure the gaps between units.

    Defaults: 5 seeds per condition, blobs (4 units, 200 epochs) and digits (32 units, 15 epochs).

    Follows the study protocol (:meth:`nichelab.studies.base.Study.run`): a :class:`SymmetryConfig` in, a
    :class:`SymmetryResult` out.
    """
    datasets, timings = measure(config, progress=progress)
    return to_result(config, datasets, timings)


def to_result(config: SymmetryConfig, datasets: dict[str, DatasetRun], timings: dict | None = None) -> SymmetryResult:
    """The :class:`SymmetryResult` of measured datasets (numbers, words, figure-ready views, weights)."""
    params = {f"{ds}/{name}/{when}.{k}": np.asarray(v) for ds, d in datasets.items() for name, r in d.runs.items()
              for when, p in (("initial", r.initial), ("final", r.final)) for k, v in p.items()}
    return SymmetryResult(config=config, seeds=config.seed_list,
                          datasets={k: _dataset(d) for k, d in datasets.items()},
                          views=views.symmetry_views(datasets), params=params, timings=dict(timings or {}))


def _dataset(d: DatasetRun) -> DatasetResult:
    zeros = d.runs.get("zeros")
    shown = views.shown_eps(d)
    return DatasetResult(
        hidden=d.hidden, n_samples=d.n_samples, n_classes=d.n_classes, seeds=[int(s) for s in d.seeds],
        typical_initial_norm=d.norm0, split_tolerance=d.tol,
        conditions={n: _condition(r) for n, r in d.runs.items()},
        time_to_split=TimeToSplit(**fx.speed_numbers(d.kept()), seed_fits=d.seed_fits),
        one_unit_collapse_max_logit_difference=d.collapse_error, class_frequency_entropy=d.prior_loss,
        zero_init_max_abs={k: float(np.abs(v).max()) for k, v in zeros.final.items()} if zeros else None,
        findings=fx.findings(d), main_conditions=views.main_conditions(d), shown_eps=shown.name if shown else None,
        tied_collapse_max_logit_difference=d.tied_collapse_error, dtype=d.dtype)


def _condition(r: ConditionRun) -> ConditionResult:
    c = r.condition
    return ConditionResult(
        label=c.label, init=c.init, eps=c.eps, dropout=c.dropout, optimizer=dict(c.optimizer),
        hidden=r.final["L1.linear.weight"].shape[1], source_unit=r.source, accuracy=r.accuracy[:, -1],
        loss=r.loss[:, -1], final_max_gap=r.max_gap[:, -1], largest_gap_any_step=r.max_gap.max(axis=1),
        distinct_units_final=r.distinct[:, -1], split_step=r.split_step, growth_rate_per_step=r.growth,
        steps_per_epoch=r.steps_per_epoch,
        curves={"max_gap_per_step": views.sig(r.max_gap),
                "mean_gap_per_epoch": views.sig(r.mean_gap[:, ::r.steps_per_epoch]),
                "loss_per_epoch": views.sig(r.loss), "accuracy_per_epoch": r.accuracy,
                "distinct_units_per_epoch": r.distinct},
        summary=views.condition_summary(r), tied=c.tied, tie=fx.tie_outcome(r),
        identical=~np.any(r.max_gap != 0, axis=1) & ~r.diverged, first_gap_step=r.first_gap,
        gap_growth_per_step=r.gap_growth, diverged=np.asarray(r.diverged, dtype=bool))
