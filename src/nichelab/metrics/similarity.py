"""Representational similarity between two sets of activations on the same samples.

Every function takes ``x`` of shape (n_samples, d1) and ``y`` of shape (n_samples, d2) (any
real dtype; computed in float64) whose rows are the *same* inputs, and returns a float.

* CKA family: :func:`hsic` (on Gram matrices), :func:`linear_cka`, :func:`rbf_cka`,
  :class:`MinibatchCKA` (streaming) and :func:`cka_matrix` (layers x layers).
* CCA family: :func:`cca`, :func:`svcca`, :func:`pwcca`.
* :func:`procrustes_distance` and :func:`rsa`.

Conventions shared by all of them:

* Columns are centred in float64 before anything else, so a large common offset (or float32
  input) does not cost precision. A side of extreme magnitude (beyond about 2**+-100) is
  rescaled by a power of two (exact), which keeps ``||X'X||_F^2`` from overflowing or
  underflowing; every measure here is scale-invariant.
* A column whose values are all equal (a dead or constant unit) becomes exactly zero after
  centring: it adds nothing to CKA or Procrustes and is dropped by the CCA family.
* A side with no variance at all (every column constant) makes every measure undefined:
  the functions return NaN, silently.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..errors import NichelabError, check_positive_int, suggest
from ._validate import as_2d_float64, check_gram, check_min_samples, check_number, check_same_n

__all__ = [
    "RBF_CKA_MAX_SAMPLES", "hsic", "linear_cka", "rbf_cka", "MinibatchCKA", "cka_matrix",
    "CCAResult", "DegenerateCCAWarning", "cca", "svcca", "pwcca",
    "procrustes_distance", "rsa", "RSA_TIE_TOLERANCE",
]

_EPS = np.finfo(np.float64).eps

#: Largest number of samples :func:`rbf_cka` accepts by default: it holds about four
#: (n, n) float64 matrices, i.e. 3.2 GB at n = 10,000 (and 320 GB at n = 100,000).
RBF_CKA_MAX_SAMPLES = 10_000


# ----------------------------------------------------------------------------- helpers

def _pair(x, y, minimum: int, what: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Validate ``x``, ``y``: float64, 2-D, finite, same n, n >= minimum."""
    x = as_2d_float64(x, "x")
    y = as_2d_float64(y, "y")
    n = check_same_n(x, y)
    check_min_samples(n, minimum, what)
    return x, y, n


def _constant_columns(x: np.ndarray) -> np.ndarray:
    """Indices of the columns of ``x`` whose values are all equal.

    Screens on the first 8 rows, then checks only the surviving candidates in full, so the
    usual cost is far below a pass over ``x``.
    """
    cand = np.flatnonzero((x[:8] == x[0]).all(axis=0))
    if cand.size == 0 or x.shape[0] <= 8:
        return cand
    sub = x[:, cand]
    return cand[(sub == sub[0]).all(axis=0)]


def _frexp_exponent(xc: np.ndarray) -> int:
    """Exponent e with ``max |xc|`` in [2**(e-1), 2**e); 0 for an all-zero array."""
    top = max(float(xc.max()), -float(xc.min())) if xc.size else 0.0
    return int(np.frexp(top)[1]) if top > 0 else 0


def _safe_exponent(xc: np.ndarray) -> int:
    """Power of two to divide ``xc`` by so that ``max |xc|`` lies in [0.5, 1), or 0 when
    ``max |xc|`` is within 2**+-100 already (fourth powers cannot overflow or underflow)."""
    exponent = _frexp_exponent(xc)
    return 0 if -100 <= exponent <= 100 else exponent


def _center(x: np.ndarray, exponent: int | None = None) -> tuple[np.ndarray, int]:
    """Centred float64 copy of ``x`` (n, d), divided by ``2**exponent``.

    Constant columns are set to exactly 0 (their float64 mean need not equal the constant).
    ``exponent=None`` chooses it with :func:`_safe_exponent` (two more passes); the scaling is
    exact and every measure here is scale-invariant. Returns ``(xc, exponent)``.
    """
    xc = x - x.mean(axis=0)
    const = _constant_columns(x)
    if const.size:
        xc[:, const] = 0.0
    if exponent is None:
        exponent = _safe_exponent(xc)
    if exponent:
        np.ldexp(xc, -exponent, out=xc)
    return xc, exponent


def _cka_ratio(hxy: float, hxx: float, hyy: float, debiased: bool) -> float:
    """HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)); NaN when a self-term is not positive."""
    if not (hxx > 0 and hyy > 0):
        return math.nan
    value = hxy / (math.sqrt(hxx) * math.sqrt(hyy))
    if not debiased:  # in [0, 1] by Cauchy-Schwarz; clip rounding only
        value = min(max(value, 0.0), 1.0)
    return float(value)


def _gram_is_cheaper(n: int, d: int) -> bool:
    """Flop count of the Gram form (two n x n Grams) vs the feature form (d x d products).

    ``d`` is d1 + d2. Feature form: X'X, Y'Y (syrk) and Y'X, about n d^2 / 2 multiply-adds.
    Gram form: XX', YY' (syrk), about n^2 d / 2, plus the O(n^2) traces.
    """
    return n * n * (d + 4) < n * d * d


def linear_hsic_from_terms(tr: float, ab: float, sa: float, sb: float, n: int, debiased: bool) -> float:
    """HSIC of linear kernels ``K = Xc Xc'``, ``L = Yc Yc'`` (centred) from four numbers.

    ``tr = tr(KL)``, ``a = diag(K)``, ``b = diag(L)``, ``ab = a.b``, ``sa = sum(a)``,
    ``sb = sum(b)``. Because ``K 1 = 0``: ``tr(K~L~) = tr - ab``, ``1'K~1 = -sa`` and
    ``1'K~L~1 = ab`` (``K~`` = K with zero diagonal), so Song et al.'s unbiased estimator is
    ``[tr - ab + sa sb / ((n-1)(n-2)) - 2 ab / (n-2)] / (n (n-3))``; biased: ``tr / (n-1)^2``.
    Shared by :func:`linear_cka`, :class:`MinibatchCKA` and
    :class:`nichelab.metrics.StreamingCKA`.
    """
    if not debiased:
        return tr / (n - 1) ** 2
    return (tr - ab + sa * sb / ((n - 1) * (n - 2)) - 2.0 * ab / (n - 2)) / (n * (n - 3))


class _LinearStats:
    """Statistics of one centred representation under the linear kernel ``K = Xc Xc'``.

    Holds the centred features ``xc`` (n, d) and, when ``use_gram``, the centred Gram matrix
    (n, n). Because ``K 1 = 0``, debiased HSIC needs only ``tr(KL)`` plus the diagonals
    ``a = diag(K)`` (squared row norms): with ``K~`` = K with zero diagonal,
    ``tr(K~L~) = tr(KL) - a.b``, ``1'K~1 = -sum(a)`` and ``1'K~L~1 = a.b``.
    """

    __slots__ = ("n", "xc", "gram", "tr_kk", "_diag")

    def __init__(self, xc: np.ndarray, use_gram: bool):
        self.n = xc.shape[0]
        self.xc = xc
        self._diag = None
        if use_gram:
            self.gram = xc @ xc.T
            self.tr_kk = float(np.vdot(self.gram, self.gram))
        else:
            self.gram = None
            g = xc.T @ xc
            self.tr_kk = float(np.vdot(g, g))  # ||X'X||_F^2 = ||XX'||_F^2 = tr(KK)

    @classmethod
    def of(cls, x: np.ndarray, use_gram: bool) -> "_LinearStats":
        """Centre ``x`` (no extra scaling pass) and rescale only if ``tr(KK)`` left the safe
        range of float64 (inf, or below 2**-700 while ``xc`` is not all zero)."""
        xc, _ = _center(x, 0)
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            stats = cls(xc, use_gram)
        if not (math.isfinite(stats.tr_kk) and stats.tr_kk > 2.0**-700) and xc.any():
            np.ldexp(xc, -_safe_exponent(xc), out=xc)
            stats = cls(xc, use_gram)
        return stats

    @property
    def diag(self) -> np.ndarray:
        if self._diag is None:
            if self.gram is not None:
                self._diag = np.diag(self.gram).copy()
            else:
                self._diag = np.einsum("ij,ij->i", self.xc, self.xc)
        return self._diag

    def tr_cross(self, other: "_LinearStats") -> float:
        """``tr(K L)`` = ``||Y'X||_F^2`` with ``L`` from ``other``."""
        if other is self:
            return self.tr_kk
        if self.gram is not None and other.gram is not None:
            return float(np.vdot(self.gram, other.gram))
        c = other.xc.T @ self.xc
        return float(np.vdot(c, c))

    def hsic(self, other: "_LinearStats", debiased: bool) -> float:
        tr = self.tr_cross(other)
        if not debiased:
            return linear_hsic_from_terms(tr, 0.0, 0.0, 0.0, self.n, False)
        a, b = self.diag, other.diag
        return linear_hsic_from_terms(tr, float(a @ b), float(a.sum()), float(b.sum()), self.n, True)


class _GramStats:
    """Statistics of one symmetric kernel matrix ``K`` (n, n) for HSIC, biased or debiased.

    Biased: keeps ``HKH``. Debiased: keeps ``K~`` (zero diagonal), its row sums and total.
    ``k`` is modified in place.
    """

    __slots__ = ("n", "debiased", "mat", "rows", "total")

    def __init__(self, k: np.ndarray, debiased: bool):
        self.n = k.shape[0]
        self.debiased = debiased
        if debiased:
            np.fill_diagonal(k, 0.0)
            self.rows = k.sum(axis=1)
            self.total = float(self.rows.sum())
        else:
            k -= k.mean(axis=0, keepdims=True)
            k -= k.mean(axis=1, keepdims=True)  # now H K H
            self.rows, self.total = None, 0.0
        self.mat = k

    def hsic(self, other: "_GramStats") -> float:
        n = self.n
        tr = float(np.vdot(self.mat, other.mat))  # tr(KL) for symmetric matrices
        if not self.debiased:
            return tr / (n - 1) ** 2
        cross = float(self.rows @ other.rows)
        return (tr + self.total * other.total / ((n - 1) * (n - 2)) - 2.0 * cross / (n - 2)) / (
            n * (n - 3)
        )


def _median_offdiag_distance(sq: np.ndarray) -> float:
    """Median of sqrt(sq[i, j]) over i != j, for a symmetric (n, n) array with zero diagonal.

    The n diagonal zeros are the n smallest entries, so the off-diagonal order statistics
    ``m/2 - 1`` and ``m/2`` (m = n(n-1), always even) sit at ``n + m/2 - 1`` and ``n + m/2``.
    """
    n = sq.shape[0]
    i = n + n * (n - 1) // 2 - 1
    part = np.partition(sq, (i, i + 1), axis=None)
    return 0.5 * (math.sqrt(part[i]) + math.sqrt(part[i + 1]))


def _rbf_gram(xc: np.ndarray, sigma_frac: float) -> np.ndarray | None:
    """Gaussian kernel exp(-|xi - xj|^2 / (2 sigma^2)), sigma = sigma_frac * median distance.

    Returns None when the median pairwise distance is 0 (kernel undefined).
    """
    sq_norms = np.einsum("ij,ij->i", xc, xc)
    d2 = xc @ xc.T
    d2 *= -2.0
    d2 += sq_norms[:, None]
    d2 += sq_norms[None, :]
    np.maximum(d2, 0.0, out=d2)
    np.fill_diagonal(d2, 0.0)
    med = _median_offdiag_distance(d2)
    if med == 0.0:
        return None
    d2 *= -1.0 / (2.0 * (sigma_frac * med) ** 2)
    return np.exp(d2, out=d2)


def _check_rbf_size(n: int, max_samples) -> None:
    """Refuse an RBF kernel on more than ``max_samples`` samples before allocating it."""
    limit = check_positive_int("max_samples", max_samples, 2)
    if n > limit:
        gib = 4 * 8 * n * n / 2**30
        raise NichelabError(
            f"rbf_cka builds (n, n) kernel matrices and needs about {gib:.1f} GiB for "
            f"n_samples={n}, above max_samples={limit}; use linear_cka or StreamingCKA "
            "(exact at any n, O(d^2) memory), subsample the rows (e.g. x[rng.choice(n, 5000, "
            "replace=False)]), or raise max_samples"
        )


def _check_sigma_frac(sigma_frac) -> float:
    return check_number("sigma_frac", sigma_frac, lo=0.0, lo_open=True)


# ----------------------------------------------------------------------------- HSIC / CKA

def hsic(k, l, debiased: bool = False) -> float:
    """Hilbert-Schmidt Independence Criterion of two Gram matrices on the same samples.

    Biased: ``tr(K H L H) / (n-1)^2`` with ``H = I - 11'/n``. Debiased (Song et al. 2012),
    with ``K~``, ``L~`` the Grams with zeroed diagonals::

        [tr(K~L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n(n-3))

    Parameters
    ----------
    k, l : array-like of shape (n_samples, n_samples)
        Gram (kernel) matrices, e.g. ``x @ x.T``. Any real dtype; computed in float64.
        Symmetry is not required (``tr(KL)`` is computed as written).
    debiased : bool, default False
        Use the unbiased estimator; it needs ``n >= 4`` and can be negative.

    Returns
    -------
    float

    Raises
    ------
    NichelabError
        Not square, different sizes, NaN / inf values, ``n < 2`` (biased) or
        ``n < 4`` (debiased).

    Example
    -------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(20, 3))
    >>> bool(hsic(x @ x.T, x @ x.T) > 0)
    True

    References
    ----------
    Gretton et al. 2005, "Measuring statistical dependence with Hilbert-Schmidt norms".
    Song et al. 2012, "Feature selection via dependence maximization", JMLR 13.
    """
    k = check_gram(k, "k")
    l = check_gram(l, "l")
    n = check_same_n(k, l, ("k", "l"))
    if debiased:
        check_min_samples(n, 4, "debiased HSIC")
        kt, lt = k.copy(), l.copy()
        np.fill_diagonal(kt, 0.0)
        np.fill_diagonal(lt, 0.0)
        tr = float(np.einsum("ij,ji->", kt, lt))
        cross = float(kt.sum(axis=0) @ lt.sum(axis=1))
        return (tr + kt.sum() * lt.sum() / ((n - 1) * (n - 2)) - 2.0 * cross / (n - 2)) / (
            n * (n - 3)
        )
    check_min_samples(n, 2, "HSIC")
    kc = k - k.mean(axis=0, keepdims=True)
    kc -= kc.mean(axis=1, keepdims=True)
    return float(np.einsum("ij,ji->", kc, l)) / (n - 1) ** 2


def linear_cka(x, y, debiased: bool = False) -> float:
    """Linear centred kernel alignment between two representations of the same samples.

    ``||Y'X||_F^2 / (||X'X||_F ||Y'Y||_F)`` on column-centred ``X``, ``Y``. The feature-space
    form (d x d products) or the Gram form (n x n matrices) is chosen by flop count; both give
    the same value. ``debiased=True`` replaces each HSIC by its unbiased estimator (Song et al.
    2012), computed from the same products plus the squared row norms, never an n x n matrix
    unless the Gram form is cheaper anyway.

    Parameters
    ----------
    x : array-like of shape (n_samples, d1)
    y : array-like of shape (n_samples, d2)
        Any real dtype; centred and computed in float64.
    debiased : bool, default False
        Unbiased HSIC estimator: biased CKA of *independent* representations is far from 0 at
        small n (about 0.66 for d = 64 at n = 32); debiased CKA stays near 0. Needs n >= 4.
        The debiased value can be slightly negative and is not clipped.

    Returns
    -------
    float
        In [0, 1] (biased). NaN when one side has zero variance (every column constant) --
        CKA is undefined there -- or, debiased, when an estimated self-HSIC is not positive.

    Raises
    ------
    NichelabError
        Different numbers of samples, not 2-D, NaN / inf values, ``n < 2`` or, debiased,
        ``n < 4``.

    Example
    -------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(100, 8))
    >>> q, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    >>> round(linear_cka(x, 3.0 * x @ q), 10)
    1.0

    References
    ----------
    Kornblith, Norouzi, Lee & Hinton 2019, "Similarity of neural network representations
    revisited", ICML.
    """
    x, y, n = _pair(x, y, 4 if debiased else 2, "debiased CKA" if debiased else "CKA")
    use_gram = _gram_is_cheaper(n, x.shape[1] + y.shape[1])
    sx, sy = _LinearStats.of(x, use_gram), _LinearStats.of(y, use_gram)
    return _cka_ratio(sx.hsic(sy, debiased), sx.hsic(sx, debiased), sy.hsic(sy, debiased), debiased)


def rbf_cka(x, y, sigma_frac: float = 0.4, debiased: bool = False, *,
            max_samples: int = RBF_CKA_MAX_SAMPLES) -> float:
    """CKA with Gaussian (RBF) kernels, bandwidth a fraction of the median distance.

    ``k(xi, xj) = exp(-|xi - xj|^2 / (2 sigma^2))`` with ``sigma = sigma_frac * median`` of the
    pairwise distances ``|xi - xj|`` over sample pairs ``i != j``, chosen separately for ``x``
    and ``y``. (Kornblith et al.'s released code takes the median of *squared* distances over
    the full matrix, diagonal zeros included; this follows the paper's "median distance
    between examples".) Memory and time are O(n^2): about four (n, n) float64 matrices, so
    more than ``max_samples`` samples are refused before anything is allocated.

    Parameters
    ----------
    x : array-like of shape (n_samples, d1)
    y : array-like of shape (n_samples, d2)
    sigma_frac : float, default 0.4
        Bandwidth as a fraction of the median distance (the paper uses 0.2, 0.4, 0.8).
    debiased : bool, default False
        Unbiased HSIC estimator (Song et al. 2012); needs n >= 4.
    max_samples : int, default RBF_CKA_MAX_SAMPLES (10,000)
        Largest ``n_samples`` accepted (3.2 GB of kernel matrices at 10,000). Above it, use
        :func:`linear_cka` / :class:`~nichelab.metrics.StreamingCKA` or subsample.

    Returns
    -------
    float
        In [0, 1] (biased). NaN when a side's median pairwise distance is 0 (in particular
        when it has zero variance) or, debiased, when an estimated self-HSIC is not positive.

    Raises
    ------
    NichelabError
        Bad shapes or values, ``sigma_frac <= 0``, ``n < 2`` or, debiased, ``n < 4``;
        ``n_samples > max_samples`` (raised before any (n, n) allocation).

    Example
    -------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(50, 4))
    >>> round(rbf_cka(x, 2.0 * x + 1.0), 10)
    1.0

    References
    ----------
    Kornblith, Norouzi, Lee & Hinton 2019, "Similarity of neural network representations
    revisited", ICML.
    """
    sigma_frac = _check_sigma_frac(sigma_frac)
    x, y, n = _pair(x, y, 4 if debiased else 2, "debiased CKA" if debiased else "CKA")
    _check_rbf_size(n, max_samples)
    k = _rbf_gram(_center(x)[0], sigma_frac)
    l = _rbf_gram(_center(y)[0], sigma_frac)
    if k is None or l is None:
        return math.nan
    sk, sl = _GramStats(k, debiased), _GramStats(l, debiased)
    return _cka_ratio(sk.hsic(sl), sk.hsic(sk), sl.hsic(sl), debiased)


class MinibatchCKA:
    """Streaming linear CKA over minibatches of one pair of representations.

    Each :meth:`update` adds the *debiased* HSIC(K, L), HSIC(K, K) and HSIC(L, L) of one
    minibatch (linear kernel, centred within the batch); :meth:`compute` returns::

        mean_b HSIC1(K_b, L_b) / sqrt(mean_b HSIC1(K_b, K_b) * mean_b HSIC1(L_b, L_b))

    Memory is O(batch * (d1 + d2) + min(batch, d1 + d2)^2), whatever the number of samples.
    The estimate is unbiased for each averaged HSIC; it approximates, but does not equal,
    :func:`linear_cka` with ``debiased=True`` on all the data.

    Attributes
    ----------
    n_batches : int
    n_samples : int
        Batches and samples seen since construction or :meth:`reset`.

    Example
    -------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> metric = MinibatchCKA()
    >>> for _ in range(5):
    ...     x = rng.normal(size=(64, 10))
    ...     metric.update(x, 2.0 * x + 1.0)
    >>> round(metric.compute(), 10)
    1.0

    References
    ----------
    Nguyen, Raghu & Kornblith 2021, "Do wide and deep networks learn the same things?", ICLR.
    Song et al. 2012, "Feature selection via dependence maximization", JMLR 13.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every batch seen so far."""
        self.n_batches = 0
        self.n_samples = 0
        # HSIC(K,L), HSIC(K,K), HSIC(L,L) in units of 2**(2ex+2ey), 2**(4ex), 2**(4ey), where
        # (ex, ey) are the largest per-batch scale exponents seen so far on each side.
        self._sums = [0.0, 0.0, 0.0]
        self._shapes: tuple[int, int] | None = None
        self._exponents: tuple[int, int] | None = None

    def update(self, x_batch, y_batch) -> None:
        """Add one minibatch.

        Parameters
        ----------
        x_batch : array-like of shape (batch, d1)
        y_batch : array-like of shape (batch, d2)
            The same ``batch >= 4`` samples in both; ``d1`` and ``d2`` fixed across calls.

        Raises
        ------
        NichelabError
            Mismatched batch sizes, fewer than 4 samples, NaN / inf values, or a feature
            count different from the first batch.
        """
        x = as_2d_float64(x_batch, "x_batch")
        y = as_2d_float64(y_batch, "y_batch")
        n = check_same_n(x, y, ("x_batch", "y_batch"))
        check_min_samples(n, 4, "debiased HSIC in MinibatchCKA.update")
        dims = (x.shape[1], y.shape[1])
        if self._shapes is not None and dims != self._shapes:
            raise NichelabError(
                "MinibatchCKA.update needs the same feature counts in every batch; first batch "
                f"had (d1, d2) = {self._shapes}, got x_batch {x.shape} and y_batch {y.shape}"
            )
        # Each batch is scaled by its own power of two (exact); the running sums are kept in
        # units of the largest scale seen, so a batch of any magnitude neither overflows nor
        # is mixed with sums in other units.
        xc, yc = _center(x, 0)[0], _center(y, 0)[0]
        ex, ey = _frexp_exponent(xc), _frexp_exponent(yc)
        np.ldexp(xc, -ex, out=xc)
        np.ldexp(yc, -ey, out=yc)
        use_gram = _gram_is_cheaper(n, sum(dims))
        sx, sy = _LinearStats(xc, use_gram), _LinearStats(yc, use_gram)
        terms = (sx.hsic(sy, True), sx.hsic(sx, True), sy.hsic(sy, True))
        big_x, big_y = (ex, ey) if self._exponents is None else (
            max(ex, self._exponents[0]), max(ey, self._exponents[1]))
        if self._exponents is not None:
            old_x, old_y = self._exponents
            self._sums = [math.ldexp(self._sums[0], 2 * (old_x - big_x) + 2 * (old_y - big_y)),
                          math.ldexp(self._sums[1], 4 * (old_x - big_x)),
                          math.ldexp(self._sums[2], 4 * (old_y - big_y))]
        self._sums[0] += math.ldexp(terms[0], 2 * (ex - big_x) + 2 * (ey - big_y))
        self._sums[1] += math.ldexp(terms[1], 4 * (ex - big_x))
        self._sums[2] += math.ldexp(terms[2], 4 * (ey - big_y))
        self._shapes, self._exponents = dims, (big_x, big_y)
        self.n_batches += 1
        self.n_samples += n

    def compute(self) -> float:
        """Minibatch CKA of the batches seen so far.

        Returns
        -------
        float
            NaN when a side had zero variance in every batch (or its mean self-HSIC is not
            positive).

        Raises
        ------
        NichelabError
            No batch has been added yet.
        """
        if self.n_batches == 0:
            raise NichelabError("MinibatchCKA.compute needs at least one update(); got 0 batches")
        hxy, hxx, hyy = (s / self.n_batches for s in self._sums)
        return _cka_ratio(hxy, hxx, hyy, True)


# ----------------------------------------------------------------------------- layer matrix

def _as_layer_dict(acts, name: str) -> dict[str, np.ndarray]:
    if not isinstance(acts, Mapping) or len(acts) == 0:
        got = f"{type(acts).__name__} of length {len(acts)}" if isinstance(acts, Mapping) else type(acts).__name__
        raise NichelabError(f"{name} must be a non-empty dict {{layer name: (n_samples, n_units) array}}; got {got}")
    return {str(k): v for k, v in acts.items()}


def cka_matrix(
    acts_a: Mapping[str, np.ndarray],
    acts_b: Mapping[str, np.ndarray] | None = None,
    measure: str = "linear_cka",
    debiased: bool = False,
) -> tuple[list[str], list[str], np.ndarray]:
    """Similarity of every layer of ``acts_a`` with every layer of ``acts_b``.

    For ``"linear_cka"`` each layer is validated and centred once and its ``||X'X||_F`` (or
    centred Gram matrix, when a layer has more units than samples) computed once; each pair
    then costs one cross product ``Y'X``. For ``"rbf_cka"`` each layer's kernel matrix is
    built once (O(n^2) memory per layer). An array appearing in both dicts (e.g.
    ``acts_b=None``) is prepared once, and symmetric pairs are computed once.

    Parameters
    ----------
    acts_a : dict of str -> array-like of shape (n_samples, d_layer)
        Activations per layer, e.g. the output of ``nichelab.capture``; rows are the same
        samples in every layer.
    acts_b : dict of str -> array-like of shape (n_samples, d_layer), optional
        Default: ``acts_a`` (a layers-by-layers matrix of one network).
    measure : str, default "linear_cka"
        ``"linear_cka"`` or ``"rbf_cka"`` (sigma_frac=0.4), with the fast paths above; or
        ``"cca"`` (mean canonical correlation), ``"svcca"``, ``"pwcca"``,
        ``"procrustes_distance"``, ``"rsa"``, computed pair by pair with defaults.
    debiased : bool, default False
        Debiased HSIC (CKA measures only).

    Returns
    -------
    names_a : list of str
    names_b : list of str
        Layer names in dict order.
    matrix : ndarray of shape (len(names_a), len(names_b)), float64
        ``matrix[i, j] = measure(acts_a[names_a[i]], acts_b[names_b[j]])``; NaN entries
        where the measure is undefined (a layer without variance).

    Raises
    ------
    NichelabError
        Empty or non-dict input, layers with different numbers of samples, bad arrays,
        unknown ``measure``, or ``debiased=True`` with a measure other than CKA.

    Example
    -------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> acts = {"L1": rng.normal(size=(50, 6)), "L2": rng.normal(size=(50, 4))}
    >>> names_a, names_b, m = cka_matrix(acts)
    >>> names_a, m.shape, float(m[0, 0])
    (['L1', 'L2'], (2, 2), 1.0)

    References
    ----------
    Kornblith, Norouzi, Lee & Hinton 2019, "Similarity of neural network representations
    revisited", ICML (figures of CKA between all pairs of layers).
    """
    if measure not in _MATRIX_MEASURES:
        raise NichelabError(
            f"measure must be one of {sorted(_MATRIX_MEASURES)}; got {measure!r}"
            + suggest(measure, _MATRIX_MEASURES)
        )
    cka_kind = measure in ("linear_cka", "rbf_cka")
    if debiased and not cka_kind:
        raise NichelabError(f"debiased=True applies to linear_cka and rbf_cka only; got measure {measure!r}")
    layers_a = _as_layer_dict(acts_a, "acts_a")
    layers_b = layers_a if acts_b is None else _as_layer_dict(acts_b, "acts_b")

    # Validate every distinct array once; all must share n_samples.
    arrays: dict[int, np.ndarray] = {}
    first: tuple[str, np.ndarray] | None = None
    for side, layers in (("acts_a", layers_a), ("acts_b", layers_b)):
        for name, raw in layers.items():
            if id(raw) in arrays:
                continue
            label = f"{side}[{name!r}]"
            arr = as_2d_float64(raw, label)
            if first is None:
                first = (label, arr)
            check_same_n(first[1], arr, (first[0], label))
            arrays[id(raw)] = arr
    n = first[1].shape[0]
    check_min_samples(n, 4 if debiased else 2, "debiased CKA" if debiased else measure)
    if measure == "rbf_cka":
        _check_rbf_size(n, RBF_CKA_MAX_SAMPLES)

    prepared: dict[int, object] = {}

    def prep(raw):
        key = id(raw)
        if key not in prepared:
            arr = arrays[key]
            if measure == "linear_cka":
                prepared[key] = _LinearStats.of(arr, n < arr.shape[1])
            elif measure == "rbf_cka":
                k = _rbf_gram(_center(arr)[0], 0.4)
                prepared[key] = None if k is None else _GramStats(k, debiased)
            else:
                prepared[key] = arr
        return prepared[key]

    self_hsic: dict[int, float] = {}

    def value(ra, rb) -> float:
        sa, sb = prep(ra), prep(rb)
        if not cka_kind:
            return float(_PAIRWISE[measure](sa, sb))
        if sa is None or sb is None:
            return math.nan
        for raw, s in ((ra, sa), (rb, sb)):
            if id(raw) not in self_hsic:
                self_hsic[id(raw)] = s.hsic(s, debiased) if measure == "linear_cka" else s.hsic(s)
        hxy = sa.hsic(sb, debiased) if measure == "linear_cka" else sa.hsic(sb)
        return _cka_ratio(hxy, self_hsic[id(ra)], self_hsic[id(rb)], debiased)

    names_a, names_b = list(layers_a), list(layers_b)
    matrix = np.empty((len(names_a), len(names_b)))
    done: dict[tuple[int, int], float] = {}
    for i, na in enumerate(names_a):
        for j, nb in enumerate(names_b):
            ra, rb = layers_a[na], layers_b[nb]
            key = (id(ra), id(rb))
            if cka_kind and (id(rb), id(ra)) in done:
                key = (id(rb), id(ra))
            if key not in done:
                done[key] = value(ra, rb)
            matrix[i, j] = done[key]
    return names_a, names_b, matrix


# ----------------------------------------------------------------------------- CCA family

class DegenerateCCAWarning(UserWarning):
    """CCA on too few samples: some canonical correlations equal 1 whatever the data."""


@dataclass(frozen=True)
class CCAResult:
    """Canonical correlations of two representations.

    Attributes
    ----------
    rho : ndarray of shape (min(rank_x, rank_y),)
        Canonical correlations in [0, 1], sorted in descending order.
    mean_rho : float
        Mean of ``rho`` (NaN when ``rho`` is empty).
    r2 : float
        Mean of ``rho**2`` (NaN when ``rho`` is empty).
    degenerate : bool
        ``rank_x + rank_y > n_samples - 1``: at least that excess of the correlations equal 1
        by construction.
    """

    rho: np.ndarray
    mean_rho: float
    r2: float
    degenerate: bool

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return {"rho": self.rho.tolist(), "mean_rho": self.mean_rho, "r2": self.r2,
                "degenerate": self.degenerate}


def _basis(xc: np.ndarray, keep: float | None = None) -> np.ndarray:
    """Orthonormal basis (n, r) of the column space of centred ``xc``.

    ``r`` is the numerical rank (singular values above ``s_max * max(n, d) * eps``); with
    ``keep`` only the leading directions explaining a ``keep`` fraction of the variance.
    Zero (constant) columns do not contribute.
    """
    u, s, _ = np.linalg.svd(xc, full_matrices=False)
    if s.size == 0 or s[0] == 0.0:
        return u[:, :0]
    r = int(np.count_nonzero(s > s[0] * max(xc.shape) * _EPS))
    if keep is not None:
        var = np.cumsum(s[:r] ** 2)
        r = min(r, int(np.searchsorted(var / var[-1], keep * (1 - 1e-12))) + 1)
    return u[:, :r]


def _warn_degenerate(rx: int, ry: int, n: int, fn: str, stacklevel: int = 3) -> bool:
    excess = rx + ry - (n - 1)
    if excess <= 0:
        return False
    warnings.warn(
        f"{fn} is degenerate: rank(x) = {rx} plus rank(y) = {ry} exceeds n_samples - 1 = {n - 1}, "
        f"so at least {min(excess, rx, ry)} of the {min(rx, ry)} canonical correlations equal 1 "
        "whatever the data (with n_features >= n_samples any two random representations "
        "score 1); use more samples than features, or linear_cka",
        DegenerateCCAWarning,
        stacklevel=stacklevel,
    )
    return True


def _canonical(ux: np.ndarray, uy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Canonical correlations (desc) and x-side rotation P: variates of x are ``ux @ P``."""
    k = min(ux.shape[1], uy.shape[1])
    if k == 0:
        return np.zeros(0), np.zeros((ux.shape[1], 0))
    p, rho, _ = np.linalg.svd(ux.T @ uy, full_matrices=False)
    return np.clip(rho[:k], 0.0, 1.0), p[:, :k]


def _mean_or_nan(v: np.ndarray) -> float:
    return float(v.mean()) if v.size else math.nan


def cca(x, y) -> CCAResult:
    """Canonical correlation analysis of two representations of the same samples.

    Computed from orthonormal bases of the centred column spaces (SVD), then the singular
    values of ``Ux' Uy`` -- never by inverting covariance matrices. Zero-variance (constant)
    columns are dropped, as are exactly collinear directions (numerical rank).

    Parameters
    ----------
    x : array-like of shape (n_samples, d1)
    y : array-like of shape (n_samples, d2)

    Returns
    -------
    CCAResult
        ``rho`` (descending), ``mean_rho``, ``r2`` (mean squared correlation),
        ``degenerate``. Empty ``rho`` and NaN means when a side has zero variance.

    Raises
    ------
    NichelabError
        Different numbers of samples, bad arrays, ``n < 2``.

    Warns
    -----
    DegenerateCCAWarning
        When ``rank(x) + rank(y) > n_samples - 1`` (always when d >= n): some correlations
        are 1 by construction, and with d >= n any two random representations score 1.

    Example
    -------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 3))
    >>> res = cca(x, x @ rng.normal(size=(3, 3)))
    >>> np.round(res.rho, 6).tolist()
    [1.0, 1.0, 1.0]

    References
    ----------
    Hotelling 1936, "Relations between two sets of variates", Biometrika.
    Bjorck & Golub 1973, "Numerical methods for computing angles between linear subspaces".
    """
    x, y, n = _pair(x, y, 2, "CCA")
    ux, uy = _basis(_center(x)[0]), _basis(_center(y)[0])
    degenerate = _warn_degenerate(ux.shape[1], uy.shape[1], n, "CCA")
    rho, _ = _canonical(ux, uy)
    return CCAResult(rho, _mean_or_nan(rho), _mean_or_nan(rho**2), degenerate)


def svcca(x, y, keep: float = 0.99) -> float:
    """SVCCA: mean canonical correlation after keeping the top singular directions.

    Each side is centred and reduced to its leading singular directions explaining a
    ``keep`` fraction of its variance; the result is the mean canonical correlation of
    the two reduced representations.

    Parameters
    ----------
    x : array-like of shape (n_samples, d1)
    y : array-like of shape (n_samples, d2)
    keep : float, default 0.99
        Fraction of variance kept on each side, in (0, 1].

    Returns
    -------
    float
        In [0, 1]; NaN when a side has zero variance.

    Raises
    ------
    NichelabError
        Bad arrays, different numbers of samples, ``n < 2``, ``keep`` outside (0, 1].

    Warns
    -----
    DegenerateCCAWarning
        When the kept dimensions satisfy ``k_x + k_y > n_samples - 1``.

    Example
    -------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 5))
    >>> round(svcca(x, x @ rng.normal(size=(5, 5)), keep=1.0), 6)
    1.0

    References
    ----------
    Raghu, Gilmer, Yosinski & Sohl-Dickstein 2017, "SVCCA: Singular vector canonical
    correlation analysis for deep learning dynamics and interpretability", NeurIPS.
    """
    keep_f = check_number("keep", keep, lo=0.0, hi=1.0, lo_open=True)
    x, y, n = _pair(x, y, 2, "SVCCA")
    ux, uy = _basis(_center(x)[0], keep_f), _basis(_center(y)[0], keep_f)
    _warn_degenerate(ux.shape[1], uy.shape[1], n, "SVCCA")
    return _mean_or_nan(_canonical(ux, uy)[0])


def pwcca(x, y) -> float:
    """Projection-weighted CCA: canonical correlations weighted by their share of ``x``.

    With ``h_i`` the i-th canonical variate of ``x`` (unit-norm n-vector) and ``x_j`` the
    j-th centred unit (column) of ``x``, ``alpha_i = sum_j |<h_i, x_j>|``; the result is
    ``sum_i alpha_i rho_i / sum_i alpha_i``. It is not symmetric: weights come from ``x``.
    Constant columns are dropped (they carry no weight).

    Parameters
    ----------
    x : array-like of shape (n_samples, d1)
        The representation whose units define the weights.
    y : array-like of shape (n_samples, d2)

    Returns
    -------
    float
        Weighted mean canonical correlation in [0, 1] (the paper's distance is
        ``1 - pwcca``). NaN when a side has zero variance.

    Raises
    ------
    NichelabError
        Bad arrays, different numbers of samples, ``n < 2``.

    Warns
    -----
    DegenerateCCAWarning
        When ``rank(x) + rank(y) > n_samples - 1``.

    Example
    -------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 4))
    >>> round(pwcca(x, x @ rng.normal(size=(4, 4))), 6)
    1.0

    References
    ----------
    Morcos, Raghu & Bengio 2018, "Insights on representational similarity in neural
    networks with canonical correlation", NeurIPS (eq. for alpha_i in section 3.1).
    """
    x, y, n = _pair(x, y, 2, "PWCCA")
    xc = _center(x)[0]
    ux, uy = _basis(xc), _basis(_center(y)[0])
    _warn_degenerate(ux.shape[1], uy.shape[1], n, "PWCCA")
    rho, p = _canonical(ux, uy)
    if rho.size == 0:
        return math.nan
    h = ux @ p  # (n, k) canonical variates of x, orthonormal columns
    alpha = np.abs(h.T @ xc).sum(axis=1)
    total = float(alpha.sum())
    if total == 0.0:
        return math.nan
    return float(np.clip(alpha @ rho / total, 0.0, 1.0))


# ----------------------------------------------------------------------------- Procrustes, RSA

def _row_space_factor(a: np.ndarray) -> np.ndarray:
    """For wide ``a`` (n < d): an (n, n) ``f`` with ``f f' = a a'``, so ``a'b`` and ``f'b`` have
    the same singular values. Tall ``a`` is returned unchanged."""
    n, d = a.shape
    if d <= n:
        return a
    return np.linalg.qr(a.T, mode="r").T


def procrustes_distance(x, y) -> float:
    """Orthogonal Procrustes distance between two representations.

    Centre each side, scale it to unit Frobenius norm, then ``2 - 2 ||A'B||_*`` (nuclear norm)
    = the minimum over orthogonal Q of ``||A - BQ||_F^2`` (zero-padding the narrower side).

    Parameters
    ----------
    x : array-like of shape (n_samples, d1)
    y : array-like of shape (n_samples, d2)

    Returns
    -------
    float
        In [0, 2]; 0 when ``y`` is an orthogonal transform of ``x`` up to scale and
        translation. NaN when a side has zero variance.

    Raises
    ------
    NichelabError
        Bad arrays, different numbers of samples, ``n < 2``.

    Example
    -------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(100, 5))
    >>> q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    >>> round(procrustes_distance(x, 7 * x @ q + 1), 8)
    0.0

    References
    ----------
    Ding, Denain & Steinhardt 2021, "Grounding representation similarity through
    statistical testing", NeurIPS. Schoenemann 1966 (orthogonal Procrustes).
    """
    x, y, _ = _pair(x, y, 2, "Procrustes distance")
    xc, yc = _center(x)[0], _center(y)[0]
    nx, ny = float(np.linalg.norm(xc)), float(np.linalg.norm(yc))
    if nx == 0.0 or ny == 0.0:
        return math.nan
    a = _row_space_factor(xc / nx)
    b = _row_space_factor(yc / ny)
    nuclear = float(np.linalg.svd(a.T @ b, compute_uv=False).sum())
    return float(min(max(2.0 - 2.0 * nuclear, 0.0), 2.0))


def _correlation_rdm_upper(x: np.ndarray) -> np.ndarray:
    """Upper triangle (i < j) of the (1 - Pearson correlation between samples) matrix.

    A constant row has correlation 0 with every sample, i.e. dissimilarity 1.
    """
    hi, lo = x.max(axis=1), x.min(axis=1)
    z = x - x.mean(axis=1, keepdims=True)
    const = hi == lo
    z[const] = 0.0
    scale = np.abs(z).max(axis=1)  # avoid overflow in the norms
    scale[const] = 1.0
    z /= scale[:, None]
    norms = np.linalg.norm(z, axis=1)
    norms[const] = 1.0
    z /= norms[:, None]
    corr = z @ z.T
    iu = np.triu_indices(x.shape[0], 1)
    return 1.0 - np.clip(corr[iu], -1.0, 1.0)


#: RSA ranks dissimilarities rounded to this fraction of their largest value (about 1e-9).
RSA_TIE_TOLERANCE = 2.0**-30


def _tied_ranks(d: np.ndarray) -> np.ndarray:
    """Average ranks (float64) of ``d`` after rounding to ``RSA_TIE_TOLERANCE * max |d|``.

    Dissimilarities that are equal in exact arithmetic but differ by rounding (duplicate
    samples, symmetric stimuli, a rescaled copy of the data) become exact ties, so the ranks
    do not depend on the input's scale or on the order of floating-point operations.
    """
    from scipy.stats import rankdata  # deferred: scipy.stats is slow to import

    top = float(np.abs(d).max()) if d.size else 0.0
    if top == 0.0:
        return np.full(d.shape, (d.size + 1) / 2.0)
    return rankdata(np.round(d / (top * RSA_TIE_TOLERANCE)))


def rsa(x, y) -> float:
    """Representational similarity analysis: rank correlation of the two RDMs.

    Each representation's representational dissimilarity matrix (RDM) is
    ``1 - Pearson correlation`` between its samples (rows, correlated across units); the
    result is the Spearman correlation between the upper triangles of the two RDMs.

    Ties are handled by definition: before ranking, each RDM is rounded to multiples of
    ``RSA_TIE_TOLERANCE`` (2**-30, about 1e-9) times its largest dissimilarity, so
    dissimilarities equal up to rounding are exact ties and receive their average rank.
    Identical RDMs therefore give exactly 1 at any scale or offset of the inputs.

    Parameters
    ----------
    x : array-like of shape (n_samples, d1)
    y : array-like of shape (n_samples, d2)

    Returns
    -------
    float
        In [-1, 1]. A sample whose units are all equal (a constant row, e.g. all zero) has
        correlation 0, i.e. dissimilarity 1, with every other sample. NaN when an RDM is
        constant (e.g. a single unit, or every row constant): Spearman is undefined there.

    Raises
    ------
    NichelabError
        Bad arrays, different numbers of samples, ``n < 3``.

    Example
    -------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(30, 5))
    >>> round(rsa(x, 2 * x + 3), 10)
    1.0

    References
    ----------
    Kriegeskorte, Mur & Bandettini 2008, "Representational similarity analysis --
    connecting the branches of systems neuroscience", Front. Syst. Neurosci.
    """
    x, y, _ = _pair(x, y, 3, "RSA")
    rx = _tied_ranks(_correlation_rdm_upper(x))
    ry = _tied_ranks(_correlation_rdm_upper(y))
    rx -= rx.mean()
    ry -= ry.mean()
    den = math.sqrt(float(rx @ rx)) * math.sqrt(float(ry @ ry))
    if den == 0.0:
        return math.nan
    return float(np.clip(rx @ ry / den, -1.0, 1.0))


_PAIRWISE = {
    "cca": lambda a, b: cca(a, b).mean_rho,
    "svcca": svcca,
    "pwcca": pwcca,
    "procrustes_distance": procrustes_distance,
    "rsa": rsa,
}
_MATRIX_MEASURES = {"linear_cka", "rbf_cka", *_PAIRWISE}
