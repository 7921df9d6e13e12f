"""The symmetry study: why do hidden units differ at all?

Start every hidden unit as an exact copy of one unit and train: identical units receive identical
gradients and stay identical, so the network is a one-unit network. Random initialisation,
dropout and a perturbation of size eps break the tie; the study measures how fast (time to split
against log(1/eps), the growth rate of the gap) and what an all-zero start does.
``run(SymmetryConfig()) -> SymmetryResult``. See REFERENCES.md, "Symmetry".
"""
from __future__ import annotations

import time

from ...data.blobs import load_blobs
from ...data.digits import load_digits
from ...train.config import threads
from .analysis import ConditionRun, DatasetRun, run_dataset
from .config import DATASETS, Condition, SymmetryConfig
from .result import SymmetryResult

__all__ = ["SymmetryConfig", "SymmetryResult", "Condition", "ConditionRun", "DatasetRun", "DATASETS", "run"]


def _load(name: str):
    return load_blobs() if name == "blobs" else load_digits()


def run(config: SymmetryConfig | None = None, *, progress=None) -> SymmetryResult:
    """Train every condition on every dataset and measure the gaps between units.

    Parameters
    ----------
    config : SymmetryConfig, optional
        Defaults: 5 seeds per condition, blobs (4 units, 200 epochs) and digits (32 units, 15 epochs).
    progress : callable (stage: str, done: int, total: int) -> None, optional

    Runs with one torch thread (see :func:`nichelab.train.threads`).

    Returns
    -------
    SymmetryResult
    """
    cfg = config or SymmetryConfig()
    datasets, timings = {}, {}
    with threads(1):
        for name in cfg.data:
            t0 = time.perf_counter()
            cb = (lambda d, t, name=name: progress(name, d, t)) if progress else None
            datasets[name] = run_dataset(_load(name), cfg, cb)
            timings[f"{name}_s"] = time.perf_counter() - t0
    return SymmetryResult(cfg, datasets, timings)
