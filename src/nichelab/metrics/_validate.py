"""Input checks shared by the similarity and matching metrics.

Every helper raises :class:`nichelab.errors.NichelabError` with a message naming the
argument, the rule and what was received.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import NichelabError

__all__ = [
    "real_array", "check_finite", "as_2d_float64", "check_same_n", "check_min_samples",
    "check_gram", "check_number", "check_seed", "pow2_exponent",
]


def real_array(x, name: str) -> np.ndarray:
    """``np.asarray(x)`` if it holds real numbers (float, int, bool); else NichelabError.

    Complex input is refused (never silently truncated to its real part), as are strings,
    objects and ragged lists.

    Raises
    ------
    NichelabError
        ``"x must be a real numeric array; got dtype complex128"``.
    """
    try:
        a = np.asarray(x)
    except (TypeError, ValueError) as err:
        raise NichelabError(f"{name} must be a real numeric array; got {type(x).__name__} ({err})") from None
    if a.dtype == object or np.iscomplexobj(a) or not (
        np.issubdtype(a.dtype, np.number) or a.dtype == bool
    ):
        raise NichelabError(f"{name} must be a real numeric array; got dtype {a.dtype}")
    return a


def check_number(name: str, value, *, lo: float | None = None, hi: float | None = None,
                 lo_open: bool = False, hi_open: bool = False, allow_inf: bool = False) -> float:
    """Return ``value`` as a float if it is a real number within the bounds; else raise.

    NaN, None, strings, booleans and complex numbers are refused; so is +-inf unless
    ``allow_inf``.

    Raises
    ------
    NichelabError
        ``"tol must be a finite real number; got nan"``, or with the interval:
        ``"threshold must be a number in (0, 1]; got 1.5"``.
    """
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    f = float(value) if ok else math.nan
    ok = ok and not math.isnan(f) and (allow_inf or math.isfinite(f))
    if ok and lo is not None:
        ok = f > lo if lo_open else f >= lo
    if ok and hi is not None:
        ok = f < hi if hi_open else f <= hi
    if ok:
        return f
    if lo is None and hi is None:
        rule = "a real number (not NaN)" if allow_inf else "a finite real number"
    else:
        left = "-inf" if lo is None else f"{lo:g}"
        right = "inf" if hi is None else f"{hi:g}"
        rule = f"a number in {'(' if lo_open or lo is None else '['}{left}, {right}{')' if hi_open or hi is None else ']'}"
    raise NichelabError(f"{name} must be {rule}; got {value!r}")


def check_seed(name: str, value) -> int:
    """Return ``value`` as an int >= 0 (a reproducible seed); None, NaN and floats are refused.

    Raises
    ------
    NichelabError
        ``"seed must be an integer >= 0 (a reproducible seed); got None"``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 0:
        raise NichelabError(f"{name} must be an integer >= 0 (a reproducible seed); got {value!r}")
    return int(value)


def pow2_exponent(top) -> np.ndarray | int:
    """Exponent ``e`` with ``top / 2**e`` in [0.5, 1) (0 where ``top`` is 0), elementwise.

    Dividing by ``2**e`` (``np.ldexp(a, -e)``) is exact and brings values of any magnitude to
    at most 1, so their squares and fourth powers neither overflow nor underflow.
    """
    top = np.asarray(top, dtype=np.float64)
    e = np.frexp(top)[1].astype(int)
    e = np.where(top > 0, e, 0)
    return int(e) if e.ndim == 0 else e


def as_2d_float64(x, name: str) -> np.ndarray:
    """Return ``x`` as a finite float64 array of shape (n_samples, n_features).

    No copy is made when ``x`` already is a float64 ndarray.

    Parameters
    ----------
    x : array-like of shape (n_samples, n_features)
        Any real dtype (float16/32/64, int, bool).
    name : str
        The argument's name, used in error messages.

    Returns
    -------
    ndarray of shape (n_samples, n_features), float64

    Raises
    ------
    NichelabError
        Not real-numeric, not 2-D, an empty dimension, or NaN / inf values.
    """
    a = real_array(x, name)
    if a.ndim != 2:
        if a.ndim == 1:
            hint = f"; use {name}[:, None] for a single feature"
        elif a.ndim > 2:
            hint = "; reduce or flatten conv maps first, e.g. a.mean(axis=(2, 3)) or a.reshape(len(a), -1)"
        else:
            hint = ""
        raise NichelabError(
            f"{name} must be 2-D of shape (n_samples, n_features); got shape {a.shape}{hint}"
        )
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise NichelabError(
            f"{name} must have at least one sample and one feature; got shape {a.shape}"
        )
    a = a.astype(np.float64, copy=False)
    check_finite(a, name)
    return a


def check_finite(a: np.ndarray, name: str) -> None:
    """Raise NichelabError if the float array ``a`` holds NaN or inf (counts and first index).

    Integer and bool arrays are always finite and return at once.
    """
    if a.dtype.kind not in "fc":
        return
    # One reduction instead of an (n, d) boolean temporary: a sum is finite only if every
    # entry is (it can also overflow, so the exact test runs only when the sum is not finite).
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(a, axis=None)
    if np.isfinite(total):
        return
    bad = ~np.isfinite(a)
    if bad.any():
        n_nan, n_inf = int(np.isnan(a).sum()), int(np.isinf(a).sum())
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise NichelabError(
            f"{name} must not contain NaN or inf; got {n_nan} NaN and {n_inf} inf values "
            f"(first at index {first}) in shape {a.shape}"
        )


def check_same_n(x: np.ndarray, y: np.ndarray, names: tuple[str, str] = ("x", "y")) -> int:
    """Return the common number of samples (rows) of ``x`` and ``y``.

    Raises
    ------
    NichelabError
        ``"x and y must have the same number of samples; got x (100, 8) and y (90, 8)"``.
    """
    if x.shape[0] != y.shape[0]:
        nx, ny = names
        raise NichelabError(
            f"{nx} and {ny} must have the same number of samples; "
            f"got {nx} {tuple(x.shape)} and {ny} {tuple(y.shape)}"
        )
    return int(x.shape[0])


def check_min_samples(n: int, minimum: int, what: str) -> None:
    """Raise unless ``n >= minimum``; ``what`` names the estimator that needs them.

    Raises
    ------
    NichelabError
        ``"debiased HSIC needs at least 4 samples; got n_samples=3"``.
    """
    if n < minimum:
        raise NichelabError(f"{what} needs at least {minimum} samples; got n_samples={n}")


def check_gram(k, name: str) -> np.ndarray:
    """Return a Gram matrix ``k`` as a finite float64 array of shape (n, n).

    Raises
    ------
    NichelabError
        Not 2-D, not square, empty, or NaN / inf values.
    """
    a = as_2d_float64(k, name)
    if a.shape[0] != a.shape[1]:
        raise NichelabError(f"{name} must be a square (n, n) Gram matrix; got shape {a.shape}")
    return a
