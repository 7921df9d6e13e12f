"""Per-layer measures: unit correlations, near-duplicate units, effective dimension, dead fraction.

Every function takes activations ``acts`` of shape (n_samples, n_units) (any real dtype).
Cross-products are accumulated in float64 over row chunks (memory beyond the input: one
(n_units, n_units) matrix and one 16 MB chunk). A *constant* unit has exactly the same
activation on every sample (max == min); this includes the dead (all-zero) ReLU unit.
"""
from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from ..errors import NichelabError
from ._checks import acts_array, column_exponents, moments
from ._validate import check_finite, check_number, real_array
from .units import dead_units

__all__ = [
    "unit_correlation_matrix", "near_duplicate_groups", "correlation_groups",
    "participation_ratio", "dead_fraction",
]


def unit_correlation_matrix(acts) -> np.ndarray:
    """Pearson correlation between every pair of units of one layer.

    Parameters
    ----------
    acts : array of shape (n_samples, n_units)

    Returns
    -------
    numpy.ndarray of float64, shape (n_units, n_units)
        Symmetric, values in [-1, 1]. A constant unit (dead included) has no defined
        correlation: its whole row and column are 0, **including its diagonal entry**, so
        the diagonal is 1 for varying units and 0 for constant ones.

    Raises
    ------
    NichelabError
        ``acts`` not 2-D, empty, or not finite.

    Example
    -------
    >>> unit_correlation_matrix([[0.0, 1.0, 5.0], [1.0, 0.0, 5.0]])
    array([[ 1., -1.,  0.],
           [-1.,  1.,  0.],
           [ 0.,  0.,  0.]])
    """
    a = acts_array(acts)
    live = a.max(axis=0) != a.min(axis=0)
    _, cross = moments(a, cross=True, exponents=column_exponents(a))   # scale-free: no overflow
    ss = np.diag(cross).copy()
    inv = np.where(live & (ss > 0), 1.0 / np.sqrt(np.where(ss > 0, ss, 1.0)), 0.0)
    r = cross * np.outer(inv, inv)
    r += r.T                          # exact symmetry (the chunked sums are symmetric only to rounding)
    r *= 0.5
    np.clip(r, -1.0, 1.0, out=r)
    r[np.diag_indices_from(r)] = live.astype(np.float64)
    return r


def _check_threshold(threshold) -> float:
    return check_number("threshold", threshold, lo=0.0, hi=1.0, lo_open=True)


def _correlation_matrix(r) -> np.ndarray:
    """``r`` as a finite float64 square matrix (a (0, 0) matrix, for a layer without units, is fine)."""
    a = real_array(r, "r")
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise NichelabError(f"r must be a square (n_units, n_units) matrix; got shape {a.shape}")
    a = a.astype(np.float64, copy=False)
    check_finite(a, "r")
    return a


def correlation_groups(r, threshold: float = 0.95, absolute: bool = True) -> list[list[int]]:
    """Connected components of ``|r| >= threshold`` (or ``r >= threshold``) with size >= 2.

    The grouping step of :func:`near_duplicate_groups`, for a correlation matrix already
    computed with :func:`unit_correlation_matrix` (constant units have an all-zero row there,
    so they are never grouped).

    Parameters
    ----------
    r : array of shape (n_units, n_units)
    threshold : float, default 0.95
        In (0, 1].
    absolute : bool, default True

    Returns
    -------
    list of list of int
        Each group sorted by unit index, groups ordered by their first unit.

    Raises
    ------
    NichelabError
        ``r`` not a real, finite, square matrix; ``threshold`` outside (0, 1] or NaN.
    """
    threshold = _check_threshold(threshold)
    r = _correlation_matrix(r)
    linked = (np.abs(r) if absolute else r) >= threshold
    np.fill_diagonal(linked, False)
    n_comp, label = connected_components(csr_matrix(linked), directed=False)
    sizes = np.bincount(label, minlength=n_comp)
    groups = [np.flatnonzero(label == c).tolist() for c in np.flatnonzero(sizes >= 2)]
    return sorted(groups, key=lambda g: g[0])


def near_duplicate_groups(acts, threshold: float = 0.95, absolute: bool = True) -> list[list[int]]:
    """Groups of units that compute (almost) the same function on the data.

    Two varying units are linked when their Pearson correlation ``r`` has ``|r| >= threshold``
    (``absolute=True``: an anti-correlated pair is also redundant, one being a flipped copy of
    the other) or ``r >= threshold`` (``absolute=False``). Groups are the connected components
    of these links, so a group can contain pairs below the threshold joined through a chain.
    Constant (dead) units are never grouped.

    Parameters
    ----------
    acts : array of shape (n_samples, n_units)
    threshold : float, default 0.95
        In (0, 1].
    absolute : bool, default True

    Returns
    -------
    list of list of int
        Groups of size >= 2, each sorted by unit index, groups ordered by their first unit.
        Use :func:`correlation_groups` to reuse an already computed correlation matrix.

    Raises
    ------
    NichelabError
        Bad ``acts``, ``threshold`` outside (0, 1].

    Example
    -------
    >>> x = [[0.0, 0.0, 1.0], [1.0, 2.0, 0.0], [2.0, 4.0, 1.0]]
    >>> near_duplicate_groups(x)
    [[0, 1]]

    References
    ----------
    Li, Yosinski, Clune, Lipson & Hopcroft 2015, "Convergent learning: do different neural
    networks learn the same representations?" (unit correlation matrices).
    """
    _check_threshold(threshold)   # before the work
    return correlation_groups(unit_correlation_matrix(acts), threshold, absolute)


def participation_ratio(acts) -> float:
    """Effective number of dimensions of a layer's activations.

    ``(sum_i lambda_i)^2 / sum_i lambda_i^2`` over the eigenvalues ``lambda_i`` of the units'
    covariance matrix, computed as ``tr(C)^2 / ||C||_F^2`` (no eigendecomposition) from the
    smaller of the (units x units) and (samples x samples) Gram matrices of the centred data.
    It lies in ``[1, min(n_units, n_samples - 1)]``: 1 for rank-1 activations, ``d`` for
    isotropic activations in ``d`` dimensions. Invariant to rotations and scaling.

    Parameters
    ----------
    acts : array of shape (n_samples, n_units)

    Returns
    -------
    float
        0.0 when there are no units or every unit is constant (zero covariance).

    Raises
    ------
    NichelabError
        ``acts`` not 2-D, empty, or not finite.

    Example
    -------
    >>> participation_ratio([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]])
    1.0
    """
    a = acts_array(acts)
    n, n_units = a.shape
    if n_units == 0 or (a.max(axis=0) == a.min(axis=0)).all():
        return 0.0
    e = int(column_exponents(a).max())  # one exact power-of-two scale for all units (PR is
    if n_units <= n:                    # invariant to a common scale, not to per-unit ones)
        _, gram = moments(a, cross=True, exponents=np.full(n_units, e))
    else:  # few samples: the (n, n) Gram matrix has the same nonzero eigenvalues
        x = np.ldexp(a.astype(np.float64), -e)
        x -= x.mean(axis=0)
        gram = x @ x.T
    scale = np.abs(gram).max()
    gram /= scale                     # avoid overflow in the squares
    trace = np.trace(gram)
    return float(trace * trace / np.einsum("ij,ij->", gram, gram))


def dead_fraction(acts, tol: float = 0.0, *, constant_is_dead: bool = True) -> float:
    """Fraction of a layer's units that are dead (see :func:`nichelab.metrics.units.dead_units`).

    Parameters
    ----------
    acts : array of shape (n_samples, n_units)
    tol : float, default 0.0
    constant_is_dead : bool, default True

    Returns
    -------
    float
        In [0, 1]; 0.0 for a layer with no units.

    Raises
    ------
    NichelabError
        ``acts`` not 2-D, empty, or not finite.

    Example
    -------
    >>> dead_fraction([[0.0, 1.0, 2.0, 0.0], [0.0, 2.0, 3.0, 1.0]])
    0.25
    """
    dead = dead_units(acts, tol, constant_is_dead=constant_is_dead)
    return float(dead.mean()) if dead.size else 0.0
