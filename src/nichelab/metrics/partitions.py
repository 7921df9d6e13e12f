"""Which classes each unit is active for: the class partition a ReLU unit implements.

A class counts as *active* for a unit when more than ``threshold`` (default half) of its samples
give the unit a positive activation. The unit then splits the classes into an active side and a
silent side, e.g. ``L1:0 active for {2,3}, silent for {0,1}``; as an unordered split of the
classes this is written ``{0,1}|{2,3}`` (the side holding the smallest class first).
"""
from __future__ import annotations

import numpy as np

from ..errors import NichelabError
from ._checks import acts_array, as_labels, check_n_classes
from ._validate import check_number, real_array

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
        ``acts`` not a real finite 2-D array; ``y`` not integer labels >= 0 (strings, floats
        with fractions, negative values) or of the wrong length; labels >= ``n_classes``;
        ``threshold`` outside [0, 1] or NaN; ``tol`` NaN.

    Example
    -------
    >>> active_classes([[1.0, 0.0], [2.0, 0.0], [0.0, 3.0], [0.0, 1.0]], [0, 0, 1, 1])
    array([[ True, False],
           [False,  True]])
    """
    acts = acts_array(acts)
    k = check_n_classes(n_classes, as_labels(y, acts))
    y = as_labels(y, acts, n_classes=k)
    threshold = check_number("threshold", threshold, lo=0.0, hi=1.0)
    tol = check_number("tol", tol, allow_inf=True)
    on = (acts > tol).astype(np.float64)
    onehot = np.zeros((len(y), k))
    onehot[np.arange(len(y)), y] = 1.0
    counts = onehot.sum(axis=0)
    frac = on.T @ onehot                                    # (n_units, n_classes) active counts
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(counts > 0, frac / np.maximum(counts, 1), 0.0)
    return frac > threshold


def _active_row(active_row) -> np.ndarray:
    """``active_row`` as a 1-D bool array (bool or 0/1 values, at least one class)."""
    row = real_array(active_row, "active_row")
    if row.ndim != 1 or row.size == 0:
        raise NichelabError(
            f"active_row must be 1-D of shape (n_classes,) with n_classes >= 1; got shape {row.shape}")
    if row.dtype != bool:
        if not np.isin(row, (0, 1)).all():
            bad = row[~np.isin(row, (0, 1))][0]
            raise NichelabError(f"active_row must hold booleans or 0/1; got value {bad!r}")
        row = row.astype(bool)
    return row


def format_classes(classes) -> str:
    """``[2, 3] -> "{2,3}"``; empty -> ``"{}"``."""
    return "{" + ",".join(str(int(c)) for c in classes) + "}"


def split_key(active_row: np.ndarray) -> str:
    """The unordered split of classes a unit implements, e.g. ``"{0,1}|{2,3}"``.

    The side that holds class 0 comes first; a unit active for all or no classes gives
    ``"{0,1,2,3}|{}"`` (no split).

    Parameters
    ----------
    active_row : bool array of shape (n_classes,)
        One row of :func:`active_classes` (bool or 0/1).

    Returns
    -------
    str

    Raises
    ------
    NichelabError
        ``active_row`` not 1-D, empty, or with values other than booleans / 0 / 1.

    Example
    -------
    >>> split_key([False, True, True, False])
    '{0,3}|{1,2}'
    """
    row = _active_row(active_row)
    on, off = np.flatnonzero(row), np.flatnonzero(~row)
    first, second = (on, off) if (len(on) and on[0] == 0) else (off, on)
    return f"{format_classes(first)}|{format_classes(second)}"


def describe_unit(name: str, active_row: np.ndarray) -> str:
    """``"L1:0 active for {2,3}, silent for {0,1}"``.

    Parameters
    ----------
    name : str
        The unit, written ``layer:k``.
    active_row : bool array of shape (n_classes,)
        One row of :func:`active_classes`.

    Returns
    -------
    str

    Raises
    ------
    NichelabError
        ``name`` not a string; ``active_row`` as in :func:`split_key`.

    Example
    -------
    >>> describe_unit("L1:0", [0, 0, 1, 1])
    'L1:0 active for {2,3}, silent for {0,1}'
    """
    if not isinstance(name, str):
        raise NichelabError(f"name must be a string such as 'L1:0'; got {type(name).__name__}")
    row = _active_row(active_row)
    return f"{name} active for {format_classes(np.flatnonzero(row))}, silent for {format_classes(np.flatnonzero(~row))}"
