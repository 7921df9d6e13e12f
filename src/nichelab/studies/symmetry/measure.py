"""Measures of how far apart the units of a layer are, and how fast a small gap grows.

A unit's *incoming vector* is its row of incoming weights with its bias appended, ``(w, b)``.
The *gap* of a layer is the Euclidean distance between two units' incoming vectors; the study
tracks the largest and the mean gap over all pairs of units of the first hidden layer.
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ["incoming", "pair_gaps_torch", "pair_gaps", "count_distinct", "split_step", "first_gap_step", "growth_rate",
           "fit_line", "GapRecorder"]


def incoming(W, b) -> np.ndarray:
    """Incoming vectors ``[w, b]``: W (..., H, d), b (..., H) -> (..., H, d + 1), float64."""
    W, b = np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.concatenate([W, b[..., None]], axis=-1)


def pair_gaps_torch(W: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Largest and mean distance over pairs of units, per seed: W (S, H, d), b (S, H) -> (S,), (S,).

    Vectors are taken relative to unit 0 before the Gram-matrix identity
    ``|u_i - u_j|^2 = |u_i|^2 + |u_j|^2 - 2 u_i.u_j`` is used (ten times cheaper than differences
    of every pair). Identical units give exactly 0, and a gap is accurate to about 1e-8 of the
    units' distance from unit 0 -- full precision while every unit is close to unit 0 (a nearly
    symmetric network), and far below the largest gap otherwise.
    """
    V = torch.cat([W, b.unsqueeze(-1)], dim=-1).to(torch.float64)
    U = V - V[:, :1]
    G = U @ U.transpose(1, 2)
    sq = torch.diagonal(G, dim1=1, dim2=2)
    d = (sq.unsqueeze(2) + sq.unsqueeze(1) - 2 * G).clamp_min_(0).sqrt_()
    H = V.shape[1]
    iu = torch.triu_indices(H, H, 1)
    pairs = d[:, iu[0], iu[1]]
    if pairs.shape[1] == 0:
        z = torch.zeros(V.shape[0], dtype=torch.float64)
        return z, z
    return pairs.amax(dim=1), pairs.mean(dim=1)


def pair_gaps(V: np.ndarray) -> np.ndarray:
    """Every pairwise distance, computed from differences (exact 0 for identical units): (..., H, H)."""
    V = np.asarray(V, dtype=np.float64)
    return np.sqrt(((V[..., :, None, :] - V[..., None, :, :]) ** 2).sum(axis=-1))


def count_distinct(V: np.ndarray, tol: float | np.ndarray) -> np.ndarray:
    """Number of distinct units: groups of units linked by gaps <= ``tol`` (single linkage).

    Parameters
    ----------
    V : array of shape (S, H, d)
        Incoming vectors of S networks.
    tol : float or array of shape (S,)

    Returns
    -------
    np.ndarray of shape (S,), int
        1 when every unit is within ``tol`` of another in one chain, H when all are far apart.
    """
    D = pair_gaps(V)
    tol = np.broadcast_to(np.asarray(tol, dtype=np.float64), (D.shape[0],))
    out = np.zeros(D.shape[0], dtype=np.int64)
    for s in range(D.shape[0]):
        linked = D[s] <= tol[s]
        H = linked.shape[0]
        label = np.arange(H)
        changed = True
        while changed:                      # propagate the smallest label along links
            new = np.where(linked, label[None, :], H).min(axis=1)
            new = np.minimum(new, label)
            changed = bool((new != label).any())
            label = new
        out[s] = len(np.unique(label))
    return out


def split_step(gap: np.ndarray, tol: float) -> float:
    """First step at which ``gap`` (T + 1,) exceeds ``tol``; NaN if it never does."""
    above = np.flatnonzero(np.asarray(gap) > tol)
    return float(above[0]) if above.size else float("nan")


def first_gap_step(gap: np.ndarray) -> float:
    """First step at which ``gap`` (T + 1,) is not exactly 0 (0: apart from the start; NaN: 0 throughout)."""
    return split_step(gap, 0.0)


def growth_rate(gap: np.ndarray, tol: float, min_steps: int = 10, start: int = 0) -> float:
    """Average exponential growth rate of a small gap, per step (least-squares slope of ln gap).

    The fit runs from step ``start`` (default 0; e.g. the first step a gap left 0 through rounding)
    to the step before the gap first exceeds ``tol`` (or to the end), over steps where the gap is
    positive. NaN when that window has fewer than ``min_steps`` points, or when the gap at
    ``start`` is 0 or already above ``tol``.
    """
    gap = np.asarray(gap, dtype=np.float64)
    start = int(start)
    if gap.size <= start or not gap[start] > 0 or gap[start] > tol:
        return float("nan")
    stop = split_step(gap, tol)
    end = int(stop) if np.isfinite(stop) else len(gap)
    t = np.arange(start, end)
    keep = gap[start:end] > 0
    if keep.sum() < min_steps:
        return float("nan")
    return float(np.polyfit(t[keep], np.log(gap[start:end][keep]), 1)[0])


def fit_line(x, y) -> dict:
    """Least-squares line through finite points: {"slope", "intercept", "r2", "n"} (NaN if n < 3)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    n = int(ok.sum())
    if n < 3 or np.ptp(x[ok]) == 0:
        return {"slope": float("nan"), "intercept": float("nan"), "r2": float("nan"), "n": n}
    slope, intercept = np.polyfit(x[ok], y[ok], 1)
    resid = y[ok] - (slope * x[ok] + intercept)
    ss = ((y[ok] - y[ok].mean()) ** 2).sum()
    return {"slope": float(slope), "intercept": float(intercept),
            "r2": float(1 - (resid ** 2).sum() / ss) if ss > 0 else float("nan"), "n": n}


class GapRecorder:
    """An ``on_step`` hook for :func:`nichelab.train.train_ensemble` recording layer gaps at every step.

    Attributes
    ----------
    max_gap, mean_gap : list of np.ndarray of shape (S,)
        One entry per recorded step (step 0 = before training).
    """

    def __init__(self, weight: str = "L1.linear.weight", bias: str = "L1.linear.bias") -> None:
        self.weight, self.bias = weight, bias
        self.max_gap: list = []
        self.mean_gap: list = []

    def __call__(self, step: int, params: dict) -> None:
        mx, mean = pair_gaps_torch(params[self.weight].detach(), params[self.bias].detach())
        self.max_gap.append(mx.numpy())
        self.mean_gap.append(mean.numpy())

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(S, steps + 1) arrays of the largest and the mean gap."""
        return np.stack(self.max_gap, axis=1), np.stack(self.mean_gap, axis=1)
