"""Figures of the width study: the unit census against width, and the blob units' lines.

Every function takes already-computed arrays and returns PNG bytes; nothing here measures.
"""
from __future__ import annotations

import numpy as np

from ..style import OKABE_ITO, class_marker, new_figure, to_png

__all__ = ["PANELS", "fig_census", "fig_unit_lines", "SPLIT_ORDER"]

#: (measure key, y-axis label, scale to percent?) of the census panels, in reading order.
PANELS = [("accuracy", "accuracy on held-out data (%)", True),
          ("dead", "dead units (% of units)", True),
          ("dup_units", "live units with a near-duplicate (%)", True),
          ("partitions", "distinct class splits (blobs)", False),
          ("participation", "participation ratio\n(effective dimensions)", False),
          ("frivolous", "units removable for < 0.5% accuracy (%)", True)]
_MARKERS = {"blobs": "o", "digits": "s"}
_LINES = {"blobs": "-", "digits": "--"}
#: Every split of 4 classes, then the trivial one: a fixed colour per split.
SPLIT_ORDER = ["{0,1}|{2,3}", "{0,2}|{1,3}", "{0,3}|{1,2}", "{0}|{1,2,3}", "{0,2,3}|{1}", "{0,1,3}|{2}",
               "{0,1,2}|{3}", "{0,1,2,3}|{}"]
#: Line style per split, paired with ``OKABE_ITO[j]``: the two blues (0 and 4) get different styles, so no two
#: splits share both a similar colour and a style.
_SPLIT_STYLES = ["-", "--", ":", "-.", "-.", ":", "--", "-"]


def fig_census(widths: list[int], series: dict, labels: dict | None = None, frivolous_label: str | None = None,
               n_splits: int = 7) -> bytes:
    """Six panels against hidden width (log scale): mean over seeds, bars from the lowest to the highest seed.

    Parameters
    ----------
    widths : list of int
    series : dict of dataset -> dict of measure -> (mean, lo, hi), each (n_widths,)
        Measures as in :data:`PANELS`; NaN values are not drawn.
    frivolous_label : str, optional
        Y label of the last panel (to state the cost threshold).
    n_splits : int
        Number of possible class splits, drawn as a reference line on the splits panel.
    """
    fig, axes = new_figure(3, 2, width=3.9, height=3.0)
    x = np.asarray(widths, dtype=float)
    for ax, (key, ylabel, percent) in zip(axes.flat, PANELS):
        for j, (name, meas) in enumerate(series.items()):
            mean, lo, hi = (np.asarray(v, dtype=float) for v in meas[key])
            if not np.isfinite(mean).any():
                continue
            k = 100.0 if percent else 1.0
            ok = np.isfinite(mean)
            ax.errorbar(x[ok], k * mean[ok], yerr=[k * (mean - lo)[ok], k * (hi - mean)[ok]], color=OKABE_ITO[j],
                        ls=_LINES.get(name, "-"), marker=_MARKERS.get(name, "^"), ms=5, capsize=2, lw=1.6,
                        label=(labels or {}).get(name, name))
        if key == "partitions":
            ax.axhline(n_splits, color="grey", ls=":", lw=1, label=f"all {n_splits} possible splits")
        if key == "participation":
            ax.plot(x, x, color="grey", ls=":", lw=1, label="one dimension per unit")
            ax.set_yscale("log", base=2)
        if key == "frivolous" and frivolous_label:
            ylabel = frivolous_label
        ax.set_xscale("log", base=2)
        ax.set_xticks(x, [str(w) for w in widths])
        ax.set_xlabel("hidden units (width)")
        ax.set_ylabel(ylabel)
        if percent:
            ax.set_ylim(-3, 103)
        ax.legend(fontsize=7, framealpha=0.9)
    return to_png(fig)


def _line(ax, w, b, xlim, ylim, **kw):
    xs = np.linspace(*xlim, 2)
    if abs(w[1]) > 1e-9:
        ax.plot(xs, -(w[0] * xs + b) / w[1], **kw)
    elif abs(w[0]) > 1e-9:
        ax.axvline(-b / w[0], **kw)


def fig_unit_lines(examples: list[dict], X: np.ndarray, y: np.ndarray) -> bytes:
    """For a few widths, every live unit's zero line over the blob data, coloured by the split it makes.

    Each example: ``{"width", "seed", "W": (H, 2), "b": (H,), "keys": [split key or "dead"] * H,
    "n_splits", "n_dead"}`` (the counts shown in the panel title).
    """
    xlim, ylim = (-8.0, 8.0), (-5.0, 4.0)
    fig, axes = new_figure(len(examples), 1, width=4.0, height=3.4)
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    for ax, ex in zip(axes.flat, examples):
        for c in np.unique(y):     # data in grey (shapes tell the classes): colours are for the splits
            ax.scatter(X[y == c, 0], X[y == c, 1], s=7, color="0.6", marker=class_marker(int(c)),
                       alpha=0.5, lw=0, label=f"class {c}")
        seen = set()
        for k in range(len(ex["b"])):
            key = ex["keys"][k]
            if key == "dead":
                continue
            j = SPLIT_ORDER.index(key) if key in SPLIT_ORDER else len(SPLIT_ORDER) - 1
            many = len(ex["b"]) > 32
            _line(ax, ex["W"][k], ex["b"][k], xlim, ylim, color=OKABE_ITO[j % 8], lw=0.8 if many else 1.4,
                  alpha=0.55 if many else 0.9,
                  ls=_SPLIT_STYLES[j % len(_SPLIT_STYLES)], label=None if key in seen else key)
            seen.add(key)
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_title(f"{ex['width']} units (seed {ex['seed']}): {ex['n_splits']} splits, {ex['n_dead']} dead",
                     fontsize=10)
        ax.set_xlabel("x0 (input feature, a.u.)")
        ax.set_ylabel("x1 (input feature, a.u.)")
        ax.legend(fontsize=6, loc="lower left", ncol=2, framealpha=0.85, title="unit lines: split", title_fontsize=6)
    return to_png(fig)
