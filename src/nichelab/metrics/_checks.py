"""Input checks and float64 streaming helpers for the unit, layer and probe metrics.

The checks raise :class:`nichelab.errors.NichelabError` naming the argument, the rule and
what was received (reusing :mod:`nichelab.metrics._validate` where it fits). The streaming
helpers (:func:`row_chunks`, :func:`moments`) accumulate in float64 over row chunks so a
float32 layer of any length is never copied whole.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from ..errors import NichelabError, check_positive_int
from ._validate import as_2d_float64, check_finite, check_same_n, pow2_exponent, real_array

__all__ = [
    "acts_array", "as_acts", "as_labels", "check_n_classes", "row_chunks", "chunk_rows", "moments",
    "column_exponents",
    "CHUNK_ELEMENTS",
]


#: float64 elements per row chunk of the streaming helpers (16 MB).
CHUNK_ELEMENTS = 1 << 21


def acts_array(acts, name: str = "acts") -> np.ndarray:
    """Return ``acts`` as a checked 2-D real array **in its own dtype** (no copy).

    The metrics then stream over it in float64 row chunks (:func:`row_chunks`), so a float32
    layer is never copied whole to float64. A layer with no units, shape (n_samples, 0), is
    accepted (the per-layer measures define a value for it).

    Raises
    ------
    NichelabError
        Not real-numeric, not 2-D, no sample, or NaN / inf values.
    """
    a = real_array(acts, name)
    if a.ndim != 2:
        hint = " (reduce conv activations first, e.g. capture(..., reduce='mean'))" if a.ndim > 2 else ""
        if a.ndim == 1:
            hint = f"; use {name}[:, None] for a single unit"
        raise NichelabError(
            f"{name} must be 2-D of shape (n_samples, n_units); got shape {a.shape}{hint}"
        )
    if a.shape[0] == 0:
        raise NichelabError(f"{name} must have at least one sample; got shape {a.shape}")
    check_finite(a, name)
    return a


def chunk_rows(n_cols: int) -> int:
    """Rows per chunk so that a chunk holds about ``CHUNK_ELEMENTS`` elements."""
    return max(1, CHUNK_ELEMENTS // max(1, n_cols))


def row_chunks(a: np.ndarray) -> Iterator[np.ndarray]:
    """Yield float64 copies of consecutive row blocks of ``a`` (safe to modify in place)."""
    step = chunk_rows(a.shape[1])
    for start in range(0, a.shape[0], step):
        yield a[start:start + step].astype(np.float64)


def column_exponents(a: np.ndarray) -> np.ndarray:
    """Per-column power-of-two exponents ``e`` with ``max |a[:, j]| / 2**e_j`` in [0.5, 1).

    Two reductions over ``a`` in its own dtype (0 for an all-zero column). Dividing by
    ``2**e`` is exact, so statistics of ``a / 2**e`` neither overflow nor underflow at any
    input scale (1e-300 or 1e200).
    """
    if a.shape[0] == 0 or a.shape[1] == 0:
        return np.zeros(a.shape[1], dtype=int)
    top = np.maximum(np.abs(a.max(axis=0).astype(np.float64)), np.abs(a.min(axis=0).astype(np.float64)))
    return pow2_exponent(top)


def moments(a: np.ndarray, *, cross: bool = False,
            exponents: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Streaming float64 column means and centred sums of squares, in one pass.

    Chunks are merged with Chan et al.'s pairwise update, so nothing larger than one float64
    row chunk is allocated and precision matches the two-pass formula. With ``exponents``
    (one int per column, e.g. :func:`column_exponents`), the statistics are those of
    ``a / 2**exponents`` (exact scaling before squaring, so they never overflow or underflow).

    Returns
    -------
    mean : (n_units,) float64
    m2 : (n_units,) float64, ``sum_i (a_iu - mean_u)^2``; with ``cross=True`` the
        (n_units, n_units) matrix ``Xc' Xc`` of the centred data.
    """
    n_seen, mean, m2 = 0, None, None
    for c in row_chunks(a):
        if exponents is not None:
            np.ldexp(c, -np.asarray(exponents), out=c)
        k = c.shape[0]
        c_mean = c.mean(axis=0)
        c -= c_mean
        c_m2 = c.T @ c if cross else np.einsum("ij,ij->j", c, c)
        if mean is None:
            mean, m2 = c_mean, c_m2
        else:
            delta, total = c_mean - mean, n_seen + k
            m2 += c_m2
            m2 += (np.outer(delta, delta) if cross else delta * delta) * (n_seen * k / total)
            mean += delta * (k / total)
        n_seen += k
        del c  # let the next chunk reuse the memory instead of holding two
    return mean, m2


def as_acts(acts, name: str = "acts") -> np.ndarray:
    """Return ``acts`` as a finite float64 array of shape (n_samples, n_units) (a full copy
    unless already float64), via :func:`nichelab.metrics._validate.as_2d_float64`.

    Raises
    ------
    NichelabError
        Not real-numeric, not 2-D, empty, or NaN / inf values.
    """
    return as_2d_float64(acts, name)


def as_labels(y, ref, *, names: tuple[str, str] = ("acts", "y"), n_classes=None) -> np.ndarray:
    """Return class labels ``y`` as int64 of shape (n_samples,), as many as rows of ``ref``.

    Integer-valued floats are accepted; labels must be >= 0 and < ``n_classes`` when given.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
    ref : array or tensor of shape (n_samples, ...)
        The samples the labels belong to (only its shape is used).
    names : (str, str), default ("acts", "y")
        Names of ``ref`` and ``y`` in error messages.
    n_classes : int, optional

    Raises
    ------
    NichelabError
        Not 1-D, wrong length (naming both shapes), non-integer values, negative labels or
        labels >= n_classes.
    """
    name = names[1]
    y = np.asarray(y)
    if y.ndim != 1:
        raise NichelabError(f"{name} must be 1-D of shape (n_samples,); got shape {y.shape}")
    check_same_n(ref, y, names)
    if y.dtype == bool:
        y = y.astype(np.int64)
    if not np.issubdtype(y.dtype, np.integer):
        if not np.issubdtype(y.dtype, np.floating):
            raise NichelabError(f"{name} must hold integer class labels; got dtype {y.dtype}")
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            raise NichelabError(
                f"{name} must hold integer class labels; got non-integer value {y[bad][0]!r}"
            )
    y = y.astype(np.int64)
    if len(y) and y.min() < 0:
        raise NichelabError(f"{name} must hold class labels >= 0; got {int(y.min())}")
    if n_classes is not None and len(y) and y.max() >= n_classes:
        raise NichelabError(
            f"{name} must hold class labels < n_classes={n_classes}; got {int(y.max())}"
        )
    return y


def check_n_classes(n_classes, y: np.ndarray) -> int:
    """``n_classes`` as an int >= 1, or ``max(y) + 1`` when None."""
    if n_classes is None:
        return int(y.max()) + 1 if len(y) else 0
    return check_positive_int("n_classes", n_classes)
