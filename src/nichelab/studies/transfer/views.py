"""Figure-ready numbers of the transfer study, computed once here so figures only draw.

Accuracies are in percent (as drawn). Every view is plain data (lists, floats, strings) so that
it is stored in ``results.json`` as is: the tasks' example images (one per class), each
architecture's transfer curves beside its CKA curves (means and standard deviations over seeds,
the axis ranges and whether a zoomed row is drawn), and the cost of frozen transfer per cut.
"""
from __future__ import annotations

import numpy as np

from .analysis import ArchRun, nanmean
from .config import CONDITION_INFO, CONDITIONS

__all__ = ["ZOOM", "mean_interval", "tasks_view", "transfer_view", "cost_view"]

#: Percentage points below baseB's mean shown in the zoomed row of the transfer figure.
ZOOM = 6.0


def seed_std(a: np.ndarray, axis: int) -> np.ndarray:
    """Standard deviation over the seeds that did not diverge (ddof=1; 0 for one seed, NaN for none)."""
    a = np.asarray(a, dtype=np.float64)
    n = np.isfinite(a).sum(axis=axis)
    if a.shape[axis] <= 1 or (n == a.shape[axis]).all():
        return a.std(axis=axis, ddof=1) if a.shape[axis] > 1 else np.zeros(np.delete(a.shape, axis))
    m = nanmean(a, axis=axis)
    dev = np.where(np.isfinite(a), a - np.expand_dims(m, axis), 0.0)
    with np.errstate(all="ignore"):
        return np.where(n > 1, np.sqrt((dev ** 2).sum(axis=axis) / np.maximum(n - 1, 1)), np.where(n == 1, 0.0, np.nan))


def mean_interval(a: np.ndarray, axis: int = -1, bounds: tuple = (-np.inf, np.inf)) -> tuple[np.ndarray, np.ndarray]:
    """95% t interval of the mean over the seeds that did not diverge (NaN where fewer than 2 seeds).

    Parameters
    ----------
    a : array of float, seeds on ``axis``
    axis : int, default -1
    bounds : (float, float)
        The interval is clipped to these (accuracies in percent: 0 and 100).

    Returns
    -------
    lo, hi : arrays of float64, ``a``'s shape without ``axis``
        ``mean ± t(0.975, n - 1) · sd / sqrt(n)`` with ``sd`` the standard deviation (ddof=1) of the
        ``n`` finite values (Student 1908).
    """
    from scipy.stats import t
    a = np.moveaxis(np.asarray(a, dtype=np.float64), axis, -1)
    n = np.isfinite(a).sum(axis=-1)
    with np.errstate(all="ignore"):
        m = nanmean(a, axis=-1)
        sd = seed_std(a, -1)
        half = np.where(n >= 2, t.ppf(0.975, np.maximum(n - 1, 1)) * sd / np.sqrt(np.maximum(n, 1)), np.nan)
    return np.clip(m - half, *bounds), np.clip(m + half, *bounds)


def tasks_view(tasks: list) -> list[dict]:
    """One example image per class of every task, at the common size, as the networks see them.

    Parameters
    ----------
    tasks : list of (label, X (n, 1, H, W), y (n,), class_names)

    Returns
    -------
    list of dict
        ``{"label", "classes", "images": [(H, W) grey levels in [0, 1] per class, [] if none]}``;
        grey levels rounded to 4 decimals (they are drawn, not measured).
    """
    out = []
    for label, X, y, names in tasks:
        images = []
        for c in range(len(names)):
            idx = np.flatnonzero(np.asarray(y) == c)
            images.append(np.round(np.asarray(X[idx[0], 0], dtype=np.float64), 4).tolist() if idx.size else [])
        out.append({"label": label, "classes": list(names), "images": images})
    return out


def _curve(acc: np.ndarray) -> dict:
    a = 100 * np.asarray(acc, dtype=np.float64)
    lo, hi = mean_interval(a, 1, (0.0, 100.0))
    return {"per_seed": a.tolist(), "mean": nanmean(a, axis=1).tolist(), "std": seed_std(a, 1).tolist(),
            "lo": lo.tolist(), "hi": hi.tolist(), "n_seeds": np.isfinite(a).sum(axis=1).tolist()}


def _cka_rows(run: ArchRun) -> list[dict]:
    rows = []
    for name, v in run.cka.rows.items():
        v = np.asarray(v, dtype=np.float64)
        sd = seed_std(v, 0) if v.shape[0] > 1 else np.zeros(v.shape[1])
        lo, hi = mean_interval(v, 0, (0.0, 1.0))
        rows.append({"row": name, "source": name[3:] if name.startswith("A: ") else None,
                     "mean": nanmean(v, axis=0).tolist(), "std": sd.tolist(), "lo": lo.tolist(), "hi": hi.tolist()})
    return rows


def transfer_view(run: ArchRun, pairs: dict, title: str) -> dict:
    """The transfer figure of one architecture: one panel per source task, CKA beside them.

    Parameters
    ----------
    run : ArchRun
    pairs : dict of source text -> panel title (e.g. ``"digits 0–4 → digits 5–9 (similar)"``)
    title : str

    Returns
    -------
    dict
        ``cuts``; ``base`` (baseB per seed, mean, std with ddof=0 for the band); ``panels`` (title
        and, per condition, per-seed, mean and std curves in percent); ``zoomed`` (draw a second
        row within ``zoom`` points of baseB: some curves fall far below baseB while others stay
        near it); ``ylim`` and ``ylim_zoom``; ``cka`` (layers; per row mean and std over seeds).
    """
    base = 100 * np.asarray(run.base_b.accuracy, dtype=np.float64)
    b = nanmean(base)
    panels = []
    for src, ptitle in pairs.items():
        curves = {c: _curve(run.curve(c, src if CONDITION_INFO[c][0] == "A" else None)) for c in CONDITIONS}
        panels.append({"title": ptitle, "source": src, "curves": curves})
    means = np.concatenate([np.asarray(c["mean"]) for p in panels for c in p["curves"].values()])
    finite = [v for p in panels for c in p["curves"].values() for v in np.ravel(c["per_seed"]) if np.isfinite(v)]
    finite += [v for v in base if np.isfinite(v)]
    lowest = min(finite) if finite else 0.0               # every seed diverged: the full range
    zoomed = bool(np.any(means < b - 2 * ZOOM) and np.sum(means >= b - ZOOM) >= 2)
    return {"title": title, "cuts": list(run.cuts), "zoom": ZOOM, "zoomed": zoomed,
            "base": {"per_seed": base.tolist(), "mean": b,
                     "std": float(np.nanstd(base)) if np.isfinite(base).any() else float("nan"),
                     **dict(zip(("lo", "hi"), (float(x) for x in mean_interval(base, 0, (0.0, 100.0))))),
                     "n_seeds": int(np.isfinite(base).sum())},
            "panels": panels,
            "ylim": [max(0.0, float(np.floor(lowest / 5) * 5 - 2)), 101.0],
            "ylim_zoom": ([max(0.0, b - ZOOM), min(100.5, b + max(2.0, ZOOM / 3))] if np.isfinite(b)
                          else [0.0, 101.0]),
            "cka": {"layers": list(run.cka.layers), "rows": _cka_rows(run)}}


def cost_view(runs: list[ArchRun], labels: dict, kinds: dict, margin: float) -> dict | None:
    """Cost of frozen transfer (baseB − AnB, points) per cut, one line per (architecture, source task),
    and the cost of the random control (baseB − random frozen layers) per architecture.

    Returns None when the architectures have different cuts (no common axis). ``controls``: one
    ``{"model", "mean", "std", "lo", "hi"}`` per architecture, in points. ``lo``/``hi`` (lines and
    controls): the 95% Welch interval of baseB's mean minus the condition's mean over seeds, per cut
    (:func:`nichelab.studies.transfer.findings.diff`, as the findings use; NaN with one seed).
    """
    from .findings import diff
    if len({len(r.cuts) for r in runs}) != 1:
        return None

    def interval(run, cond, source=None):
        ds = [diff(run.base_b.accuracy, run.cell(cond, n, source).accuracy) for n in run.cuts]
        return {"lo": [100 * d.lo for d in ds], "hi": [100 * d.hi for d in ds]}

    lines = []
    for run in runs:
        for s in run.base_a:
            c = 100 * (run.base_mean - run.curve("AnB", s))
            lines.append({"model": run.spec, "source": s, "label": labels[s], "kind": kinds[s],
                          "mean": nanmean(c, axis=1).tolist(), "std": seed_std(c, 1).tolist(),
                          **interval(run, "AnB", s)})
    controls = []
    for run in runs:
        c = 100 * (run.base_mean - run.curve("random"))
        controls.append({"model": run.spec, "mean": nanmean(c, axis=1).tolist(), "std": seed_std(c, 1).tolist(),
                         **interval(run, "random")})
    return {"title": "cost of frozen transfer from A, by cut, beside random frozen layers", "cuts": list(runs[0].cuts),
            "margin_points": 100 * float(margin), "lines": lines, "controls": controls}
