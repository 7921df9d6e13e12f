"""Which classes each unit is active for: the class partition a ReLU unit implements.

A class counts as *active* for a unit when more than ``threshold`` (default half) of its samples
give the unit a positive activation. The unit then splits the classes into an active side and a
silent side, e.g. ``L1:0 active for {2,3}, silent for {0,1}``; as an unordered split of the
classes this is written ``{0,1}|{2,3}`` (the side holding the smallest class first).
"""
from __future__ import annotations

import numpy as np

from ..errors import NichelabError

__all__ = ["active_classes", "split_key", "format_classes", "describe_unit"]


def active_classes(acts: np.ndarray, y: np.ndarray, n_classes: int | None = None, *,
                   threshold: float = 0.5, tol: float = 0.0) -> np.ndarray:
    """For each unit and class, is the class on the unit's active side?

    Parameters
    ----------
    acts : np.ndarray of shape (n_samples, n_units)
        Post-activation values (e.g. ReLU outputs).
    y : np.ndarray of shape (n_samples,), int
        Class labels in ``0 .. n_classes-1``.
    n_classes : int, optional
        Defaults to ``y.max() + 1``.
    threshold : float, default 0.5
        A class is active when the fraction of its samples with activation > ``tol`` exceeds this.
    tol : float, default 0.0

    Returns
    -------
    np.ndarray of shape (n_units, n_classes), bool
        A class with no samples is never active.

    Raises
    ------
    NichelabError
        Shapes that do not match.
    """
    acts, y = np.asarray(acts), np.asarray(y)
    if acts.ndim != 2 or y.shape != (acts.shape[0],):
        raise NichelabError(f"acts must be (n_samples, n_units) and y (n_samples,); got acts {acts.shape}, y {y.shape}")
    k = int(n_classes if n_classes is not None else y.max() + 1)
    on = (acts > tol).astype(np.float64)
    counts = np.bincount(y, minlength=k).astype(np.float64)
    frac = np.stack([np.bincount(y, weights=on[:, u], minlength=k) for u in range(acts.shape[1])])
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(counts > 0, frac / np.maximum(counts, 1), 0.0)
    return frac > threshold


def format_classes(classes) -> str:
    """``[2, 3] -> "{2,3}"``; empty -> ``"{}"``."""
    return "{" + ",".join(str(int(c)) for c in classes) + "}"


def split_key(active_row: np.ndarray) -> str:
    """The unordered split of classes a unit implements, e.g. ``"{0,1}|{2,3}"``.

    The side that holds class 0 comes first; a unit active for all or no classes gives
    ``"{0,1,2,3}|{}"`` (no split).
    """
    row = np.asarray(active_row, dtype=bool)
    on, off = np.flatnonzero(row), np.flatnonzero(~row)
    first, second = (on, off) if (len(on) and on[0] == 0) else (off, on)
    return f"{format_classes(first)}|{format_classes(second)}"


def describe_unit(name: str, active_row: np.ndarray) -> str:
    """``"L1:0 active for {2,3}, silent for {0,1}"``."""
    row = np.asarray(active_row, dtype=bool)
    return f"{name} active for {format_classes(np.flatnonzero(row))}, silent for {format_classes(np.flatnonzero(~row))}"
