"""Run the width study: train every width on every dataset, take each network's census, keep the numbers."""
from __future__ import annotations

import time

import numpy as np

from ...data.base import Dataset
from ...data.blobs import load_blobs
from ...data.digits import load_digits
from ...data.split import stratified_split
from ...train.config import threads
from . import findings as fx
from .analysis import DatasetWidths, WidthRun, run_dataset
from .config import DIGITS_TEST_FRACTION, EVAL_RANDOM_STATE, WidthConfig
from .result import DatasetCensus, WidthCensus, WidthResult
from .views import width_views

__all__ = ["run", "load_split"]


def load_split(name: str, cfg: WidthConfig) -> tuple[Dataset, Dataset]:
    """(train, evaluation) datasets: the lab's 100 blobs and fresh points, or a stratified 75/25 digits split."""
    if name == "blobs":
        return load_blobs(), load_blobs(cfg.eval_samples, random_state=EVAL_RANDOM_STATE)
    return stratified_split(load_digits(), DIGITS_TEST_FRACTION, seed=0)


def run(config: WidthConfig, *, progress=None) -> WidthResult:
    """Train every width on every dataset and take each network's unit census.

    Runs with one torch thread (see :func:`nichelab.train.threads`).

    Follows the study protocol (:meth:`nichelab.studies.base.Study.run`): a :class:`WidthConfig` in, a
    :class:`WidthResult` out.
    """
    cfg = config
    runs, timings = {}, {}
    with threads(1):
        for name in cfg.data:
            t0 = time.perf_counter()
            train, ev = load_split(name, cfg)
            cb = (lambda d, t, name=name: progress(name, d, t)) if progress else None
            runs[name] = run_dataset(train, ev, cfg, cb)
            timings[f"{name}_s"] = time.perf_counter() - t0
    params = {f"{ds}/w{w}/{k}": np.asarray(v) for ds, d in runs.items() for w in d.widths
              for k, v in d.runs[w].params.items()}
    return WidthResult(config=cfg, seeds=cfg.seed_list, datasets={k: _dataset(d, cfg) for k, d in runs.items()},
                       views=width_views(runs, list(cfg.widths)), params=params, timings=timings)


def _dataset(d: DatasetWidths, cfg: WidthConfig) -> DatasetCensus:
    means = {m: fx.curve(d, m) for m in fx.MEASURES}
    means["top_unit_cost"] = fx.top_unit_cost(d)
    return DatasetCensus(
        n_train=len(d.train), n_eval=len(d.eval), n_classes=d.train.n_classes, widths=d.widths,
        enough_width=fx.enough_width(d), means_by_width=means,
        per_width={w: _width(d.runs[w]) for w in d.widths},
        findings={"accuracy": fx.answer_diverged(d) + fx.answer_accuracy(d), "niches": fx.answer_niches(d, cfg), "dead": fx.answer_dead(d),
                  "frivolous": fx.answer_frivolous(d, cfg), "short": " ".join(fx.answer_diverged(d) + [fx.answer_short(d)])})


def _width(r: WidthRun) -> WidthCensus:
    return WidthCensus(
        accuracy=r.accuracy, train_accuracy=r.train_accuracy, dead_fraction=r.dead_fraction,
        dead_units=[np.flatnonzero(x).tolist() for x in r.dead], near_duplicate_pairs=r.dup_pairs,
        units_with_near_duplicate=r.dup_units, participation_ratio=r.participation, frivolous_fraction=r.frivolous,
        ablation_accuracy_change=r.ablation_delta, final_train_loss=r.loss[:, -1], loss_per_epoch=r.loss,
        distinct_partitions=r.partitions, unit_splits=r.splits, diverged=r.diverged)
