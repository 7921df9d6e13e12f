"""Which layer of one network is most similar to each layer of another (Kornblith et al. 2019, table 2).

Input is a layers-by-layers similarity (or distance) matrix, e.g. from
:func:`nichelab.metrics.cka_matrix`; NaN entries are ignored.
"""
from __future__ import annotations

import numpy as np

from ..errors import NichelabError
from ._validate import real_array

__all__ = ["most_similar", "identify_layers"]


def most_similar(matrix: np.ndarray, lower_is_better: bool = False) -> np.ndarray:
    """Index of the most similar column of every row, NaN ignored; -1 for a row without a finite value.

    Parameters
    ----------
    matrix : array of shape (..., n_rows, n_cols)
        Similarities (or distances with ``lower_is_better``).
    lower_is_better : bool, default False
        True for distances (e.g. Procrustes).

    Returns
    -------
    ndarray of shape (..., n_rows), int64
        The first column reaching the best value of the row.

    Example
    -------
    >>> most_similar(np.array([[0.2, 0.9], [np.nan, np.nan]])).tolist()
    [1, -1]
    """
    m = real_array(matrix, "matrix").astype(np.float64)
    if m.ndim < 2 or 0 in m.shape:
        raise NichelabError(f"matrix must have at least 2 non-empty dimensions (rows, columns); got shape {m.shape}")
    s = np.where(np.isfinite(m), -m if lower_is_better else m, -np.inf)
    best = s.argmax(axis=-1)
    return np.where(np.isfinite(s).any(axis=-1), best, -1).astype(np.int64)


def identify_layers(matrices: np.ndarray, lower_is_better: bool = False) -> np.ndarray:
    """Whether each layer's most similar layer in the other network is its counterpart.

    Parameters
    ----------
    matrices : array of shape (n_pairs, n_layers, n_layers)
        ``matrices[p, i, j]``: similarity of layer i of network A with layer j of network B,
        for pair p (the same layer list on both sides).
    lower_is_better : bool, default False
        True for distances (e.g. Procrustes).

    Returns
    -------
    ndarray of shape (n_pairs, n_layers), bool
        True where ``matrices[p, i, i]`` is strictly better than every other entry of row i
        (NaN entries ignored; a NaN diagonal or a tie counts as a miss).

    Raises
    ------
    NichelabError
        ``matrices`` is not a stack of square matrices of real numbers.

    Example
    -------
    >>> m = np.array([[[0.9, 0.2], [0.8, 0.7]]])
    >>> identify_layers(m).tolist()
    [[True, False]]

    References
    ----------
    Kornblith, S., Norouzi, M., Lee, H., Hinton, G. (2019). Similarity of neural network
    representations revisited. ICML (table 2).
    """
    m = real_array(matrices, "matrices").astype(np.float64)
    if m.ndim != 3 or m.shape[1] != m.shape[2] or 0 in m.shape:
        raise NichelabError(f"matrices must have shape (n_pairs, L, L) with L >= 1; got {m.shape}")
    s = -m if lower_is_better else m.copy()
    L = m.shape[1]
    diag = s[:, np.arange(L), np.arange(L)]
    off = s.copy()
    off[:, np.arange(L), np.arange(L)] = -np.inf
    off = np.where(np.isnan(off), -np.inf, off)
    return np.isfinite(diag) & (diag > off.max(axis=2))
