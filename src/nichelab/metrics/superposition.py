"""How a layer's weights spread features over dimensions (Elhage et al. 2022, "Toy Models of Superposition").

A weight matrix ``W`` of shape (m, n) maps n features to m hidden dimensions; column ``W[:, i]``
is feature i's direction. Its norm says whether the feature is represented at all; its
*dimensionality* says how much of a dimension it has to itself.
"""
from __future__ import annotations

import numpy as np

from ._validate import as_2d_float64, pow2_exponent

__all__ = ["feature_norms", "feature_dimensionality"]


def feature_norms(W: np.ndarray) -> np.ndarray:
    """Length of each feature's direction: ``||W[:, i]||``.

    Parameters
    ----------
    W : array-like of shape (m_dims, n_features)
        Any real dtype; computed in float64 with exact power-of-two scaling (no overflow).

    Returns
    -------
    ndarray of shape (n_features,), float64, >= 0
        Scales with ``W`` (degree 1); 0 for a feature the layer ignores.

    Raises
    ------
    NichelabError
        ``W`` not a finite, real, non-empty 2-D array.

    References
    ----------
    Elhage, N. et al. (2022). Toy Models of Superposition. Transformer Circuits Thread.

    Example
    -------
    >>> feature_norms([[3.0, 0.0], [4.0, 0.0]]).tolist()
    [5.0, 0.0]
    """
    W = as_2d_float64(W, "W")
    e = pow2_exponent(np.abs(W).max(axis=0))
    return np.ldexp(np.sqrt((np.ldexp(W, -e) ** 2).sum(axis=0)), e)


def feature_dimensionality(W: np.ndarray) -> np.ndarray:
    """Fraction of a dimension each feature has to itself: ``D_i = ||W_i||^2 / sum_j (Ŵ_i · W_j)^2``.

    ``Ŵ_i`` is feature i's unit direction and the sum runs over every feature, i included. A
    feature alone in its direction has ``D_i = 1``; two features sharing one direction
    (antipodal pair) have 1/2 each; three in a triangle in a plane 2/3 each.

    Parameters
    ----------
    W : array-like of shape (m_dims, n_features)

    Returns
    -------
    ndarray of shape (n_features,), float64 in (0, 1]
        Invariant to scaling ``W``; NaN for a feature with a zero direction (not represented).

    Raises
    ------
    NichelabError
        ``W`` not a finite, real, non-empty 2-D array.

    References
    ----------
    Elhage, N. et al. (2022). Toy Models of Superposition, section "Feature dimensionality".

    Example
    -------
    >>> np.round(feature_dimensionality([[1.0, -1.0, 0.0], [0.0, 0.0, 2.0]]), 6).tolist()
    [0.5, 0.5, 1.0]
    """
    W = as_2d_float64(W, "W")
    W = np.ldexp(W, -pow2_exponent(np.abs(W).max()))     # exact; D is scale invariant
    norms = np.sqrt((W ** 2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = W / norms
        overlap = (unit.T @ W) ** 2                      # (n, n): (Ŵ_i · W_j)^2
        d = norms ** 2 / overlap.sum(axis=1)
    return np.where(norms > 0, np.clip(d, 0.0, 1.0), np.nan)
