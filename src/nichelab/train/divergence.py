"""Which trained seeds diverged: the one rule every study uses.

A seed *diverged* when its training blew up instead of learning. The rule, checked per seed:

1. a per-epoch training loss is not finite (NaN or infinite), or
2. a final weight is not finite, or
3. the last epoch's mean training loss is more than :data:`LOSS_FACTOR` (10) times ``ln C``,
   the cross-entropy of a uniform guess over the ``C`` outputs. A network that learns at all ends
   below ``ln C`` on its training data; one whose loss ends ten times above it gives the true class
   on average (geometric mean) less than ``C**-10`` of the probability: it has been thrown far
   from any solution by too large a step (e.g. Adam at learning rate 100, losses near 1e5), not
   merely failed to learn.

A diverged seed is a separate outcome: its units are neither "dead" nor "alive" (NaN activations
are not silence), and studies leave it out of every other statistic, saying how many they left out.
Studies that compute activations of the trained networks also call a seed diverged when those
activations are not finite (:func:`nonfinite_rows`), which happens when finite but huge weights
overflow in the forward pass.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["LOSS_FACTOR", "RULE", "diverged_seeds", "nonfinite_rows", "left_out"]

#: A seed whose last training loss exceeds LOSS_FACTOR * ln(C) diverged.
LOSS_FACTOR = 10.0

#: The rule in words, for reports.
RULE = (f"training loss or weights became NaN or infinite, or the last training loss ended above {LOSS_FACTOR:g} ln C, "
        "ten times the loss of a uniform guess over the C classes")


def nonfinite_rows(*arrays) -> np.ndarray:
    """(S,) bool: rows (seeds, the leading axis) holding a NaN or infinite value in any array.

    Parameters
    ----------
    *arrays : array-like of shape (S, ...)
        Stacked per-seed values (weights, activations, losses); all with the same leading size S.

    Returns
    -------
    np.ndarray of shape (S,), bool
    """
    out = None
    for a in arrays:
        a = np.asarray(a)
        bad = ~np.isfinite(a.reshape(a.shape[0], -1)).all(axis=1) if a.size else np.zeros(a.shape[0], bool)
        out = bad if out is None else out | bad
    return out if out is not None else np.zeros(0, bool)


def diverged_seeds(loss: np.ndarray, params: dict, n_classes: int) -> np.ndarray:
    """Which seeds diverged, by the rule of this module (:data:`RULE`).

    Parameters
    ----------
    loss : np.ndarray of shape (S, epochs), float
        Per-epoch mean training loss of every seed (``epochs`` may be 0).
    params : dict of str -> np.ndarray of shape (S, ...)
        Final stacked weights.
    n_classes : int
        Outputs of the network (C); the uniform guess has loss ``ln C``.

    Returns
    -------
    np.ndarray of shape (S,), bool

    Examples
    --------
    >>> import numpy as np
    >>> diverged_seeds(np.array([[1.0, 0.5], [1.0, np.nan], [1.0, 1e5]]), {"w": np.ones((3, 2))}, 4).tolist()
    [False, True, True]
    """
    loss = np.asarray(loss, dtype=np.float64)
    loss = loss.reshape(loss.shape[0], -1)
    bad = nonfinite_rows(loss, *params.values()) if params else nonfinite_rows(loss)
    if loss.shape[1]:
        with np.errstate(invalid="ignore"):
            bad |= loss[:, -1] > LOSS_FACTOR * math.log(max(int(n_classes), 2))
    return bad


def left_out(n_diverged: int, n_total: int, unit: str = "seed") -> str:
    """``"3 of 10 seeds diverged (...) and are left out of the other numbers."``; "" when none did."""
    if not n_diverged:
        return ""
    units = unit + ("s" if n_total != 1 else "")
    return (f"{n_diverged} of {n_total} {units} diverged ({RULE}) and {'are' if n_diverged != 1 else 'is'} "
            "left out of the other numbers.")
