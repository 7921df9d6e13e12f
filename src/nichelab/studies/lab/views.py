"""Figure-ready numbers of the lab study, computed once here so figures only draw.

Grids over the lab's plotting window (x0 in -8..8, x1 in -5..4; REFERENCES.md): each hidden
unit's ReLU output, each output unit's logit over the plane of hidden activations, the
predicted class; loss quartiles by outcome. Values are rounded to 4 decimals to keep
``results.json`` small (they are drawn, not measured).
"""
from __future__ import annotations

import numpy as np

__all__ = ["X0_RANGE", "X1_RANGE", "plane_grid", "unit_planes", "logit_planes", "regions", "loss_bands", "seed_view"]

X0_RANGE, X1_RANGE = (-8.0, 8.0), (-5.0, 4.0)  # the lab's plotting window
GRID = 60


def plane_grid(n: int = GRID) -> np.ndarray:
    """Points of an n x n grid over the lab window, row-major with x1 rows: (n*n, 2) float64."""
    xx, yy = np.meshgrid(np.linspace(*X0_RANGE, n), np.linspace(*X1_RANGE, n))
    return np.c_[xx.ravel(), yy.ravel()]


def _hidden(w: dict, P: np.ndarray) -> np.ndarray:
    return np.maximum(P @ np.asarray(w["L1.linear.weight"], float).T + np.asarray(w["L1.linear.bias"], float), 0)


def _logits(w: dict, A: np.ndarray) -> np.ndarray:
    return A @ np.asarray(w["L2.linear.weight"], float).T + np.asarray(w["L2.linear.bias"], float)


def unit_planes(w: dict, n: int = GRID) -> np.ndarray:
    """(H, n, n): each hidden unit's ReLU output over the lab window."""
    return np.round(_hidden(w, plane_grid(n)).T.reshape(-1, n, n), 4)


def logit_planes(w: dict, X: np.ndarray, n: int = GRID) -> dict:
    """Each output unit's logit over the (a0, a1) plane of the first two hidden activations.

    Returns ``{"extent": [0, a0_max, 0, a1_max], "logits": (C, n, n), "hidden": (n_samples, H)}``.
    """
    A = _hidden(w, np.asarray(X, float))
    hi0, hi1 = max(A[:, 0].max(), 1e-3) * 1.1, max(A[:, 1].max(), 1e-3) * 1.1
    g0, g1 = np.meshgrid(np.linspace(0, hi0, n), np.linspace(0, hi1, n))
    grid = np.zeros((n * n, A.shape[1]))
    grid[:, 0], grid[:, 1] = g0.ravel(), g1.ravel()
    Z = _logits(w, grid)
    return {"extent": [0.0, float(hi0), 0.0, float(hi1)], "logits": np.round(Z.T.reshape(-1, n, n), 4),
            "hidden": np.round(A, 4)}


def regions(w: dict, n: int = GRID) -> np.ndarray:
    """(n, n) int: the predicted class over the lab window."""
    return _logits(w, _hidden(w, plane_grid(n))).argmax(axis=1).reshape(n, n)


def lines(w: dict) -> dict:
    """Each hidden unit's line w.x + b = 0: ``{"W": (H, 2), "b": (H,)}`` (float64)."""
    return {"W": np.asarray(w["L1.linear.weight"], float), "b": np.asarray(w["L1.linear.bias"], float)}


def seed_view(w: dict, X: np.ndarray, seed: int, outcome: str, full: bool = True, diverged: bool = False) -> dict:
    """Everything the figures draw for one seed (``full=False``: regions and lines only).

    A diverged seed (``diverged=True`` or non-finite weights) gets ``"diverged": True`` and only its lines (NaN/inf
    lines are not drawn); its planes and regions would hold no numbers to draw.
    """
    if diverged or not all(np.isfinite(np.asarray(v, float)).all() for v in w.values()):
        return {"seed": int(seed), "outcome": outcome, "lines": lines(w), "diverged": True,
                "regions": np.zeros((GRID, GRID), dtype=int)}
    out = {"seed": int(seed), "outcome": outcome, "lines": lines(w), "regions": regions(w)}
    if full:
        out["unit_planes"] = unit_planes(w)
        if np.asarray(w["L1.linear.weight"]).shape[0] == 2:
            out["logit_planes"] = logit_planes(w, X)
    return out


def loss_bands(loss: np.ndarray, outcome: list, outcomes: tuple) -> dict:
    """Per outcome: 25th, 50th, 75th percentile of the training loss per epoch, and the seed count."""
    out = {}
    for name in outcomes:
        idx = [i for i, o in enumerate(outcome) if o == name]
        if idx and loss.shape[1]:
            lo, med, hi = np.percentile(loss[idx], [25, 50, 75], axis=0)
            out[name] = {"n": len(idx), "q25": lo, "median": med, "q75": hi}
    return out
