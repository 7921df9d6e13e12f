"""How well single units detect a class: area under the precision-recall curve per unit.

Each unit's activation is used alone as a detector score for a binary target (e.g. "is a
face"). Average precision summarises its precision-recall curve as
``AP = sum_n (R_n - R_{n-1}) P_n`` over the distinct score thresholds, from the highest down,
exactly as ``sklearn.metrics.average_precision_score`` (no interpolation). Tied scores form one
threshold, so a constant unit scores the target's prevalence (chance).
"""
from __future__ import annotations

import numpy as np

from ..errors import NichelabError
from ._checks import as_labels, check_n_classes
from ._validate import check_finite, real_array

__all__ = ["average_precision", "one_vs_rest_average_precision"]


def _scores(scores) -> tuple[np.ndarray, bool]:
    s = real_array(scores, "scores")       # complex is refused, never truncated
    vector = s.ndim == 1
    if vector:
        s = s[:, None]
    if s.ndim != 2 or s.shape[0] == 0:
        raise NichelabError(f"scores must have shape (n_samples, n_units) or (n_samples,); got shape {s.shape}")
    s = s.astype(np.float64)
    check_finite(s, "scores")
    return s, vector


def _target(target, n: int) -> np.ndarray:
    t = np.asarray(target)
    if t.dtype == object or np.iscomplexobj(t):
        raise NichelabError(f"target must be boolean or 0/1; got dtype {t.dtype}")
    if t.shape != (n,):
        raise NichelabError(f"target must have shape ({n},), one per sample of scores; got shape {t.shape}")
    if t.dtype != bool:
        if not np.isin(t, (0, 1)).all():
            raise NichelabError("target must be boolean or 0/1; got other values")
        t = t.astype(bool)
    return t


def average_precision(scores, target) -> np.ndarray:
    """Area under the precision-recall curve (average precision) of every unit for a binary target.

    Parameters
    ----------
    scores : array of shape (n_samples, n_units) or (n_samples,)
        Each unit's activation; larger means "more likely positive".
    target : bool (or 0/1) array of shape (n_samples,)

    Returns
    -------
    numpy.ndarray of float64, shape (n_units,) (a float for 1-D ``scores``)
        In (0, 1]. Chance level is the share of positives (what a constant unit gets).
        NaN when ``target`` has no positive (undefined).

    Raises
    ------
    NichelabError
        Non-real (including complex) or non-finite scores; target not boolean / 0-1 or of
        the wrong length.

    Example
    -------
    >>> float(average_precision([0.9, 0.8, 0.7, 0.1], [1, 0, 1, 0]))  # (1/1 + 2/3) / 2
    0.8333333333333333

    References
    ----------
    Lee, Grosse, Ranganath & Ng 2009, "Convolutional deep belief networks for scalable
    unsupervised learning of hierarchical representations", ICML (per-feature face AUPRC).
    """
    s, vector = _scores(scores)
    t = _target(target, s.shape[0])
    n, k = s.shape
    n_pos = t.sum()
    if n_pos == 0:
        out = np.full(k, np.nan)
        return float(out[0]) if vector else out
    order = np.argsort(-s, axis=0, kind="stable")
    ss = np.take_along_axis(s, order, axis=0)
    tp = np.cumsum(t[order], axis=0, dtype=np.float64)                  # (n, k)
    end = np.ones((n, k), bool)
    end[:-1] = ss[:-1] != ss[1:]                                        # last row of each tied block
    prev = np.zeros((n, k))
    prev[1:] = np.maximum.accumulate(np.where(end, tp, 0.0), axis=0)[:-1]  # tp at the previous block end
    precision = tp / np.arange(1, n + 1)[:, None]
    out = np.where(end, (tp - prev) * precision, 0.0).sum(axis=0) / n_pos
    return float(out[0]) if vector else out


def one_vs_rest_average_precision(scores, y, n_classes: int | None = None) -> np.ndarray:
    """Average precision of every unit for every class against the rest.

    Parameters
    ----------
    scores : array of shape (n_samples, n_units) or (n_samples,) (one unit)
    y : int array of shape (n_samples,)
        Class labels in ``[0, n_classes)``.
    n_classes : int, optional
        Default ``max(y) + 1``.

    Returns
    -------
    numpy.ndarray of float64, shape (n_classes, n_units)
        Row ``c`` is :func:`average_precision` for target ``y == c``; NaN rows for classes
        with no sample.

    Raises
    ------
    NichelabError
        As :func:`average_precision`; ``y`` not integer labels >= 0 (strings, fractions) of
        the right length; labels >= ``n_classes``; ``n_classes`` not an integer >= 1.

    Example
    -------
    >>> ap = one_vs_rest_average_precision([[0.9], [0.1], [0.8], [0.2]], [1, 0, 1, 0])
    >>> np.round(ap, 3).ravel().tolist()    # class 0: (1/3 + 2/4) / 2; class 1: 1
    [0.417, 1.0]

    References
    ----------
    Lee, Grosse, Ranganath & Ng 2009, ICML (per-feature AUPRC).
    """
    s, _ = _scores(scores)
    n_classes = check_n_classes(n_classes, as_labels(y, s, names=("scores", "y")))
    y = as_labels(y, s, names=("scores", "y"), n_classes=n_classes)
    return np.stack([average_precision(s, y == c) for c in range(n_classes)])
