"""Exact linear CKA between every pair of layers, in one pass over the data in batches.

:class:`StreamingCKA` accumulates, per layer, only feature-space statistics (column sums,
``X'X``, cross products ``Y'X`` and a few per-sample row-norm terms), never an n x n matrix,
so memory is O(D^2) for D units in total whatever the number of samples, and the result
equals the full-data :func:`nichelab.metrics.linear_cka` (biased or debiased) to rounding at
any batch size. :func:`streaming_cka` is the functional form.

Derivation. With ``Xc`` the column-centred data (mean over all n samples), ``K = Xc Xc'``,
``a_i = ||xc_i||^2`` (diag K) and the same for ``L``, ``b``: because ``K 1 = 0``,

* ``tr(KL) = ||Yc'Xc||_F^2`` with ``Yc'Xc = Y'X - n nu mu'`` (mu, nu the column means);
* with ``K~`` = K with zero diagonal: ``tr(K~L~) = tr(KL) - a.b``, ``1'K~1 = -sum(a)``,
  ``1'K~L~1 = a.b``;
* ``sum(a) = tr(X'X) - n ||mu||^2`` and, with ``r_i = ||x_i||^2``, ``p_i = x_i.mu``,
  ``m = ||mu||^2`` (``q_i``, ``s_i``, ``w`` for y): ``a_i = r_i - 2 p_i + m`` and
  ``a.b = sum r q - 2 sum r s + w sum r - 2 sum p q + 4 mu'X'Y nu - 2 n m w + m sum q
  - 2 n m w + n m w``, where ``sum r s = (sum_i r_i y_i).nu`` and
  ``sum p q = (sum_i q_i x_i).mu``.

So each layer needs ``sum x``, ``X'X``, ``sum r``, and each pair ``X'Y``, ``sum r q`` and
``sum_i r_i y_i`` -- all sums over samples, accumulated batch by batch in float64.

Precision. Before accumulating, every layer is shifted by its first sample (so the
means above are of the order of the spread and ``Y'X - n nu mu'`` does not cancel, even for
offsets of 1e6; a constant unit becomes exactly 0) and scaled by a power of two (exact)
chosen from the data seen; when a later batch is far larger (beyond 2**64) the statistics
already accumulated are rescaled, so batches of any magnitude never overflow.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from ..errors import NichelabError
from ._checks import CHUNK_ELEMENTS, acts_array
from ._validate import check_min_samples
from .similarity import linear_hsic_from_terms

__all__ = ["StreamingCKA", "streaming_cka"]

#: A layer is rescaled when a batch exceeds its current scale by more than 2**this.
_RESCALE_BITS = 64


def _layer_dict(acts, name: str) -> dict[str, np.ndarray]:
    """Validate one batch of one model: {layer: (batch, units) real finite array}."""
    if not isinstance(acts, Mapping) or len(acts) == 0:
        got = "dict of length 0" if isinstance(acts, Mapping) else type(acts).__name__
        raise NichelabError(
            f"{name} must be a non-empty dict {{layer name: (batch, n_units) array}}; got {got}"
        )
    out = {}
    for key, value in acts.items():
        label = f"{name}[{str(key)!r}]"
        arr = acts_array(value, label)
        if arr.shape[1] == 0:
            raise NichelabError(f"{label} must have at least one unit; got shape {arr.shape}")
        out[str(key)] = arr
    return out


def _blas():
    from scipy.linalg import blas  # deferred: keeps `import nichelab.metrics` light

    return blas


def _syrk(a: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``c += a' a`` in place (upper triangle) for Fortran-ordered float64 ``a`` and ``c``."""
    return _blas().dsyrk(1.0, a, beta=1.0, c=c, trans=1, overwrite_c=1)


def _symmetric(upper: np.ndarray) -> np.ndarray:
    """The symmetric matrix whose upper triangle is that of ``upper``."""
    u = np.triu(upper)
    return u + np.triu(u, 1).T


class StreamingCKA:
    """Exact linear CKA between every layer of one or two models, accumulated over batches.

    Call :meth:`update` once per batch with the activations of every layer (e.g. from
    forward hooks), then :meth:`compute`. Each layer's statistics are computed once per
    batch and reused for every pair it belongs to. Batches may have any size (even 1) and
    any real dtype (float32 is converted batch by batch; everything accumulates in float64).

    Memory: with ``D`` the total number of units, one (D, D) float64 matrix for one model, or
    the per-layer (d, d) blocks plus one (D_a, D_b) matrix for two models, plus a 16 MB
    staging buffer: small batches are gathered there and accumulated together, so the matrix
    products stay large whatever the batch size. Time O(n_samples * D^2) in total.

    Attributes
    ----------
    names_a, names_b : list of str
        Layer names in the order of the first batch (``names_b is names_a`` for one model).
    n_samples : int
    n_batches : int

    Example
    -------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(100, 5))
    >>> q, _ = np.linalg.qr(rng.normal(size=(5, 5)))      # a rotation: CKA is invariant to it
    >>> acc = StreamingCKA()
    >>> for start in range(0, 100, 32):
    ...     xb = x[start:start + 32]
    ...     acc.update({"L1": xb, "L2": 2 * xb @ q})
    >>> np.round(acc.compute(), 10).tolist()
    [[1.0, 1.0], [1.0, 1.0]]

    References
    ----------
    Kornblith, Norouzi, Lee & Hinton 2019, "Similarity of neural network representations
    revisited", ICML (linear CKA). Song, Smola, Gretton, Bedo & Borgwardt 2012, "Feature
    selection via dependence maximization", JMLR 13 (unbiased HSIC).
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every batch seen so far (and the layer names)."""
        self.names_a: list[str] = []
        self.names_b: list[str] = []
        self.n_samples = 0
        self.n_batches = 0
        self._two = False
        self._slices: list[slice] = []   # column slice of every block (A layers, then B layers)
        self._n_a = 0                    # number of A blocks
        self._d_a = 0                    # number of A columns

    # ------------------------------------------------------------------ update

    def _start(self, a: dict, b: dict | None) -> None:
        self.names_a = list(a)
        self._two = b is not None
        self.names_b = list(b) if self._two else self.names_a
        widths = [v.shape[1] for v in a.values()] + ([v.shape[1] for v in b.values()] if self._two else [])
        edges = np.concatenate([[0], np.cumsum(widths)]).astype(int)
        self._slices = [slice(int(lo), int(hi)) for lo, hi in zip(edges[:-1], edges[1:])]
        self._n_a = len(a)
        self._d_a = int(edges[len(a)])
        k, d = len(widths), int(edges[-1])
        self._width = widths
        self._shift = np.concatenate([np.asarray(v[0], dtype=np.float64) for v in
                                      list(a.values()) + (list(b.values()) if self._two else [])])
        self._exp = np.zeros(k, dtype=int)
        self._seen = np.zeros(k, dtype=bool)      # a nonzero (shifted) value seen in this block
        self._sum = np.zeros(d)
        # staging rows for small batches: about CHUNK_ELEMENTS float64 values (16 MB)
        self._stage = np.empty((max(1, CHUNK_ELEMENTS // d), d), order="F")
        self._staged = 0
        self._rr = np.zeros((k, k))
        self._rz = np.zeros((k, d))
        self._rs = np.zeros(k)
        # Fortran order: BLAS accumulates into them in place (beta=1), no temporaries;
        # syrk fills the upper triangle only (symmetrised in _block).
        if self._two:
            self._diag = [np.zeros((w, w), order="F") for w in widths]
            self._cross = np.zeros((self._d_a, d - self._d_a), order="F")
        else:
            self._gram = np.zeros((d, d), order="F")

    def _check_layout(self, a: dict, b: dict | None) -> None:
        if (b is not None) != self._two:
            raise NichelabError(
                "acts_b must be given in every update or in none; the first batch had "
                f"acts_b={'a dict' if self._two else 'None'}, this one {'a dict' if b is not None else 'None'}"
            )
        for side, layers, names, offset in (("acts_a", a, self.names_a, 0),
                                            ("acts_b", b, self.names_b, self._n_a)):
            if layers is None:
                continue
            if list(layers) != names:
                raise NichelabError(
                    f"{side} must hold the same layers in every batch, in the same order; first "
                    f"batch had {names}, got {list(layers)}"
                )
            for i, (name, arr) in enumerate(layers.items()):
                if arr.shape[1] != self._width[offset + i]:
                    raise NichelabError(
                        f"{side}[{name!r}] must keep its number of units across batches; first "
                        f"batch had {self._width[offset + i]}, got shape {arr.shape}"
                    )

    def _rescale(self, k: int, shift: int) -> None:
        """Multiply every statistic of block ``k`` by ``2**shift`` per degree in block ``k``."""
        f, f2 = math.ldexp(1.0, shift), math.ldexp(1.0, 2 * shift)
        sl = self._slices[k]
        if self._staged:
            self._stage[:self._staged, sl] *= f
        self._sum[sl] *= f
        self._rr[k, :] *= f2
        self._rr[:, k] *= f2
        self._rz[k, :] *= f2
        self._rz[:, sl] *= f
        self._rs[k] *= f2
        if not self._two:
            self._gram[sl, :] *= f
            self._gram[:, sl] *= f
            return
        self._diag[k] *= f2
        if k < self._n_a:
            self._cross[sl, :] *= f
        else:
            self._cross[:, sl.start - self._d_a:sl.stop - self._d_a] *= f

    def _fill(self, arrays: list[np.ndarray], z: np.ndarray) -> None:
        """Write the shifted, scaled float64 batch into ``z`` (batch, D); update the block scales."""
        for k, (arr, sl) in enumerate(zip(arrays, self._slices)):
            block = z[:, sl]
            np.subtract(arr, self._shift[sl], out=block)
            top = max(float(block.max()), -float(block.min()))
            if top > 0:
                e = int(np.frexp(top)[1])
                if not self._seen[k]:
                    self._exp[k], self._seen[k] = e, True
                elif e > self._exp[k] + _RESCALE_BITS:
                    self._rescale(k, int(self._exp[k]) - e)
                    self._exp[k] = e
            if self._exp[k]:
                np.ldexp(block, -int(self._exp[k]), out=block)

    def _accumulate(self, z: np.ndarray) -> None:
        """Add the statistics of the prepared rows ``z`` (m, D), Fortran-ordered."""
        r = np.stack([np.einsum("ij,ij->i", z[:, sl], z[:, sl]) for sl in self._slices], axis=1)
        self._sum += z.sum(axis=0)
        self._rr += r.T @ r
        self._rz += r.T @ z
        self._rs += r.sum(axis=0)
        if self._two:
            for k, sl in enumerate(self._slices):
                self._diag[k] = _syrk(z[:, sl], self._diag[k])
            self._cross = _blas().dgemm(1.0, z[:, :self._d_a], z[:, self._d_a:], beta=1.0,
                                        c=self._cross, trans_a=1, overwrite_c=1)
        else:
            self._gram = _syrk(z, self._gram)

    def _flush(self) -> None:
        """Accumulate the staged rows (small batches are gathered so BLAS sees large products)."""
        if self._staged:
            self._accumulate(np.asfortranarray(self._stage[:self._staged]))
            self._staged = 0

    def update(self, acts_a: Mapping[str, np.ndarray], acts_b: Mapping[str, np.ndarray] | None = None) -> None:
        """Add one batch of activations.

        Parameters
        ----------
        acts_a : dict of str -> array-like of shape (batch, d_layer)
            Every layer of model A on the batch (any real dtype; float32 is fine).
        acts_b : dict of str -> array-like of shape (batch, d_layer), optional
            Every layer of model B on the *same* samples. Omit (in every call) for the
            layers-by-layers matrix of one model.

        Raises
        ------
        NichelabError
            Not a non-empty dict; a layer not 2-D, without units, non-real or with NaN / inf;
            layers with different numbers of samples; layer names, order or widths different
            from the first batch; ``acts_b`` given in some calls and not in others.
        """
        a = _layer_dict(acts_a, "acts_a")
        b = None if acts_b is None else _layer_dict(acts_b, "acts_b")
        arrays = list(a.values()) + (list(b.values()) if b is not None else [])
        labels = [f"acts_a[{k!r}]" for k in a] + ([f"acts_b[{k!r}]" for k in b] if b is not None else [])
        for label, arr in zip(labels, arrays):
            if arr.shape[0] != arrays[0].shape[0]:
                raise NichelabError(
                    f"every layer of a batch must have the same number of samples; got "
                    f"{labels[0]} {arrays[0].shape} and {label} {arr.shape}"
                )
        if self.n_batches == 0:
            self._start(a, b)
        else:
            self._check_layout(a, b)
        m = arrays[0].shape[0]
        if self._staged + m > len(self._stage):
            self._flush()
        if m > len(self._stage):        # a large batch goes straight through
            z = np.empty((m, self._sum.size), order="F")
            self._fill(arrays, z)
            self._accumulate(z)
        else:
            self._fill(arrays, self._stage[self._staged:self._staged + m])
            self._staged += m
        self.n_samples += m
        self.n_batches += 1

    # ------------------------------------------------------------------ compute

    def _block(self, k: int, l: int) -> np.ndarray:
        """Uncentred (shifted, scaled) ``X_k' X_l`` from the accumulated statistics."""
        sk, sl = self._slices[k], self._slices[l]
        if not self._two:
            if sk.start <= sl.start:     # upper triangle (syrk), or the diagonal block
                g = self._gram[sk, sl]
                return _symmetric(g) if k == l else g
            return self._gram[sl, sk].T
        if k == l:
            return _symmetric(self._diag[k])
        if k < self._n_a <= l:
            return self._cross[sk, sl.start - self._d_a:sl.stop - self._d_a]
        raise AssertionError("only within-block or A-B pairs are accumulated")

    def _hsic(self, k: int, l: int, debiased: bool) -> float:
        n = self.n_samples
        sk, sl = self._slices[k], self._slices[l]
        mu, nu = self._sum[sk] / n, self._sum[sl] / n
        g = self._block(k, l)
        tr = float(np.vdot(c := g - n * np.outer(mu, nu), c))
        if not debiased:
            return linear_hsic_from_terms(tr, 0.0, 0.0, 0.0, n, False)
        m, w = float(mu @ mu), float(nu @ nu)
        sa = float(np.trace(self._block(k, k))) - n * m
        sb = float(np.trace(self._block(l, l))) - n * w
        rs_k, rs_l = float(self._rs[k]), float(self._rs[l])
        ab = (float(self._rr[k, l]) - 2.0 * float(self._rz[k, sl] @ nu) + w * rs_k
              - 2.0 * float(self._rz[l, sk] @ mu) + 4.0 * float(mu @ g @ nu) + m * rs_l
              - 3.0 * n * m * w)
        return linear_hsic_from_terms(tr, ab, sa, sb, n, True)

    def compute(self, debiased: bool = False) -> np.ndarray:
        """Linear CKA of every layer of A with every layer of B, over all samples seen.

        Parameters
        ----------
        debiased : bool, default False
            Use the unbiased HSIC estimator (Song et al. 2012); needs ``n_samples >= 4``.

        Returns
        -------
        ndarray of shape (len(names_a), len(names_b)), float64
            Equal to ``linear_cka(all_a[layer_i], all_b[layer_j], debiased)`` for every pair:
            in [0, 1] when biased; NaN where a layer has no variance (every unit constant)
            or, debiased, where an estimated self-HSIC is not positive. The debiased value
            can be slightly negative and is not clipped.

        Raises
        ------
        NichelabError
            No batch seen, fewer than 2 samples (biased) or 4 (debiased).
        """
        if self.n_batches == 0:
            raise NichelabError("StreamingCKA.compute needs at least one update(); got 0 batches")
        check_min_samples(self.n_samples, 4 if debiased else 2,
                          "debiased CKA" if debiased else "CKA")
        self._flush()
        offset = self._n_a if self._two else 0
        ka, kb = range(self._n_a), range(offset, offset + len(self.names_b))
        with np.errstate(over="ignore", invalid="ignore"):
            self_h = {k: self._hsic(k, k, debiased) for k in set(ka) | set(kb)}
            out = np.empty((len(ka), len(kb)))
            cross: dict[tuple[int, int], float] = {}
            for i, k in enumerate(ka):
                for j, l in enumerate(kb):
                    hxx, hyy = self_h[k], self_h[l]
                    if not (hxx > 0 and hyy > 0):
                        out[i, j] = math.nan
                        continue
                    key = (min(k, l), max(k, l))
                    if key not in cross:
                        cross[key] = hxx if k == l else self._hsic(*key, debiased)
                    value = cross[key] / (math.sqrt(hxx) * math.sqrt(hyy))
                    out[i, j] = value if debiased else min(max(value, 0.0), 1.0)
        return out


def streaming_cka(batches: Iterable, debiased: bool = False) -> tuple[list[str], list[str], np.ndarray]:
    """Exact linear CKA between every pair of layers, from an iterable of batches.

    The functional form of :class:`StreamingCKA`: one pass, O(D^2) memory.

    Parameters
    ----------
    batches : iterable
        Each item is either ``acts_a`` (dict of str -> (batch, d_layer) array: the
        layers-by-layers matrix of one model) or a pair ``(acts_a, acts_b)`` of such dicts
        on the same samples (two models). A generator is consumed once.
    debiased : bool, default False
        Unbiased HSIC estimator; needs at least 4 samples in total.

    Returns
    -------
    names_a : list of str
    names_b : list of str
    matrix : ndarray of shape (len(names_a), len(names_b)), float64
        As :meth:`StreamingCKA.compute` (the same values as
        :func:`nichelab.metrics.cka_matrix` on the concatenated batches).

    Raises
    ------
    NichelabError
        As :meth:`StreamingCKA.update` and :meth:`StreamingCKA.compute`; an item that is
        neither a dict nor a pair of dicts.

    Example
    -------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(60, 4))
    >>> names_a, names_b, m = streaming_cka({"h": x[i:i + 25], "2h": 2 * x[i:i + 25]} for i in range(0, 60, 25))
    >>> names_a, np.round(m, 12).tolist()
    (['h', '2h'], [[1.0, 1.0], [1.0, 1.0]])

    References
    ----------
    Kornblith, Norouzi, Lee & Hinton 2019, "Similarity of neural network representations
    revisited", ICML.
    """
    acc = StreamingCKA()
    for item in batches:
        if isinstance(item, Mapping):
            acc.update(item)
        elif isinstance(item, tuple) and len(item) == 2:
            acc.update(item[0], item[1])
        else:
            raise NichelabError(
                "batches must yield dicts {layer: array} or pairs (acts_a, acts_b); got "
                f"{type(item).__name__}"
            )
    return acc.names_a, acc.names_b, acc.compute(debiased)
