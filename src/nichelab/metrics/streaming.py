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
offsets of 1e6; a constant unit becomes exactly 0) and, when its largest value lies outside
2**-60 .. 2**60, scaled by a power of two (exact) chosen from the data seen; when a later batch
is far larger (beyond 2**64) the statistics already accumulated are rescaled, so batches of
any magnitude never overflow.

Cost. The cross products ``X'Y`` (``2 n D_a D_b`` float64 operations for two models) dominate;
they and each layer's ``X'X`` are the least any exact method needs (the n x n Gram route needs
more). Incoming batches are gathered into chunks of about 2**21 / D rows, so each chunk costs one
``dgemm`` for all cross pairs whatever the batch size (see ``benchmarks/bench_cka_stream.py``
for the measured floor on a given machine).
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
#: A layer whose largest shifted magnitude lies within 2**-this .. 2**this is not scaled at all:
#: its fourth powers, summed over up to 2**53 samples, stay far inside the float64 range.
_FREE_BITS = 60


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


_CONTROLLER = None


def _one_blas_thread():
    """Context manager limiting BLAS to one thread.

    The per-layer ``X_k' X_k`` products (d x d with d of a few hundred) and the thin products
    of the per-sample terms are small; threaded BLAS spends more time synchronising than
    computing on them (``dsyrk`` measured 10x slower threaded on a busy 2-core machine), so
    they run unthreaded while the large cross product keeps every core.
    """
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController  # deferred, as scipy

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


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

    Speed: incoming rows are gathered in a 16 MB float64 staging buffer and accumulated a
    chunk at a time (about ``2**21 / D`` rows), so per-batch overhead vanishes even for
    batches of 1 and every chunk costs one matrix product for all cross pairs (``[X_1 ..
    X_L]' [Y_1 .. Y_M]``, threaded BLAS ``dgemm``), one symmetric rank-k update per layer
    (``dsyrk``; unthreaded, as they are small) or, for one model, one ``dsyrk`` of all layers
    together, and two thin products for the per-sample terms of every layer at once.
    Time is dominated by about ``2 n D_a D_b`` float64 operations for two models
    (``n D^2`` for one), the floor of any exact method that keeps d x d statistics.

    Memory: with ``D`` the total number of units, one (D, D) float64 matrix for one model, or
    the per-layer (d, d) blocks plus one (D_a, D_b) matrix for two models, plus the 16 MB
    staging buffer while batches arrive (freed by :meth:`compute`, allocated again by the next
    :meth:`update`). No copy of a batch is kept. Time O(n_samples * D^2) in total.

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
    selection via dependence maximization", JMLR 13 (unbiased HSIC); Nguyen, Raghu & Kornblith
    2021, "Do wide and deep networks learn the same things?", ICLR (debiased CKA of layers).
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
        self._edges = edges[:-1]
        self._n_a = len(a)
        self._d_a = int(edges[len(a)])
        k, d = len(widths), int(edges[-1])
        self._width = widths
        self._shift = np.concatenate([np.asarray(v[0], dtype=np.float64) for v in
                                      list(a.values()) + (list(b.values()) if self._two else [])])
        self._exp = np.zeros(k, dtype=int)
        self._seen = np.zeros(k, dtype=bool)      # a nonzero (shifted) value seen in this block
        self._sum = np.zeros(d)
        # staging rows: about CHUNK_ELEMENTS float64 values (16 MB), Fortran order so that every
        # layer's columns are contiguous for BLAS; _compact packs a partly filled buffer in place
        self._stage_rows = max(1, CHUNK_ELEMENTS // d)
        self._buf = self._stage = None            # allocated by the first update, freed by compute
        self._staged = 0
        self._rr = np.zeros((k, k))
        self._rz = np.zeros((k, d))
        self._rs = np.zeros(k)
        # Fortran order: BLAS accumulates into them in place (beta=1), no temporaries;
        # syrk fills the upper triangle only (symmetrised in compute).
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
        """Write the shifted, scaled float64 rows into ``z`` (rows, D); update the block scales.

        The largest shifted magnitude is found from the column extremes of the input in its
        own dtype (``fl(x - s)`` is monotone in ``x``, so it is exact), and a block is scaled
        (by a power of two, exact) only when that magnitude lies outside ``2**-60 .. 2**60``.
        """
        for k, (arr, sl) in enumerate(zip(arrays, self._slices)):
            shift = self._shift[sl]
            top = max(float(np.max(arr.max(axis=0) - shift)), float(np.max(shift - arr.min(axis=0))))
            if top > 0:
                e = int(np.frexp(top)[1])
                if not self._seen[k]:
                    self._exp[k] = e if abs(e) > _FREE_BITS else 0
                    self._seen[k] = True
                elif e > self._exp[k] + _RESCALE_BITS:
                    self._rescale(k, int(self._exp[k]) - e)
                    self._exp[k] = e
            block = z[:, sl]
            np.subtract(arr, shift, out=block)
            if self._exp[k]:
                np.ldexp(block, -int(self._exp[k]), out=block)

    def _accumulate(self, z: np.ndarray) -> None:
        """Add the statistics of the prepared rows ``z`` (m, D), Fortran-ordered."""
        m, k = z.shape[0], len(self._slices)
        r = np.empty((m, k + 1), order="F")      # squared row norm of every layer, and ones
        for i, sl in enumerate(self._slices):
            block = z[:, sl]
            np.einsum("ij,ij->i", block, block, out=r[:, i])
        r[:, k] = 1.0
        with _one_blas_thread():          # thin or small products: threads only add waiting
            rz = r.T @ z                  # sum_i r_i z_i for every layer, and the column sums
            rr = r.T @ r[:, :k]
            if self._two:
                for i, sl in enumerate(self._slices):
                    self._diag[i] = _syrk(z[:, sl], self._diag[i])
        self._rz += rz[:k]
        self._sum += rz[k]
        self._rr += rr[:k]
        self._rs += rr[k]
        if self._two:
            self._cross = _blas().dgemm(1.0, z[:, :self._d_a], z[:, self._d_a:], beta=1.0,
                                        c=self._cross, trans_a=1, overwrite_c=1)
        else:
            self._gram = _syrk(z, self._gram)

    def _compact(self, m: int) -> np.ndarray:
        """The first ``m`` staged rows as a Fortran-contiguous (m, D) view, packed in place."""
        rows, d = self._stage.shape
        buf = self._buf
        for j in range(1, d):             # column j moves left from j*rows to j*m
            buf[j * m:(j + 1) * m] = buf[j * rows:j * rows + m]
        return buf[:m * d].reshape((m, d), order="F")

    def _flush(self) -> None:
        """Accumulate the staged rows (small batches are gathered so BLAS sees large products)."""
        if self._staged:
            full = self._staged == self._stage_rows
            self._accumulate(self._stage if full else self._compact(self._staged))
            self._staged = 0

    def update(self, acts_a: Mapping[str, np.ndarray], acts_b: Mapping[str, np.ndarray] | None = None) -> None:
        """Add one batch of activations.

        Rows are staged and accumulated a chunk at a time; :meth:`compute` accumulates what
        is left, so batches of any size (1 or a million) cost the same per sample.

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
        if self._stage is None:
            self._buf = np.empty(self._stage_rows * self._sum.size)
            self._stage = self._buf.reshape((self._stage_rows, self._sum.size), order="F")
        m, rows, done = arrays[0].shape[0], self._stage_rows, 0
        while done < m:                   # a batch larger than the free rows is split
            take = min(m - done, rows - self._staged)
            part = arrays if take == m else [arr[done:done + take] for arr in arrays]
            self._fill(part, self._stage[self._staged:self._staged + take])
            self._staged += take
            done += take
            if self._staged == rows:
                self._flush()
        self.n_samples += m
        self.n_batches += 1

    # ------------------------------------------------------------------ compute

    def _symmetrise_gram(self) -> None:
        """Copy the upper triangle of the one-model Gram to its lower triangle, block by block.

        ``dsyrk`` reads and writes the upper triangle only, so later updates are unaffected.
        """
        g = self._gram
        for sl in self._slices:
            g[sl, sl] = _symmetric(g[sl, sl])
            g[sl.stop:, sl] = g[sl, sl.stop:].T

    def _hsic_blocks(self, g: np.ndarray, ks: list[int], ls: list[int], debiased: bool) -> np.ndarray:
        """HSIC of every pair (k in ``ks``, l in ``ls``) from ``g`` = uncentred ``X_ks' X_ls``.

        ``ks`` and ``ls`` are runs of consecutive blocks; ``g`` has their columns as rows and
        columns. Returns an array of shape (len(ks), len(ls)).
        """
        n = self.n_samples
        mean = self._sum / n
        r0, c0 = self._slices[ks[0]].start, self._slices[ls[0]].start
        c1 = self._slices[ls[-1]].stop
        col_edges = self._edges[ls] - c0
        nu = mean[c0:c1]
        tr = np.empty((len(ks), len(ls)))
        mgn = np.empty((len(ks), len(ls)))
        for i, k in enumerate(ks):
            sk = self._slices[k]
            rows = g[sk.start - r0:sk.stop - r0]
            mu = mean[sk]
            c = rows - n * np.outer(mu, nu)             # centred Y_l' X_k, all l at once
            tr[i] = np.add.reduceat(np.einsum("ij,ij->j", c, c), col_edges)
            if debiased:
                mgn[i] = np.add.reduceat((mu @ rows) * nu, col_edges)
        if not debiased:
            return linear_hsic_from_terms(tr, 0.0, 0.0, 0.0, n, False)
        sq = np.add.reduceat(mean * mean, self._edges)            # ||mu_k||^2 per block
        proj = np.add.reduceat(self._rz * mean, self._edges, axis=1)   # (sum_i r_ik z_i).mu_l
        ks_, ls_ = np.asarray(ks), np.asarray(ls)
        m, w = sq[ks_][:, None], sq[ls_][None, :]
        rs_k, rs_l = self._rs[ks_][:, None], self._rs[ls_][None, :]
        ab = (self._rr[np.ix_(ks_, ls_)] - 2.0 * proj[np.ix_(ks_, ls_)] + w * rs_k
              - 2.0 * proj[np.ix_(ls_, ks_)].T + 4.0 * mgn + m * rs_l - 3.0 * n * m * w)
        # sum_i a_i = tr(Xc'Xc) = sum_i r_i - n ||mu||^2
        return linear_hsic_from_terms(tr, ab, rs_k - n * m, rs_l - n * w, n, True)

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
        self._buf = self._stage = None            # the next update allocates it again
        k_all = len(self._slices)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if self._two:
                ka, kb = list(range(self._n_a)), list(range(self._n_a, k_all))
                cross = self._hsic_blocks(self._cross, ka, kb, debiased)
                own = np.array([self._hsic_blocks(_symmetric(self._diag[k]), [k], [k], debiased)[0, 0]
                                for k in range(k_all)])
                h_a, h_b = own[:self._n_a], own[self._n_a:]
            else:
                self._symmetrise_gram()
                cross = self._hsic_blocks(self._gram, list(range(k_all)), list(range(k_all)), debiased)
                h_a = h_b = np.diag(cross).copy()
            ok = (h_a > 0)[:, None] & (h_b > 0)[None, :]
            out = cross / (np.sqrt(np.where(h_a > 0, h_a, 1.0))[:, None]
                           * np.sqrt(np.where(h_b > 0, h_b, 1.0))[None, :])
        out = np.where(ok, out, math.nan)
        if not debiased:
            out = np.where(ok, np.clip(out, 0.0, 1.0), math.nan)
        return out


def streaming_cka(batches: Iterable, debiased: bool = False) -> tuple[list[str], list[str], np.ndarray]:
    """Exact linear CKA between every pair of layers, from an iterable of batches.

    The functional form of :class:`StreamingCKA`: one pass, O(D^2) memory, the same speed
    at any batch size (small batches are gathered into chunks before the products).

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
    revisited", ICML. Song, Smola, Gretton, Bedo & Borgwardt 2012, "Feature selection via
    dependence maximization", JMLR 13 (unbiased HSIC); Nguyen, Raghu & Kornblith 2021, "Do wide
    and deep networks learn the same things?", ICLR (debiased CKA).
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
