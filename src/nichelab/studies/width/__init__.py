"""The width study: with more hidden units than the task needs, do units keep distinct niches?

Networks with 1 to 128 hidden ReLU units, several seeds each, on the lab's blobs and on digits.
Per width: accuracy, dead units, near-duplicate pairs, the distinct class splits the units
implement (blobs), the participation ratio, and the share of units whose single ablation costs
less than 0.5% accuracy. ``run(WidthConfig()) -> WidthResult``.
"""
from __future__ import annotations

import time

from ...data.blobs import load_blobs
from ...data.digits import load_digits
from ...train.config import threads
from .analysis import DatasetWidths, WidthRun, run_dataset, stratified_split
from .config import DATASETS, WidthConfig
from .result import WidthResult

__all__ = ["WidthConfig", "WidthResult", "WidthRun", "DatasetWidths", "DATASETS", "run", "load_split",
           "EVAL_RANDOM_STATE"]

#: ``make_blobs`` random state of the blobs' evaluation points (the training points use the lab's 30).
EVAL_RANDOM_STATE = 1


def load_split(name: str, cfg: WidthConfig):
    """(train, evaluation) datasets: the lab's 100 blobs and fresh points, or a stratified 75/25 digits split."""
    if name == "blobs":
        ev = load_blobs(cfg.eval_samples, random_state=EVAL_RANDOM_STATE)
        return load_blobs(), ev
    return stratified_split(load_digits(), 0.25, seed=0)


def run(config: WidthConfig | None = None, *, progress=None) -> WidthResult:
    """Train every width on every dataset and take each network's unit census.

    Runs with one torch thread (see :func:`nichelab.train.threads`).

    Parameters
    ----------
    config : WidthConfig, optional
        Defaults: widths 1..128, 5 seeds, blobs (200 epochs) and digits (30 epochs).
    progress : callable (stage: str, done: int, total: int) -> None, optional

    Returns
    -------
    WidthResult
    """
    cfg = config or WidthConfig()
    datasets, timings = {}, {}
    with threads(1):
        for name in cfg.data:
            t0 = time.perf_counter()
            train, ev = load_split(name, cfg)
            cb = (lambda d, t, name=name: progress(name, d, t)) if progress else None
            datasets[name] = run_dataset(train, ev, cfg, cb)
            timings[f"{name}_s"] = time.perf_counter() - t0
    return WidthResult(cfg, datasets, timings)
