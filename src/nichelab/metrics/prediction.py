"""How well the units of one layer are reproduced by another layer: column-wise correlation and
held-out linear prediction (the "best linear combination" of Li et al. 2015's discussion)."""
from __future__ import annotations

import numpy as np

__all__ = ["pearson_columns", "linear_prediction"]


def pearson_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of column k of ``a`` with column k of ``b``.

    Parameters
    ----------
    a, b : arrays of shape (n_samples, n_units)

    Returns
    -------
    ndarray of shape (n_units,)
        In [-1, 1]; NaN where the column of ``a`` is constant (nothing to predict), 0 where only
        ``b``'s is.

    Example
    -------
    >>> pearson_columns(np.c_[np.arange(4.0)], np.c_[2 * np.arange(4.0)]).tolist()
    [1.0]
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"a and b must be 2-D arrays of the same shape; got a {a.shape} and b {b.shape}")
    ac, bc = a - a.mean(axis=0), b - b.mean(axis=0)
    na, nb = np.sqrt((ac**2).sum(axis=0)), np.sqrt((bc**2).sum(axis=0))
    const_a = np.ptp(a, axis=0) == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (ac * bc).sum(axis=0) / (na * nb)
    r = np.where(nb == 0, 0.0, r)
    r = np.where(const_a, np.nan, r)
    return np.clip(r, -1.0, 1.0)


def linear_prediction(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                      y_test: np.ndarray) -> np.ndarray:
    """How well each unit of ``y`` is a linear combination of the units of ``x``, on held-out data.

    Least squares with an intercept, ``y ~ x W + c``, fitted on the training rows; returns the
    Pearson correlation between prediction and truth on the test rows, per unit of ``y``.

    Parameters
    ----------
    x_train : (n_train, d_x), y_train : (n_train, d_y), x_test : (n_test, d_x), y_test : (n_test, d_y)

    Returns
    -------
    ndarray of shape (d_y,)
        In [-1, 1]; NaN for units of ``y`` that are constant on the test rows.

    Raises
    ------
    ValueError
        Row counts of the x and y parts differ.

    Example
    -------
    >>> x = np.random.default_rng(0).normal(size=(40, 3))
    >>> np.round(linear_prediction(x[:20], 2 * x[:20] + 1, x[20:], 2 * x[20:] + 1), 6).tolist()
    [1.0, 1.0, 1.0]
    """
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise ValueError(f"x and y must have the same rows; got x_train {np.shape(x_train)}, y_train "
                         f"{np.shape(y_train)}, x_test {np.shape(x_test)}, y_test {np.shape(y_test)}")
    xt = np.c_[np.asarray(x_train, np.float64), np.ones(len(x_train))]
    w, *_ = np.linalg.lstsq(xt, np.asarray(y_train, np.float64), rcond=None)
    pred = np.c_[np.asarray(x_test, np.float64), np.ones(len(x_test))] @ w
    return pearson_columns(y_test, pred)
