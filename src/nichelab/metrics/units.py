"""Per-unit measures: activity statistics, dead units, class means, selectivity, top-k.

Every function takes activations ``acts`` of shape (n_samples, n_units) (any real dtype)
and, where needed, integer class labels ``y`` of shape (n_samples,). Conv activations must be reduced to (n_samples, channels) first
(``capture(..., reduce="mean")``). Sums and means are accumulated in float64 over row
chunks, so a float32 layer is never copied whole (memory beyond the input: one 16 MB chunk).
"""
from __future__ import annotations

import numpy as np

from ..errors import NichelabError, check_positive_int
from ._checks import acts_array, as_labels, check_n_classes, chunk_rows, column_exponents, moments, row_chunks
from ._validate import check_number

__all__ = [
    "unit_stats", "dead_units", "constant_units", "class_means", "selectivity_index",
    "preferred_class", "top_k",
]


def unit_stats(acts, tol: float = 0.0) -> dict[str, np.ndarray]:
    """Mean, standard deviation and fraction of active samples of every unit.

    Parameters
    ----------
    acts : array of shape (n_samples, n_units)
    tol : float, default 0.0
        A sample is *active* for a unit when its activation is ``> tol``. Not NaN.

    Returns
    -------
    dict with float64 arrays of shape (n_units,)
        ``mean``; ``std`` (population, ``ddof=0``); ``frac_active`` in [0, 1].

    Raises
    ------
    NichelabError
        ``acts`` not 2-D, empty, not real or not finite; ``tol`` NaN or not a number.

    Example
    -------
    >>> unit_stats([[0.0, 1.0], [2.0, 3.0]])["frac_active"]
    array([0.5, 1. ])
    """
    a = acts_array(acts)
    tol = check_number("tol", tol, allow_inf=True)
    e = column_exponents(a)             # exact power-of-two scaling: no overflow at 1e200
    mean, m2 = moments(a, exponents=e)
    step = chunk_rows(a.shape[1])
    active = sum(((a[i:i + step] > tol).sum(axis=0) for i in range(0, a.shape[0], step)))
    n = a.shape[0]
    return {"mean": np.ldexp(mean, e), "std": np.ldexp(np.sqrt(m2 / n), e),
            "frac_active": np.asarray(active / n, dtype=np.float64)}


def constant_units(acts) -> np.ndarray:
    """Units whose activation is exactly the same on every sample (max == min).

    Parameters
    ----------
    acts : array of shape (n_samples, n_units)

    Returns
    -------
    numpy.ndarray of bool, shape (n_units,)
        With a single sample every unit is constant.
    """
    a = acts_array(acts)
    return a.max(axis=0) == a.min(axis=0)


def dead_units(acts, tol: float = 0.0, *, constant_is_dead: bool = True) -> np.ndarray:
    """Units that carry no information about the data.

    A unit is dead when

    1. its activation is ``<= tol`` on every sample (a ReLU unit that never fires), or
    2. ``constant_is_dead`` and its activation is exactly constant across samples
       (max == min), whatever the constant (e.g. a unit with zero incoming weights
       and a positive bias).

    Rule 1 is meant for ReLU-like activations. For signed activations (tanh), a unit that
    is negative on every sample but varies is dead by rule 1; pass ``tol=-np.inf`` to use
    the constant rule alone.

    Parameters
    ----------
    acts : array of shape (n_samples, n_units)
    tol : float, default 0.0
    constant_is_dead : bool, default True

    Returns
    -------
    numpy.ndarray of bool, shape (n_units,)

    Raises
    ------
    NichelabError
        ``acts`` not 2-D, empty, or not finite.

    Example
    -------
    >>> dead_units([[0.0, 1.0, 2.0], [0.0, 1.0, 3.0]])
    array([ True,  True, False])
    >>> dead_units([[0.0, 1.0, 2.0], [0.0, 1.0, 3.0]], constant_is_dead=False)
    array([ True, False, False])

    References
    ----------
    Morcos, Barrett, Rabinowitz & Botvinick 2018, "On the importance of single directions
    for generalization", ICLR.
    """
    a = acts_array(acts)
    tol = check_number("tol", tol, allow_inf=True)
    hi = a.max(axis=0)
    dead = hi <= tol
    if constant_is_dead:
        dead |= hi == a.min(axis=0)
    return dead


def _acts_labels(acts, y, n_classes):
    a = acts_array(acts)
    y = as_labels(y, a)
    n_classes = check_n_classes(n_classes, y)
    if y.max() >= n_classes:
        raise NichelabError(f"y must hold class labels < n_classes={n_classes}; got {int(y.max())}")
    return a, y, n_classes


def _class_sums(a: np.ndarray, y: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-class sums (n_classes, n_units) and counts (n_classes,)."""
    sums, start = np.zeros((n_classes, a.shape[1])), 0
    for chunk in row_chunks(a):
        k = chunk.shape[0]
        onehot = np.zeros((k, n_classes))
        onehot[np.arange(k), y[start:start + k]] = 1.0
        sums += (chunk.T @ onehot).T   # this operand order is several times faster in BLAS
        start += k
        del chunk  # hold one chunk at a time
    return sums, np.bincount(y, minlength=n_classes)


def class_means(acts, y, n_classes: int | None = None) -> np.ndarray:
    """Mean activation of every unit within every class.

    Parameters
    ----------
    acts : array of shape (n_samples, n_units)
    y : int array of shape (n_samples,)
        Class labels in ``[0, n_classes)``.
    n_classes : int, optional
        Defaults to ``max(y) + 1``.

    Returns
    -------
    numpy.ndarray of float64, shape (n_classes, n_units)
        Row ``c`` is the mean over samples of class ``c``; NaN for a class with no sample.

    Raises
    ------
    NichelabError
        Bad ``acts``; ``y`` of the wrong length, non-integer or out of range.

    Example
    -------
    >>> class_means([[1.0], [3.0], [10.0]], [0, 0, 1])
    array([[ 2.],
           [10.]])
    """
    a, y, n_classes = _acts_labels(acts, y, n_classes)
    sums, counts = _class_sums(a, y, n_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts[:, None]


def _present_means(acts, y, n_classes) -> np.ndarray:
    """Class means of the classes that have samples; at least two are required."""
    a, y, n_classes = _acts_labels(acts, y, n_classes)
    sums, counts = _class_sums(a, y, n_classes)
    present = counts > 0
    if present.sum() < 2:
        raise NichelabError(
            f"y must contain at least 2 classes to compare units across classes; got "
            f"{int(present.sum())} class present"
        )
    return sums[present] / counts[present, None], np.flatnonzero(present)


def selectivity_index(acts, y, n_classes: int | None = None) -> np.ndarray:
    """Class selectivity index of every unit (Morcos et al. 2018).

    ``(mu_max - mu_rest) / (mu_max + mu_rest)``, where ``mu_max`` is the largest class-mean
    activation of the unit and ``mu_rest`` the mean of the other class means (classes with
    no sample are left out).

    For non-negative activations (ReLU) the index is in [0, 1]: 0 when every class has the
    same mean, 1 when the unit responds to one class only. It is NaN when the denominator
    is 0, which is the case for a dead (all-zero) unit. A unit with a constant positive
    activation gets 0 (no class preference), although :func:`dead_units` calls it dead.

    For signed activations (tanh, pre-activations) the numerator is still >= 0 but the
    denominator can be negative or near 0: the index can be negative, exceed 1, or be very
    large, and it is not comparable between units. Shift such activations to be
    non-negative (e.g. ``acts - acts.min(axis=0)``) or compare class means directly.

    Parameters
    ----------
    acts : array of shape (n_samples, n_units)
    y : int array of shape (n_samples,)
    n_classes : int, optional
        Defaults to ``max(y) + 1``.

    Returns
    -------
    numpy.ndarray of float64, shape (n_units,)

    Raises
    ------
    NichelabError
        Bad ``acts`` or ``y``, or fewer than 2 classes present in ``y``.

    Example
    -------
    >>> selectivity_index([[1.0, 0.0], [0.0, 0.0]], [0, 1])
    array([ 1., nan])

    References
    ----------
    Morcos, Barrett, Rabinowitz & Botvinick 2018, "On the importance of single directions
    for generalization", ICLR.
    """
    means, _ = _present_means(acts, y, n_classes)
    mu_max = means.max(axis=0)
    mu_rest = (means.sum(axis=0) - mu_max) / (means.shape[0] - 1)
    denom = mu_max + mu_rest
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom != 0, (mu_max - mu_rest) / denom, np.nan)


def preferred_class(acts, y, n_classes: int | None = None) -> np.ndarray:
    """The class with the largest mean activation for every unit.

    Parameters
    ----------
    acts : array of shape (n_samples, n_units)
    y : int array of shape (n_samples,)
    n_classes : int, optional
        Defaults to ``max(y) + 1``.

    Returns
    -------
    numpy.ndarray of int64, shape (n_units,)
        Class index; ties go to the lower class; -1 when all present class means are equal
        (dead or constant units: no preference). Classes with no sample are never preferred.

    Raises
    ------
    NichelabError
        Bad ``acts`` or ``y``, or fewer than 2 classes present in ``y``.

    Example
    -------
    >>> preferred_class([[1.0, 0.0], [0.0, 0.0], [3.0, 0.0]], [0, 1, 2])
    array([ 2, -1])
    """
    means, classes = _present_means(acts, y, n_classes)
    best = classes[means.argmax(axis=0)]
    return np.where(means.max(axis=0) == means.min(axis=0), -1, best).astype(np.int64)


def top_k(acts, k: int) -> np.ndarray:
    """Indices of the ``k`` samples with the largest activation, for every unit.

    Parameters
    ----------
    acts : array of shape (n_samples, n_units)
    k : int
        ``1 <= k <= n_samples``.

    Returns
    -------
    numpy.ndarray of int64, shape (k, n_units)
        Column ``u`` lists sample indices by decreasing activation of unit ``u``; equal
        activations are listed by increasing sample index.

    Raises
    ------
    NichelabError
        Bad ``acts``; ``k`` not an integer in ``[1, n_samples]``.

    Example
    -------
    >>> top_k([[1.0], [3.0], [3.0], [0.0]], 2)[:, 0]
    array([1, 2])
    """
    a = acts_array(acts)
    k = check_positive_int("k", k)
    n, n_units = a.shape
    if k > n:
        raise NichelabError(f"k must be <= n_samples={n}; got {k}")
    out = np.empty((k, n_units), dtype=np.int64)
    step = chunk_rows(n)     # column blocks bound the (n, block) index array
    for j in range(0, n_units, step):
        block = -a[:, j:j + step].astype(np.float64)   # stable ascending sort of -a: ties by index
        out[:, j:j + step] = np.argsort(block, axis=0, kind="stable")[:k]
    return out
