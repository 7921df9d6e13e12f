"""Unit matching between two representations (Li, Yosinski, Clune, Lipson & Hopcroft 2015).

Which unit of network B does each unit of network A correspond to? Correlate every pair of
units over the same samples, then match one-to-one (Hungarian algorithm, maximising the total
correlation) or semi-match (each unit's best partner, repeats allowed).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import NichelabError
from ._validate import as_2d_float64, check_min_samples, check_number, check_same_n

__all__ = ["unit_correlation", "UnitMatch", "match_units"]


def _standardized_columns(x: np.ndarray) -> np.ndarray:
    """Centred columns of unit Euclidean norm; constant columns exactly 0."""
    hi, lo, mu = x.max(axis=0), x.min(axis=0), x.mean(axis=0)
    z = x - mu
    const = hi == lo
    z[:, const] = 0.0
    scale = np.maximum(hi - mu, mu - lo)  # ~max |z|: keeps the norms below finite
    scale[const | ~(scale > 0)] = 1.0
    z /= scale
    norms = np.linalg.norm(z, axis=0)
    norms[const] = 1.0
    z /= norms
    return z


def unit_correlation(x, y) -> np.ndarray:
    """Pearson correlation between every unit of ``x`` and every unit of ``y``.

    Parameters
    ----------
    x : array-like of shape (n_samples, d1)
    y : array-like of shape (n_samples, d2)
        Activations of the same samples; any real dtype, computed in float64.

    Returns
    -------
    ndarray of shape (d1, d2), float64
        ``corr[i, j]`` in [-1, 1]. A dead or constant unit has correlation 0 with every unit
        (never NaN).

    Raises
    ------
    NichelabError
        Different numbers of samples, not 2-D, NaN / inf values, ``n < 2``.

    Example
    -------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(100, 3))
    >>> np.round(unit_correlation(x, -2 * x[:, [1]]), 2).ravel().tolist()
    [-0.02, -1.0, -0.07]

    References
    ----------
    Li, Yosinski, Clune, Lipson & Hopcroft 2015, "Convergent learning: do different neural
    networks learn the same representations?", ICLR 2016 / FE workshop 2015.
    """
    x = as_2d_float64(x, "x")
    y = as_2d_float64(y, "y")
    n = check_same_n(x, y)
    check_min_samples(n, 2, "unit_correlation")
    corr = _standardized_columns(x).T @ _standardized_columns(y)
    return np.clip(corr, -1.0, 1.0, out=corr)


@dataclass(frozen=True)
class UnitMatch:
    """Result of :func:`match_units`. ``score`` is ``corr`` or ``|corr|`` (``absolute``).

    Attributes
    ----------
    corr : ndarray of shape (d1, d2)
        Signed Pearson correlations (:func:`unit_correlation`).
    pairs : ndarray of shape (min(d1, d2), 2), int64
        One-to-one matching ``(i, j)`` (unit i of x with unit j of y) maximising the total
        score, sorted by ``i``.
    matched_corr : ndarray of shape (d1,)
        Score of each x unit with its one-to-one partner; NaN for x units left unmatched
        (only when d1 > d2).
    semi_match : ndarray of shape (d1,), int64
        Each x unit's best y partner (highest score; partners may repeat).
    semi_corr : ndarray of shape (d1,)
        The score with that partner.
    frac_above_high, frac_above_low : float
        Fraction of the d1 units of x whose one-to-one score is >= ``threshold_high`` /
        ``threshold_low`` (unmatched units count as below).
    threshold_high, threshold_low : float
    absolute : bool
    """

    corr: np.ndarray
    pairs: np.ndarray
    matched_corr: np.ndarray
    semi_match: np.ndarray
    semi_corr: np.ndarray
    frac_above_high: float
    frac_above_low: float
    threshold_high: float
    threshold_low: float
    absolute: bool

    def to_dict(self, include_corr: bool = False) -> dict:
        """JSON-ready dict (lists and floats; NaN becomes None). ``corr`` only on request."""

        def clean(values):
            return [None if isinstance(v, float) and math.isnan(v) else v for v in values]

        out = {
            "pairs": self.pairs.tolist(),
            "matched_corr": clean(self.matched_corr.tolist()),
            "semi_match": self.semi_match.tolist(),
            "semi_corr": self.semi_corr.tolist(),
            "frac_above_high": self.frac_above_high,
            "frac_above_low": self.frac_above_low,
            "threshold_high": self.threshold_high,
            "threshold_low": self.threshold_low,
            "absolute": self.absolute,
        }
        if include_corr:
            out["corr"] = self.corr.tolist()
        return out


def _check_thresholds(high, low) -> tuple[float, float]:
    values = [check_number(name, v, lo=-1.0, hi=1.0)
              for name, v in (("threshold_high", high), ("threshold_low", low))]
    if values[1] > values[0]:
        raise NichelabError(
            f"threshold_low must be <= threshold_high; got threshold_low={low!r} and "
            f"threshold_high={high!r}"
        )
    return values[0], values[1]


def match_units(
    x, y, threshold_high: float = 0.9, threshold_low: float = 0.5, absolute: bool = False
) -> UnitMatch:
    """Match the units of ``x`` to the units of ``y`` by activation correlation.

    One-to-one: ``scipy.optimize.linear_sum_assignment`` maximising the total score over
    ``min(d1, d2)`` pairs. Semi-matching: each x unit's highest-scoring y unit. The score is
    the signed correlation (a unit and its negation are *not* a match) unless
    ``absolute=True``, which scores ``|corr|`` everywhere (matching, ``matched_corr``,
    ``semi_corr`` and the fractions); ``corr`` keeps the signs.

    Parameters
    ----------
    x : array-like of shape (n_samples, d1)
    y : array-like of shape (n_samples, d2)
        Activations of the same samples (e.g. one layer of two seeds).
    threshold_high : float, default 0.9
    threshold_low : float, default 0.5
        Score levels for ``frac_above_high`` / ``frac_above_low``; in [-1, 1], low <= high.
    absolute : bool, default False
        Score ``|corr|`` instead of ``corr``.

    Returns
    -------
    UnitMatch

    Raises
    ------
    NichelabError
        Bad arrays, different numbers of samples, ``n < 2``, thresholds out of range.

    Example
    -------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 4))
    >>> m = match_units(x, x[:, [2, 0, 3, 1]] + 0.1 * rng.normal(size=(200, 4)))
    >>> m.pairs.tolist(), m.frac_above_high
    ([[0, 1], [1, 3], [2, 0], [3, 2]], 1.0)

    References
    ----------
    Li, Yosinski, Clune, Lipson & Hopcroft 2015, "Convergent learning: do different neural
    networks learn the same representations?", ICLR 2016 / FE workshop 2015.
    """
    from scipy.optimize import linear_sum_assignment  # deferred: slow to import

    high, low = _check_thresholds(threshold_high, threshold_low)
    corr = unit_correlation(x, y)
    score = np.abs(corr) if absolute else corr
    d1 = corr.shape[0]
    rows, cols = linear_sum_assignment(score, maximize=True)
    pairs = np.stack([rows, cols], axis=1).astype(np.int64)
    matched = np.full(d1, np.nan)
    matched[rows] = score[rows, cols]
    semi = np.argmax(score, axis=1).astype(np.int64)
    semi_corr = score[np.arange(d1), semi]
    hit = np.nan_to_num(matched, nan=-np.inf)
    return UnitMatch(
        corr=corr,
        pairs=pairs,
        matched_corr=matched,
        semi_match=semi,
        semi_corr=semi_corr,
        frac_above_high=float(np.count_nonzero(hit >= high) / d1),
        frac_above_low=float(np.count_nonzero(hit >= low) / d1),
        threshold_high=high,
        threshold_low=low,
        absolute=bool(absolute),
    )
