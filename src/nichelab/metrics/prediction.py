"""How well the units of one layer are reproduced by another layer: column-wise correlation and
held-out linear prediction (the "best linear combination" of Li et al. 2015's discussion)."""
from __future__ import annotations

import numpy as np

from ..errors import NichelabError
from ._validate import as_2d_float64, check_same_n, pow2_exponent

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
    a, b = as_2d_float64(a, "a"), as_2d_float64(b, "b")
    if a.shape != b.shape:
        raise NichelabError(f"a and b must have the same shape (n_samples, n_units); got a {a.shape} and b {b.shape}")
    ac, bc = a - a.mean(axis=0), b - b.mean(axis=0)
    # exact power-of-two rescaling per column: the value is scale-invariant, the squares must not overflow
    ac = np.ldexp(ac, -pow2_exponent(np.abs(ac).max(axis=0)))
    bc = np.ldexp(bc, -pow2_exponent(np.abs(bc).max(axis=0)))
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
    NichelabError
        Non-numeric, non-2-D or non-finite input, or row counts of the x and y parts that differ.

    Example
    -------
    >>> x = np.random.default_rng(0).normal(size=(40, 3))
    >>> np.round(linear_prediction(x[:20], 2 * x[:20] + 1, x[20:], 2 * x[20:] + 1), 6).tolist()
    [1.0, 1.0, 1.0]
    """
    x_train, y_train = as_2d_float64(x_train, "x_train"), as_2d_float64(y_train, "y_train")
    x_test, y_test = as_2d_float64(x_test, "x_test"), as_2d_float64(y_test, "y_test")
    check_same_n(x_train, y_train, ("x_train", "y_train"))
    check_same_n(x_test, y_test, ("x_test", "y_test"))
    if x_train.shape[1] != x_test.shape[1] or y_train.shape[1] != y_test.shape[1]:
        raise NichelabError(f"train and test parts must have the same units; got x_train {x_train.shape}, "
                            f"x_test {x_test.shape}, y_train {y_train.shape}, y_test {y_test.shape}")
    # exact power-of-two scaling of x (per column) keeps least squares well scaled; predictions are unchanged
    e = pow2_exponent(np.abs(x_train).max(axis=0))
    xt = np.c_[np.ldexp(x_train, -e), np.ones(len(x_train))]
    w, *_ = np.linalg.lstsq(xt, y_train, rcond=None)
    pred = np.c_[np.ldexp(x_test, -e), np.ones(len(x_test))] @ w
    return pearson_columns(y_test, pred)
