"""Figure-ready numbers of the lab study, computed once here so figures only draw.

Grids over the lab's plotting window (x0 in -8..8, x1 in -5..4; REFERENCES.md): each hidden
unit's ReLU output, each output unit's logit over the plane of hidden activations, the
predicted class; loss quartiles by outcome. Values are rounded to 4 decimals to keep
``results.json`` small (they are drawn, not measured).
"""
from __future__ import annotations

import numpy as np

__all__ = ["X0_RANGE", "X1_RANGE", "plane_grid", "unit_planes", "logit_planes", "regions", "loss_bands", "seed_view",
           "film_seeds", "changing_seed", "film", "share_rows", "FILM_MAX_UNITS", "FILM_PER_OUTCOME"]

#: The training film (every epoch's weights) is recorded only for networks this small.
FILM_MAX_UNITS = 16
#: Seeds of each outcome whose every epoch is recorded (plus the shown seed).
FILM_PER_OUTCOME = 3

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


def seed_view(w: dict, seed: int, outcome: str, diverged: bool = False) -> dict:
    """What the page states about one seed: its outcome and its units' lines (maps are drawn in the browser).

    A diverged seed (``diverged=True`` or non-finite weights) is marked ``"diverged": True``: its
    non-finite lines are not drawn.
    """
    out = {"seed": int(seed), "outcome": outcome, "lines": lines(w)}
    if diverged or not all(np.isfinite(np.asarray(v, float)).all() for v in w.values()):
        out["diverged"] = True
    return out


def changing_seed(seeds, outcome: list, changed) -> int:
    """The first seed ending ``distinct`` whose units' splits changed during training (-1: none).

    ``changed`` : (S,) bool -- some live unit's final split differs from its split at epoch 0.
    """
    return next((int(s) for s, o, c in zip(seeds, outcome, changed) if o == "distinct" and c), -1)


def film_seeds(seeds, outcome: list, show_seed: int, per_outcome: int = FILM_PER_OUTCOME,
               extra=()) -> list[int]:
    """Seeds whose every epoch is recorded: the shown seed, ``extra``, then the first ``per_outcome`` of each outcome.

    Returns
    -------
    list of int, in the order of ``seeds``.
    """
    seeds = [int(s) for s in seeds]
    keep = {int(show_seed)} | {int(s) for s in extra if int(s) in seeds}
    for o in dict.fromkeys(outcome):
        keep.update([s for s, x in zip(seeds, outcome) if x == o][:per_outcome])
    return [s for s in seeds if s in keep]


def film(snapshots: dict, index: list[int], seeds: list[int], loss: np.ndarray, X: np.ndarray,
         y: np.ndarray, n_classes: int = 4) -> dict:
    """Every recorded epoch's weights of some seeds, for the page's training film (stored in the weights file).

    Parameters
    ----------
    snapshots : dict of int -> dict of str -> (S, ...) arrays
        Weights of every seed after each epoch (0 = initial).
    index : list of int
        Positions (in the seed axis) of the film seeds; ``seeds`` their seed numbers.
    loss : (S, epochs) float
    X, y : the data, (n, 2) float and (n,) int.

    Returns
    -------
    dict of str -> np.ndarray
        ``seeds`` (F,) int64, ``epochs`` (E,) int64, ``W1`` (F, E, H, 2), ``b1`` (F, E, H),
        ``W2`` (F, E, C, H), ``b2`` (F, E, C) -- in the weights' dtype --, ``active`` (F, E, H, C)
        uint8 (1: class on the unit's active side at that epoch, as
        :func:`~nichelab.studies.lab.analysis.analyse_seeds` measures it) and ``loss`` (F, epochs) float64.
    """
    from ...nn.forward import hidden_forward
    from .analysis import _active
    epochs = sorted(snapshots)
    names = ("L1.linear.weight", "L1.linear.bias", "L2.linear.weight", "L2.linear.bias")
    stack = {k: np.stack([np.asarray(snapshots[e][k])[index] for e in epochs], axis=1) for k in names}
    F, E = len(index), len(epochs)
    flat = {k: v.reshape(F * E, *v.shape[2:]) for k, v in stack.items()}
    _, acts, _ = hidden_forward(flat, X)
    active = _active(acts, np.asarray(y), n_classes).reshape(F, E, -1, n_classes)
    return {"seeds": np.asarray(seeds, np.int64), "epochs": np.asarray(epochs, np.int64),
            "W1": stack["L1.linear.weight"], "b1": stack["L1.linear.bias"],
            "W2": stack["L2.linear.weight"], "b2": stack["L2.linear.bias"],
            "active": active.astype(np.uint8), "loss": np.asarray(loss, np.float64)[index]}


def loss_bands(loss: np.ndarray, outcome: list, outcomes: tuple) -> dict:
    """Per outcome: 25th, 50th, 75th percentile of the training loss per epoch, and the seed count."""
    out = {}
    for name in outcomes:
        idx = [i for i, o in enumerate(outcome) if o == name]
        if idx and loss.shape[1]:
            lo, med, hi = np.percentile(loss[idx], [25, 50, 75], axis=0)
            out[name] = {"n": len(idx), "q25": lo, "median": med, "q75": hi}
    return out


def share_rows(counts, n: int, key: str) -> list[dict]:
    """Shares with their counts and Wilson 95% intervals, one row per label, for charts and tables.

    Parameters
    ----------
    counts : iterable of (str, int)
        ``(label, count)`` pairs, in the order to draw.
    n : int
        What the counts are out of (seeds, or hidden units).
    key : str
        Name of the label field (``"outcome"``, ``"split"``).

    Returns
    -------
    list of dict
        ``{key: label, "k": count, "n": n, "share": k/n, "lo": low, "hi": high}`` (shares as
        fractions, intervals by :func:`nichelab.studies.text.wilson_interval`; NaN when ``n`` is 0).

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
    """
    from ..text import wilson_interval
    rows = []
    for label, k in counts:
        lo, hi = wilson_interval(int(k), int(n))
        rows.append({key: label, "k": int(k), "n": int(n), "share": int(k) / n if n else float("nan"),
                     "lo": lo, "hi": hi})
    return rows
