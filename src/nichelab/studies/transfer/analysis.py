"""What one architecture's transfer experiment measured: accuracy curves and layer-by-layer CKA.

``ArchRun`` holds the trained base networks and cells; :func:`cka_by_layer` compares baseA's and
baseB's hidden layers on B's test inputs (linear CKA, Kornblith et al. 2019), beside two
references: baseB against baseB of another seed (same task, other seed) and baseB against the
untrained network whose blocks the random control freezes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...capture import capture
from ...metrics.similarity import linear_cka
from .config import CONDITIONS, REF_SEED, REF_UNTRAINED
from .protocol import BaseNets, Cell

__all__ = ["ArchRun", "CkaResult", "cka_by_layer", "stats", "flatten_acts", "REF_SEED", "REF_UNTRAINED"]



def nanmean(a, axis=None):
    """Mean ignoring NaN (diverged seeds); NaN, without a warning, where every value is NaN."""
    a = np.asarray(a, dtype=np.float64)
    n = np.isfinite(a).sum(axis=axis)
    total = np.where(np.isfinite(a), a, 0.0).sum(axis=axis)
    with np.errstate(all="ignore"):
        out = np.where(n > 0, total / np.maximum(n, 1), np.nan)
    return float(out) if np.ndim(out) == 0 else out


def stats(values) -> dict:
    """Mean, standard deviation over seeds (ddof=1; 0 for one seed), min, max and the values.

    Diverged seeds (NaN values) are left out of mean, std, min and max and counted in ``diverged``;
    all four are NaN when every seed diverged.
    """
    v = np.asarray(values, dtype=np.float64)
    ok = v[np.isfinite(v)]
    sd = float(ok.std(ddof=1)) if ok.size > 1 else (0.0 if ok.size else float("nan"))
    nan = float("nan")
    out = {"mean": float(ok.mean()) if ok.size else nan, "std": sd, "min": float(ok.min()) if ok.size else nan,
           "max": float(ok.max()) if ok.size else nan, "values": v.tolist()}
    if ok.size < v.size:
        out["diverged"] = int(v.size - ok.size)
    return out


def flatten_acts(acts: dict) -> dict:
    """Every layer as (n_samples, n_features): conv maps (n, C, H, W) flattened to C*H*W features."""
    return {k: np.asarray(a).reshape(len(a), -1) for k, a in acts.items()}


@dataclass
class CkaResult:
    """Linear CKA between networks, per hidden layer, on B's test inputs.

    Attributes
    ----------
    layers : list of str
        Hidden blocks L1..L{L-1}.
    rows : dict of str -> np.ndarray of shape (S, n_layers)
        ``"A: <source>"`` rows compare baseA with baseB of the same seed; :data:`REF_SEED`
        compares baseB of seed i with baseB of the next seed; :data:`REF_UNTRAINED` compares
        baseB with the untrained network of the same seed.
    debiased : dict of str -> np.ndarray of shape (S, n_layers)
        The same with debiased HSIC (Song et al. 2012), near 0 for unrelated representations.
    n_samples : int
    """

    layers: list
    rows: dict
    debiased: dict
    n_samples: int

    def mean(self, row: str, debiased: bool = False) -> np.ndarray:
        """Mean over seeds of one row: (n_layers,)."""
        return nanmean((self.debiased if debiased else self.rows)[row], axis=0)


def _cka_rows(pairs, layers: list, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pairs: list of (model_x, model_y) -> (len(pairs), n_layers) biased and debiased CKA.

    A pair is None (left NaN) when either network diverged; a layer whose activations are not
    finite (huge weights overflowing) is left NaN too.
    """
    out = np.full((len(pairs), len(layers)), np.nan)
    deb = np.full_like(out, np.nan)
    cache: dict = {}

    def acts(m):
        if id(m) not in cache:
            cache[id(m)] = flatten_acts(capture(m, X, layers=layers))
        return cache[id(m)]
    for i, pair in enumerate(pairs):
        if pair is None:
            continue
        ax, ay = acts(pair[0]), acts(pair[1])
        for j, name in enumerate(layers):
            if not (np.isfinite(ax[name]).all() and np.isfinite(ay[name]).all()):
                continue
            out[i, j] = linear_cka(ax[name], ay[name])
            deb[i, j] = linear_cka(ax[name], ay[name], debiased=True)
    return out, deb


def cka_by_layer(base_a: dict, base_b: BaseNets, untrained: list, X: np.ndarray, layers: list) -> CkaResult:
    """Linear CKA between baseA and baseB (same seed), layer by layer, with two references.

    Parameters
    ----------
    base_a : dict of str -> BaseNets
        baseA per source task.
    base_b : BaseNets
    untrained : list of nn.Module
        Per seed, the untrained target network (the random control's frozen blocks).
    X : np.ndarray of shape (n_samples, ...)
        B's test inputs.
    layers : list of str
        Hidden blocks to compare.

    Returns
    -------
    CkaResult
    """
    S = len(base_b.ensemble.seeds)
    mb = [None if base_b.diverged[i] else base_b.ensemble.model(i) for i in range(S)]

    def zipped(xs, ys):
        return [None if x is None or y is None else (x, y) for x, y in zip(xs, ys)]
    rows, deb = {}, {}
    for src, base in base_a.items():
        ma = [None if base.diverged[i] else base.ensemble.model(i) for i in range(S)]
        rows[f"A: {src}"], deb[f"A: {src}"] = _cka_rows(zipped(ma, mb), layers, X)
    if S >= 2:
        rows[REF_SEED], deb[REF_SEED] = _cka_rows(zipped(mb, [mb[(i + 1) % S] for i in range(S)]), layers, X)
    rows[REF_UNTRAINED], deb[REF_UNTRAINED] = _cka_rows(zipped(untrained, mb), layers, X)
    return CkaResult(list(layers), rows, deb, len(X))


@dataclass
class ArchRun:
    """Everything measured for one architecture.

    Attributes
    ----------
    spec : str
        Model spec, e.g. ``"mlp 64-64-64"``.
    blocks : list of str
        ``L1 .. LL``; cuts are 1..L-1.
    base_b : BaseNets
    base_a : dict of str -> BaseNets
        Per source task text, in the order of the config.
    cells : list of Cell
    cka : CkaResult
    timings : dict of str -> float (seconds)
    """

    spec: str
    blocks: list
    base_b: BaseNets
    base_a: dict
    cells: list
    cka: CkaResult
    timings: dict = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.spec.split()[0]

    @property
    def cuts(self) -> list[int]:
        return list(range(1, len(self.blocks)))

    def cell(self, condition: str, n: int, source: str | None = None) -> Cell:
        """The cell of ``condition`` at cut ``n`` (``source`` for AnB / AnB+)."""
        for c in self.cells:
            if c.condition == condition and c.n == n and (c.source == source or c.source is None):
                return c
        raise KeyError(f"{condition} n={n} source={source}")

    def curve(self, condition: str, source: str | None = None) -> np.ndarray:
        """Accuracy on B's test set per cut and seed: (n_cuts, S)."""
        return np.stack([self.cell(condition, n, source).accuracy for n in self.cuts])

    def means(self, condition: str, source: str | None = None) -> np.ndarray:
        """Mean accuracy over the seeds that did not diverge, per cut: (n_cuts,) (NaN where all diverged)."""
        return nanmean(self.curve(condition, source), axis=1)

    @property
    def base_mean(self) -> float:
        """Mean accuracy of baseB on B's test set over the seeds that did not diverge."""
        return nanmean(self.base_b.accuracy)

    def diverged_counts(self) -> dict:
        """Diverged seeds: ``{"baseB": k, "baseA/<source>": k, "<cell key>": k}`` (nonzero entries only)
        and ``not_measured``: keys of the cells whose base network diverged in every seed."""
        counts = {"baseB": int(self.base_b.diverged.sum())}
        counts.update({f"baseA/{s}": int(b.diverged.sum()) for s, b in self.base_a.items()})
        counts.update({c.key: int(c.diverged.sum()) for c in self.cells})
        return {"seeds": {k: v for k, v in counts.items() if v},
                "not_measured": [c.key for c in self.cells if c.not_measured]}

    def cell_records(self) -> list[dict]:
        """One record per cell and the base networks: condition, n, source, accuracy stats."""
        recs = [{"condition": "baseB", "n": None, "source": None, "accuracy": stats(self.base_b.accuracy)}]
        for src, b in self.base_a.items():
            recs.append({"condition": "baseA", "n": None, "source": src,
                         "accuracy_on_A": stats(b.accuracy)})
        order = {c: i for i, c in enumerate(CONDITIONS)}
        for c in sorted(self.cells, key=lambda c: (c.n, order[c.condition], c.source or "")):
            recs.append({"condition": c.condition, "n": c.n, "source": c.source, "accuracy": stats(c.accuracy),
                         "seeds": c.seeds, "order_seeds": c.order_seeds, "frozen_parameters": c.frozen,
                         "final_train_loss": c.train_loss[:, -1] if c.train_loss.size else []})
            if c.diverged.any():
                recs[-1]["diverged"] = c.diverged
                recs[-1]["status"] = ("not measured (base diverged)" if c.not_measured else
                                      f"{int(c.diverged.sum())} of {c.diverged.size} seeds diverged, left out")
        return recs
