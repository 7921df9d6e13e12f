"""Per-seed measurements of the lab network: partitions, dead units, outcome, initial geometry.

Pure numpy on stacked weights (S seeds): ``L1.linear.weight`` (S, H, 2), ``L1.linear.bias``
(S, H), ``L2.linear.weight`` (S, C, H), ``L2.linear.bias`` (S, C).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...metrics.partitions import split_key
from ...metrics.units import dead_units
from ...nn.forward import hidden_forward
from ...train.divergence import nonfinite_rows
from .config import ALL_OUTCOMES, DIVERGED

__all__ = ["SeedAnalysis", "analyse_seeds", "classify_outcome", "pairwise_angles"]


def _active(acts: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """(S, H, C) bool: class c active for unit h when most of its samples give a positive activation."""
    on = acts > 0
    return np.stack([on[:, y == c, :].mean(axis=1) > 0.5 if np.any(y == c)
                     else np.zeros(on.shape[::2], bool) for c in range(n_classes)], axis=-1)


def pairwise_angles(W: np.ndarray) -> np.ndarray:
    """Smallest angle in degrees between any two units' incoming weight vectors: W (S, H, d) -> (S,).

    NaN when H < 2 or a weight vector is zero.
    """
    W = np.asarray(W, dtype=np.float64)
    if W.shape[1] < 2:
        return np.full(W.shape[0], np.nan)
    norms = np.linalg.norm(W, axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        U = W / norms[..., None]
        cos = np.clip(np.einsum("shd,skd->shk", U, U), -1, 1)
    iu = np.triu_indices(W.shape[1], 1)
    return np.degrees(np.arccos(cos[:, iu[0], iu[1]])).min(axis=1)


def classify_outcome(active: np.ndarray, dead: np.ndarray, recall: np.ndarray) -> str:
    """Outcome of one seed.

    Parameters
    ----------
    active : (H, C) bool — classes on each unit's active side.
    dead : (H,) bool — unit silent on every sample.
    recall : (C,) float — per-class accuracy.

    Returns
    -------
    str
        ``"dead"`` if any unit is silent on every sample; else ``"duplicate"`` if two units
        implement the same split of the classes (either orientation, both sides non-empty);
        else ``"distinct"`` if the units' splits all differ and every class is predicted
        correctly for most of its points (recall > 0.5); else ``"other"``.
    """
    if dead.any():
        return "dead"
    keys = [split_key(a) for a in active]
    real = [k for k, a in zip(keys, active) if 0 < a.sum() < a.size]
    if len(set(real)) < len(real):
        return "duplicate"
    if len(set(keys)) == len(keys) and np.all(recall > 0.5):
        return "distinct"
    return "other"


@dataclass
class SeedAnalysis:
    """Measurements of every seed (arrays over seeds S, hidden units H, classes C).

    Attributes
    ----------
    seeds : (S,) int
    loss : (S,) float — softmax cross-entropy on the data with the final weights.
    accuracy : (S,) float in [0, 1]
    recall : (S, C) float — per-class accuracy.
    active : (S, H, C) bool — classes on each unit's active side.
    dead : (S, H) bool — unit silent (ReLU output 0) on every sample.
    splits : list of list of str — each unit's split key, e.g. ``"{0,1}|{2,3}"``.
    outcome : list of str — one of OUTCOMES per seed.
    init_active : (S, H, C) bool — the same partition measured with the initial weights.
    init_angle : (S,) float — smallest angle (degrees) between two units' initial weight vectors.
    diverged : (S,) bool — training blew up (:mod:`nichelab.train.divergence`), or the final
        network's activations are not finite; such seeds have outcome ``"diverged"`` and no dead units.
    """

    seeds: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    recall: np.ndarray
    active: np.ndarray
    dead: np.ndarray
    splits: list
    outcome: list
    init_active: np.ndarray
    init_angle: np.ndarray
    diverged: np.ndarray = None

    def __post_init__(self) -> None:
        if self.diverged is None:
            self.diverged = np.zeros(len(self.seeds), dtype=bool)

    def kept(self) -> "SeedAnalysis":
        """The seeds that did not diverge (every other statistic is computed on these)."""
        i = np.flatnonzero(~self.diverged)
        return SeedAnalysis(self.seeds[i], self.loss[i], self.accuracy[i], self.recall[i], self.active[i],
                            self.dead[i], [self.splits[j] for j in i], [self.outcome[j] for j in i],
                            self.init_active[i], self.init_angle[i], self.diverged[i])

    def share(self, outcome: str) -> float:
        """Fraction of seeds with ``outcome``."""
        return float(np.mean([o == outcome for o in self.outcome]))


def analyse_seeds(seeds, params: dict, init_params: dict, X: np.ndarray, y: np.ndarray,
                  n_classes: int = 4, diverged: np.ndarray | None = None) -> SeedAnalysis:
    """Measure every seed's final network (and its initial partition) on the data ``X, y``.

    ``diverged`` (S,) bool marks seeds whose training blew up (``EnsembleResult.diverged``); seeds
    whose activations or logits are not finite are marked too. Their outcome is ``"diverged"``
    and none of their units counts as dead (NaN is not silence).
    """
    y = np.asarray(y)
    with np.errstate(all="ignore"):
        _, acts, logits = hidden_forward(params, X)
    with np.errstate(all="ignore"):
        z = logits - logits.max(axis=2, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=2, keepdims=True))
        loss = -logp[:, np.arange(len(y)), y].mean(axis=1)
    correct = logits.argmax(axis=2) == y[None, :]
    recall = np.stack([correct[:, y == c].mean(axis=1) for c in range(n_classes)], axis=1)
    active = _active(acts, y, n_classes)
    bad = nonfinite_rows(acts, logits)
    if diverged is not None:
        bad |= np.asarray(diverged, dtype=bool)
    # dead = silent on every sample: the shared definition's first rule (the lab counts silence only)
    dead = np.zeros(acts.shape[::2], dtype=bool)
    for s in np.flatnonzero(~bad):
        dead[s] = dead_units(acts[s], constant_is_dead=False)
    _, init_acts, _ = hidden_forward(init_params, X)
    splits = [[split_key(a) for a in act] for act in active]
    outcome = [DIVERGED if bad[s] else classify_outcome(active[s], dead[s], recall[s]) for s in range(len(active))]
    assert all(o in ALL_OUTCOMES for o in outcome)
    return SeedAnalysis(np.asarray(seeds), loss, correct.mean(axis=1), recall, active, dead, splits, outcome,
                        _active(init_acts, y, n_classes), pairwise_angles(init_params["L1.linear.weight"]), bad)
