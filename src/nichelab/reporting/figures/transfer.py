"""Figures of the transfer study: transfer curves beside layer-by-layer CKA, and the tasks' images.

Every function takes already-measured arrays and returns PNG bytes; nothing here measures.
"""
from __future__ import annotations

import numpy as np

from ..style import OKABE_ITO, new_figure, to_png

__all__ = ["CONDITION_STYLE", "fig_transfer", "fig_tasks", "fig_cost"]

#: Colour, line style, marker and fill of each condition (blue: from baseB, vermillion: from
#: baseA, black: random; dashed with open markers: fine-tuned).
CONDITION_STYLE = {
    "BnB": dict(color=OKABE_ITO[0], ls="-", marker="o", mfc=OKABE_ITO[0]),
    "BnB+": dict(color=OKABE_ITO[4], ls="--", marker="o", mfc="white"),
    "AnB": dict(color=OKABE_ITO[5], ls="-", marker="s", mfc=OKABE_ITO[5]),
    "AnB+": dict(color=OKABE_ITO[1], ls="--", marker="s", mfc="white"),
    "random": dict(color=OKABE_ITO[7], ls=":", marker="^", mfc=OKABE_ITO[7]),
}
_LEGEND = {
    "baseB": "baseB: trained on B from scratch (line: mean, band: ± std)",
    "BnB": "BnB: L1..Ln from baseB, frozen",
    "BnB+": "BnB+: L1..Ln from baseB, fine-tuned",
    "AnB": "AnB: L1..Ln from baseA, frozen",
    "AnB+": "AnB+: L1..Ln from baseA, fine-tuned",
    "random": "random: L1..Ln random, frozen",
}
_OFFSET = {"BnB": -0.16, "BnB+": -0.08, "AnB": 0.0, "AnB+": 0.08, "random": 0.16}


def _curve_panel(ax, cuts, curves: dict, base: np.ndarray, title: str, ylim):
    """curves: condition -> (n_cuts, S) accuracy in [0, 1]; base: (S,) baseB accuracy."""
    x = np.asarray(cuts, dtype=float)
    b = 100 * np.asarray(base)
    ax.axhspan(b.mean() - b.std(), b.mean() + b.std(), color="0.85", zorder=0)
    ax.axhline(b.mean(), color="0.35", lw=1.2, zorder=1, label="baseB")
    for cond, acc in curves.items():
        st = CONDITION_STYLE[cond]
        a = 100 * np.asarray(acc)
        xs = x + _OFFSET[cond]
        for j in range(a.shape[1]):
            ax.scatter(xs, a[:, j], s=9, color=st["color"], alpha=0.45, lw=0, zorder=2)
        sd = a.std(axis=1, ddof=1) if a.shape[1] > 1 else np.zeros(len(x))
        ax.errorbar(xs, a.mean(axis=1), yerr=sd, color=st["color"], ls=st["ls"], marker=st["marker"],
                    mfc=st["mfc"], mec=st["color"], ms=6, lw=1.6, capsize=3, zorder=3, label=cond)
    ax.set_xticks(x, [f"{int(n)}" for n in cuts])
    ax.set_xlim(x[0] - 0.4, x[-1] + 0.4)
    ax.set_ylim(*ylim)
    ax.set_xlabel("cut n (blocks L1..Ln transferred or random)")
    ax.set_ylabel("test accuracy on B (%)")
    ax.set_title(title, fontsize=9.5)
    ax.grid(axis="y", color="0.9", lw=0.6)


def fig_transfer(cuts: list, panels: list, base: np.ndarray, cka: dict | None, cka_layers: list,
                 title: str, zoom: float = 6.0, source_names: dict | None = None) -> bytes:
    """Transfer curves of one architecture, one column per task pair, with the CKA curve beside them.

    The top row shows the whole accuracy range; when some curves fall far below baseB while
    others stay near it, a second row zooms in on ``zoom`` points below baseB.

    Parameters
    ----------
    cuts : list of int
    panels : list of (title, {condition: (n_cuts, S) accuracy in [0, 1]})
    base : (S,) baseB accuracy
    cka : dict of row name -> (S, n_layers) CKA, or None
        Rows starting with ``"A: "`` are baseA vs baseB; the others are references.
    cka_layers : list of str
    title : str
    zoom : float, default 6.0
        Percentage points below baseB's mean shown in the zoomed row.
    source_names : dict of str -> str, optional
        Readable names of the source tasks in the CKA legend.
    """
    ncols = len(panels) + (cka is not None)
    b = 100 * float(np.mean(base))
    means = np.concatenate([100 * np.asarray(a).mean(axis=1) for _, c in panels for a in c.values()])
    zoomed = bool(np.any(means < b - 2 * zoom) and np.sum(means >= b - zoom) >= 2)
    fig, axes = new_figure(ncols, 2 if zoomed else 1, width=4.1, height=3.0 if zoomed else 3.6)
    lo = min(100 * min(np.min(a) for _, c in panels for a in c.values()), 100 * np.min(base))
    full = (max(0.0, np.floor(lo / 5) * 5 - 2), 101)
    near = (max(0.0, b - zoom), min(100.5, b + max(2.0, zoom / 3)))
    for col, (ptitle, curves) in enumerate(panels):
        _curve_panel(axes[0, col], cuts, curves, base, ptitle, full)
        if zoomed:
            _curve_panel(axes[1, col], cuts, curves, base, f"zoom: within {zoom:g} points of baseB", near)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    labels = [_LEGEND.get(lab, lab) for lab in labels]
    title_key = "condition (dots: single seeds; bars: ± std over seeds)"
    if cka is not None:
        _cka_panel(axes[0, -1], cka, cka_layers, source_names)
    if cka is not None and zoomed:
        key = axes[1, -1]
        key.axis("off")
        key.legend(handles, labels, loc="center", fontsize=7.5, title=title_key, title_fontsize=7.5, frameon=False)
    else:
        fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=7.5, frameon=False,
                   title=title_key, title_fontsize=7.5)
    fig.suptitle(title, fontsize=10)
    return to_png(fig)


def _cka_panel(ax, rows: dict, layers: list, names: dict | None = None):
    names = names or {}
    x = np.arange(1, len(layers) + 1)
    a_rows = [r for r in rows if r.startswith("A: ")]
    refs = [r for r in rows if not r.startswith("A: ")]
    styles = [dict(color=OKABE_ITO[5], ls="-", marker="s"), dict(color=OKABE_ITO[3], ls="--", marker="D"),
              dict(color=OKABE_ITO[2], ls="-.", marker="v"), dict(color=OKABE_ITO[6], ls="-", marker="P")]
    ref_styles = [dict(color="0.45", ls="-", marker="o", mfc="white"), dict(color="0.0", ls=":", marker="x")]
    for i, r in enumerate(a_rows + refs):
        v = np.asarray(rows[r], dtype=float)
        st = styles[i % len(styles)] if r in a_rows else ref_styles[refs.index(r) % 2]
        sd = np.nanstd(v, axis=0, ddof=1) if v.shape[0] > 1 else np.zeros(v.shape[1])
        label = ("baseA vs baseB, A = " + names.get(r[3:], r[3:])) if r in a_rows else r
        ax.errorbar(x, np.nanmean(v, axis=0), yerr=sd, capsize=3, lw=1.6, ms=6, label=label, **st)
    ax.set_xticks(x, layers)
    ax.set_xlim(0.6, len(layers) + 0.4)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("hidden layer (block)")
    ax.set_ylabel("linear CKA on B's test inputs (0–1)")
    ax.set_title("how alike are the layers?", fontsize=9.5)
    ax.grid(axis="y", color="0.9", lw=0.6)
    ax.legend(fontsize=6.5, loc="lower left", framealpha=0.9)


def fig_cost(cuts: list, costs: list, margin: float, title: str) -> bytes:
    """Cost of frozen transfer (baseB - AnB, points) per cut, one line per (architecture, source task).

    Parameters
    ----------
    cuts : list of int
    costs : list of (model, source label, kind, (n_cuts, S) cost as a fraction)
        ``kind`` is "similar" (solid line) or "dissimilar" (dashed); colour and marker follow the model.
    margin : float
        Drawn as a grey band: costs inside it count as free.
    title : str
    """
    fig, axes = new_figure(1, 1, width=6.4, height=3.8)
    ax = axes[0, 0]
    x = np.asarray(cuts, dtype=float)
    ax.axhspan(-100 * margin, 100 * margin, color="0.88", zorder=0, label=f"± margin ({100 * margin:g} points)")
    ax.axhline(0, color="0.4", lw=0.8)
    models = list(dict.fromkeys(m for m, *_ in costs))
    markers = ["o", "s", "D", "^"]
    for i, (model, label, kind, c) in enumerate(costs):
        c = 100 * np.asarray(c)
        k = models.index(model)
        sd = c.std(axis=1, ddof=1) if c.shape[1] > 1 else np.zeros(len(x))
        ax.errorbar(x + 0.04 * (i - (len(costs) - 1) / 2), c.mean(axis=1), yerr=sd, capsize=3, lw=1.6, ms=6,
                    color=OKABE_ITO[(2 * k) % 8], ls="-" if kind == "similar" else "--",
                    marker=markers[k % 4], mfc="white" if kind != "similar" else OKABE_ITO[(2 * k) % 8],
                    label=f"{model}: {label} ({kind})")
    ax.set_xticks(x, [str(n) for n in cuts])
    ax.set_xlabel("cut n (blocks L1..Ln transferred from A, frozen)")
    ax.set_ylabel("cost: baseB − AnB (accuracy points)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7.5, loc="upper left", framealpha=0.9)
    ax.grid(axis="y", color="0.9", lw=0.6)
    return to_png(fig)


def fig_tasks(tasks: list) -> bytes:
    """Example images of every task at the common size, one row per task, one column per class.

    Parameters
    ----------
    tasks : list of (label, X (n, 1, H, W), y (n,), class_names)
    """
    ncols = max(len(names) for _, _, _, names in tasks)
    fig, axes = new_figure(ncols, len(tasks), width=1.15, height=1.35)
    for r, (label, X, y, names) in enumerate(tasks):
        for c in range(ncols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(names) or not np.any(y == c):
                ax.set_visible(False)
                continue
            img = X[np.flatnonzero(y == c)[0], 0]
            ax.imshow(img, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_title(names[c], fontsize=7)
            if c == 0:
                ax.set_ylabel(label, fontsize=7)
    h, w = tasks[0][1].shape[2:]
    fig.suptitle(f"one example per class, as the networks see them ({h}×{w} pixels, grey level 0–1)", fontsize=8)
    return to_png(fig)
