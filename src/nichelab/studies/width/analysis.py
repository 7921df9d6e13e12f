"""Train every width on one dataset and take its census: accuracy, dead, duplicate and frivolous units.

Measures come from :mod:`nichelab.metrics` (dead units, unit correlations, participation ratio,
class partitions) and :func:`nichelab.interventions.ablate_units`, all on held-out data.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...data.base import Dataset
from ...interventions.ablation import ablate_units
from ...metrics.layers import participation_ratio, unit_correlation_matrix
from ...metrics.partitions import active_classes, split_key
from ...metrics.units import dead_units
from ...nn.forward import hidden_forward
from ...nn.models import build_model
from ...train.divergence import nonfinite_rows
from ...train.ensemble import ensemble_forward, train_ensemble
from .config import WidthConfig

__all__ = ["WidthRun", "DatasetWidths", "hidden_acts", "duplicate_pairs", "partitions",
           "census", "run_dataset"]


@dataclass
class WidthRun:
    """Every seed of one width on one dataset (S seeds, W units).

    Attributes
    ----------
    width : int
    accuracy, train_accuracy : np.ndarray of shape (S,)
        On the evaluation data and on the training data.
    dead : np.ndarray of shape (S, W), bool
        Silent (or constant) on every evaluation sample.
    dup_pairs : np.ndarray of shape (S,), int
        Pairs of live units whose activations correlate at least ``dup_threshold``.
    dup_units : np.ndarray of shape (S,)
        Share of the live units that have such a near-duplicate (NaN when no unit is live).
    partitions : np.ndarray of shape (S,), int, or None
        Distinct splits of the classes implemented by live units (blobs only; at most 7).
    splits : list of list of str, or None
        Each unit's split key (``"dead"`` for dead units), blobs only.
    participation : np.ndarray of shape (S,)
        Participation ratio of the hidden activations (effective dimensions).
    ablation_delta : np.ndarray of shape (S, W)
        Accuracy change when each unit alone is set to 0 (negative = damage).
    frivolous : np.ndarray of shape (S,)
        Share of units whose ablation costs less than ``ablation_cost`` accuracy.
    loss : np.ndarray of shape (S, epochs)
        Training loss per epoch.
    params : dict of str -> np.ndarray of shape (S, ...)
        Final weights.
    diverged : np.ndarray of shape (S,), bool
        Seeds whose training blew up (:mod:`nichelab.train.divergence`) or whose activations are
        not finite: every measure above is NaN for them (no unit of theirs counts as dead).
    """

    width: int
    accuracy: np.ndarray
    train_accuracy: np.ndarray
    dead: np.ndarray
    dup_pairs: np.ndarray
    dup_units: np.ndarray
    partitions: np.ndarray | None
    splits: list | None
    participation: np.ndarray
    ablation_delta: np.ndarray
    frivolous: np.ndarray
    loss: np.ndarray
    params: dict
    diverged: np.ndarray = None

    def __post_init__(self) -> None:
        if self.diverged is None:
            self.diverged = np.zeros(len(self.accuracy), dtype=bool)

    @property
    def dead_fraction(self) -> np.ndarray:
        """(S,) share of dead units (NaN for diverged seeds)."""
        frac = self.dead.mean(axis=1)
        return np.where(self.diverged, np.nan, frac) if self.diverged.any() else frac


@dataclass
class DatasetWidths:
    """Every width of one dataset, with the data it was measured on."""

    dataset: str
    train: Dataset
    eval: Dataset
    seeds: np.ndarray
    runs: dict = field(default_factory=dict)

    @property
    def widths(self) -> list[int]:
        return sorted(self.runs)


def hidden_acts(params: dict, X: np.ndarray) -> np.ndarray:
    """ReLU activations of L1 for every seed: (S, n, W), float64 (:func:`nichelab.nn.forward.hidden_forward`)."""
    return hidden_forward(params, X)[1]


def duplicate_pairs(acts: np.ndarray, threshold: float) -> tuple[int, float]:
    """(pairs of live units with correlation >= threshold, share of live units in such a pair)."""
    r = unit_correlation_matrix(acts)           # dead / constant units: all-zero rows
    live = np.diag(r) > 0
    linked = r >= threshold
    np.fill_diagonal(linked, False)
    linked &= live[:, None] & live[None, :]
    pairs = int(np.triu(linked, 1).sum())
    share = float(linked.any(axis=1)[live].mean()) if live.any() else float("nan")
    return pairs, share


def partitions(acts: np.ndarray, y: np.ndarray, n_classes: int, dead: np.ndarray) -> tuple[int, list[str]]:
    """(distinct non-trivial class splits among live units, each unit's split key or ``"dead"``)."""
    active = active_classes(acts, y, n_classes)
    keys = ["dead" if d else split_key(a) for a, d in zip(active, dead)]
    real = {k for k, a, d in zip(keys, active, dead) if not d and 0 < a.sum() < a.size}
    return len(real), keys


def census(width: int, ens, train: Dataset, ev: Dataset, cfg: WidthConfig) -> WidthRun:
    """Measure every seed of one trained width (diverged seeds get NaN measures)."""
    S = len(ens.seeds)
    with np.errstate(all="ignore"):
        acts = hidden_acts(ens.params, ev.X)
        logits_ev = ensemble_forward(ens.template, ens.params, ev.X)
        logits_tr = ensemble_forward(ens.template, ens.params, train.X)
    bad = np.asarray(ens.diverged, bool) | nonfinite_rows(acts, logits_ev, logits_tr)
    ok = np.flatnonzero(~bad)
    acc = _fill(S, ok, (logits_ev[ok].argmax(axis=2) == ev.y[None]).mean(axis=1))
    tr = _fill(S, ok, (logits_tr[ok].argmax(axis=2) == train.y[None]).mean(axis=1))
    W = acts.shape[2]
    dead = np.zeros((S, W), dtype=bool)
    dups = [duplicate_pairs(acts[i], cfg.dup_threshold) for i in ok]
    blobs = ev.name == "blobs"
    parts = {i: partitions(acts[i], ev.y, ev.n_classes, dead_units(acts[i])) for i in ok} if blobs else None
    for i in ok:
        dead[i] = dead_units(acts[i])
    pr = _fill(S, ok, np.array([participation_ratio(acts[i]) for i in ok]))
    delta = np.full((S, W), np.nan)
    for i in ok:
        delta[i] = ablate_units(ens.model(i), "L1", ev.X, ev.y, mode="zero").delta_acc
    with np.errstate(invalid="ignore"):
        friv = np.where(bad, np.nan, (delta > -cfg.ablation_cost).mean(axis=1))
    partition_counts = splits = None
    if blobs:
        partition_counts = _fill(S, ok, np.array([parts[i][0] for i in ok]), int)
        splits = [parts[i][1] if i in parts else ["diverged"] * W for i in range(S)]
    return WidthRun(width, acc, tr, dead, _fill(S, ok, np.array([p for p, _ in dups]), int),
                    _fill(S, ok, np.array([s for _, s in dups])), partition_counts, splits,
                    pr, delta, friv, ens.loss, ens.params, bad)


def _fill(S: int, ok: np.ndarray, values: np.ndarray, dtype=float) -> np.ndarray:
    """(S,) array with ``values`` at rows ``ok`` and NaN elsewhere (``dtype`` kept when nothing is missing)."""
    if len(ok) == S:
        return np.asarray(values, dtype=dtype).reshape(S)
    out = np.full(S, np.nan)
    out[ok] = values
    return out


def run_dataset(train: Dataset, ev: Dataset, cfg: WidthConfig, progress=None) -> DatasetWidths:
    """Train ``cfg.seeds`` networks at every width on ``train`` and measure them on ``ev``.

    Parameters
    ----------
    train, ev : Dataset
    cfg : WidthConfig
    progress : callable (done, total) -> None, optional
        Epochs done over all widths.
    """
    out = DatasetWidths(train.name, train, ev, np.asarray(cfg.seed_list))
    tcfg = cfg.train_config(epochs=cfg.epochs_for(train.name))
    E = tcfg.epochs
    for i, w in enumerate(cfg.widths):
        cb = (lambda d, t, i=i: progress(i * E + d, len(cfg.widths) * E)) if progress else None
        ens = train_ensemble(lambda s, w=w: build_model(f"mlp {w}", train.input_shape, train.n_classes,
                                                        init=cfg.init, seed=s),
                             train.X, train.y, tcfg, cfg.seed_list, progress=cb)
        out.runs[w] = census(w, ens, train, ev, cfg)
    return out
