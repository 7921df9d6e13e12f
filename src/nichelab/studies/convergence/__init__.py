"""The convergence study: do networks trained from different seeds learn the same units (one-to-one
matches, Li et al. 2015) or only the same subspaces (CKA, SVCCA; Kornblith et al. 2019)?

``run(ConvergenceConfig()) -> ConvergenceResult``. See REFERENCES.md, "Across networks and layers".
"""
from __future__ import annotations

import time

import numpy as np

from ...capture import capture
from ...data.base import Dataset
from ...data.loaders import load_dataset
from ...errors import NichelabError
from ...nn.models import build_model
from ...nn.spec import parse_spec
from ...train.ensemble import ensemble_forward, train_ensemble
from .analysis import ConvergenceAnalysis, analyse, blas_threads, layer_summaries
from .config import DEFAULT_MEASURES, MEASURES, ConvergenceConfig
from .result import ConvergenceResult

__all__ = ["ConvergenceConfig", "ConvergenceResult", "ConvergenceAnalysis", "run", "load_data", "split",
           "MEASURES", "DEFAULT_MEASURES"]


def load_data(cfg: ConvergenceConfig) -> Dataset:
    """The study's dataset, as images when the model is a cnn."""
    return load_dataset(cfg.dataset, images=parse_spec(cfg.model).kind == "cnn")


def split(data: Dataset, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train / test row indices (sorted), the same for every network.

    Raises
    ------
    NichelabError
        A class too small to appear on both sides.
    """
    rng = np.random.default_rng([int(seed), 11])
    test = []
    for c in range(data.n_classes):
        idx = np.flatnonzero(data.y == c)
        if len(idx) == 0:
            continue
        if len(idx) < 2:
            raise NichelabError(f"class {data.class_names[c]!r} of --dataset {data.name!r} needs at least 2 samples "
                                f"to split into train and test; got {len(idx)}")
        k = min(max(int(round(test_fraction * len(idx))), 1), len(idx) - 1)
        test.append(rng.choice(idx, size=k, replace=False))
    te = np.sort(np.concatenate(test))
    return np.setdiff1d(np.arange(len(data)), te), te


def _capture_all(models, X, layers) -> list[dict]:
    return [capture(m, X, layers=layers, reduce="mean") for m in models]


def run(config: ConvergenceConfig | None = None, *, progress=None) -> ConvergenceResult:
    """Train ``config.seeds`` networks at once and compare every pair, layer by layer and unit by unit.

    Parameters
    ----------
    config : ConvergenceConfig, optional
        Defaults: 5 seeds of ``mlp 64-64-64-64`` on digits (30% held out for measuring).
    progress : callable (stage: str, done: int, total: int) -> None, optional

    Returns
    -------
    ConvergenceResult
    """
    cfg = config or ConvergenceConfig()
    data = load_data(cfg)
    tr, te = split(data, cfg.test_fraction, cfg.split_seed)
    tick = progress or (lambda *a: None)

    def build(s: int):
        return build_model(cfg.model, data.input_shape, data.n_classes, init=cfg.init, seed=s)

    build(cfg.first_seed)  # rejects a cnn on vector data before training
    t0 = time.perf_counter()
    ens = train_ensemble(build, data.X[tr], data.y[tr], cfg.train_config(), cfg.seed_list,
                         progress=lambda d, t: tick("training", d, t))
    t1 = time.perf_counter()
    trained = [ens.model(i) for i in range(cfg.seeds)]
    untrained = [ens.model(i, ens.snapshots[0]) for i in range(cfg.seeds)]
    layers = list(trained[0].hidden) + [trained[0].output]
    with blas_threads(cfg.threads):
        acts_test = _capture_all(trained, data.X[te], layers)
        acts_train = _capture_all(trained, data.X[tr], layers)
        acts_init = _capture_all(untrained, data.X[te], layers)
        tick("capture", 1, 1)
        t2 = time.perf_counter()
        analysis = analyse(acts_test, acts_train, acts_init, layers, cfg.measures, debiased=cfg.debiased,
                           threshold_high=cfg.threshold_high, threshold_low=cfg.threshold_low, progress=tick)
    logits = ensemble_forward(ens.template, ens.params, data.X[te])
    accuracy = (logits.argmax(axis=2) == data.y[te][None, :]).mean(axis=1)
    summaries = layer_summaries(analysis, threshold_high=cfg.threshold_high, threshold_low=cfg.threshold_low,
                                majority=cfg.majority, subspace_high=cfg.subspace_high)
    t3 = time.perf_counter()
    return ConvergenceResult(cfg, data, tr, te, ens, analysis, summaries, accuracy,
                             {"training_s": t1 - t0, "capture_s": t2 - t1, "analysis_s": t3 - t2}, acts_test)
