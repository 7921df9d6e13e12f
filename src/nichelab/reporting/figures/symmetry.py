"""Figures of the symmetry study: gaps between units over training, time to split, accuracy.

Every function takes the panels the study computed (:class:`~nichelab.studies.symmetry.result.SymmetryViews`:
medians, ranges, fitted lines) and returns PNG bytes; nothing here measures. A *panel* is one dataset.
"""
from __future__ import annotations

import numpy as np

from ..style import OKABE_ITO, SEQ_CMAP, new_figure, to_png

__all__ = ["CONDITION_STYLE", "fig_gap_conditions", "fig_gap_eps", "fig_split_vs_eps", "fig_training"]

#: Colour and line style per condition kind (Okabe-Ito; styles differ too, for grey-scale prints).
CONDITION_STYLE = {
    "random": (OKABE_ITO[0], "-"),
    "symmetric": (OKABE_ITO[7], "-"),
    "tied": (OKABE_ITO[4], (0, (6, 2))),
    "symmetric+dropout": (OKABE_ITO[1], "--"),
    "eps": (OKABE_ITO[2], "-."),
    "zeros": (OKABE_ITO[5], ":"),
    "one unit": (OKABE_ITO[3], (0, (5, 1, 1, 1))),
}


def _style(key: str):
    return CONDITION_STYLE.get("eps" if key.startswith("symmetric+eps") else key, (OKABE_ITO[6], "-"))


def _a(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def fig_gap_conditions(panels: list) -> bytes:
    """Largest gap between two hidden units per step, one line per condition (median over seeds).

    Each panel is a :class:`~nichelab.studies.symmetry.result.GapPanel`: ``title``, ``tol``, ``floor``
    and ``curves`` (``key``, ``label``, ``median``, ``lo``, ``hi`` over steps, ``zero``); ``lo``/``hi``
    bound the seeds (shaded). Curves that are exactly 0 at every step are drawn at the floor line.
    """
    fig, axes = new_figure(len(panels), 1, width=5.2, height=5.4)
    for ax, p in zip(axes.flat, panels):
        floor = p.floor
        n_zero = 0
        for c in p.curves:
            color, ls = _style(c.key)
            med, lo, hi = _a(c.median), _a(c.lo), _a(c.hi)
            t = np.arange(len(med))
            if c.zero:
                level = floor / 2 ** n_zero      # exact zeros side by side, not on top of each other
                n_zero += 1
                ax.plot(t, np.full(len(t), level), color=color, ls=ls, lw=2,
                        label=f"{c.label}: exactly 0 (drawn at the floor)")
                continue
            ax.plot(t, np.where(med > 0, med, floor), color=color, ls=ls, lw=1.8, label=c.label)
            ax.fill_between(t, np.where(lo > 0, lo, floor), np.where(hi > 0, hi, floor), color=color, alpha=0.15,
                            lw=0)
        ax.axhline(p.tol, color="grey", lw=1, ls=(0, (2, 2)), label="split tolerance")
        ax.set_yscale("log")
        ax.set_ylim(bottom=floor / 2 ** (n_zero + 1))
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("largest distance between two units'\nincoming weights (a.u., log scale)")
        ax.set_title(p.title, fontsize=10)
        # below the axes: inside, the legend would hide the lines drawn at the floor (exact zeros)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1, framealpha=0.9)
    return to_png(fig)


def fig_gap_eps(panels: list) -> bytes:
    """Largest gap per step for every perturbation size (median over seeds), split steps marked.

    Each panel is an :class:`~nichelab.studies.symmetry.result.EpsPanel`: ``title``, ``tol``, ``xmax``
    and ``curves`` (``eps``, ``median`` over steps, median ``split`` step).
    """
    import matplotlib

    fig, axes = new_figure(len(panels), 1, width=5.2, height=3.8)
    cmap = matplotlib.colormaps[SEQ_CMAP]
    styles = ["-", "--", "-.", ":"]
    for ax, p in zip(axes.flat, panels):
        n = len(p.curves)
        for i, c in enumerate(p.curves):
            color = cmap(0.9 * i / max(n - 1, 1))
            med = _a(c.median)
            ax.plot(np.arange(len(med)), med, color=color, ls=styles[i % 4], lw=1.6, label=f"eps = {c.eps:.0e}")
            if np.isfinite(c.split) and c.split > 0:
                ax.plot([c.split], [p.tol], "o", color=color, ms=5, mec="black", mew=0.5)
        ax.axhline(p.tol, color="grey", lw=1, ls=(0, (2, 2)), label="split tolerance (dots: median split)")
        if p.xmax:
            ax.set_xlim(-0.02 * p.xmax, p.xmax)
        ax.set_yscale("log")
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("largest distance between two units'\nincoming weights (a.u., log scale)")
        ax.set_title(p.title, fontsize=10)
        ax.legend(fontsize=7, loc="lower right", ncol=2, framealpha=0.9)
    return to_png(fig)


def fig_split_vs_eps(panels: list) -> bytes:
    """Step at which the units split against log10(1/eps): one marker per seed, a fitted line per seed.

    Each panel is a :class:`~nichelab.studies.symmetry.result.SplitPanel`: ``title``, ``x`` (K,)
    log10(1/eps), ``split`` (S, K) (NaN = not drawn), ``seeds`` (S,), and the ends of each seed's
    line ``fit_x``, ``fit_y`` (S, 2) (NaN = no line).
    """
    markers = ["o", "s", "^", "D", "v", "P", "X", "*"]
    fig, axes = new_figure(len(panels), 1, width=5.0, height=3.8)
    for ax, p in zip(axes.flat, panels):
        x, split, fit_x, fit_y = _a(p.x), _a(p.split), _a(p.fit_x), _a(p.fit_y)
        for i, seed in enumerate(p.seeds):
            color = OKABE_ITO[i % len(OKABE_ITO)]
            ax.plot(x, split[i], markers[i % len(markers)], color=color, ms=6, mec="black", mew=0.4,
                    label=f"seed {seed}")
            if np.isfinite(fit_x[i]).all():
                ax.plot(fit_x[i], fit_y[i], color=color, lw=1, alpha=0.8)
        ax.set_xlabel("log10(1 / eps)   (eps = size of the perturbation)")
        ax.set_ylabel("step at which the units split")
        ax.set_title(p.title, fontsize=10)
        ax.legend(fontsize=7, title="lines: fit per seed", title_fontsize=7, loc="upper left", framealpha=0.9)
    return to_png(fig)


def fig_training(panels: list) -> bytes:
    """Accuracy (top) and number of distinct hidden units (bottom) per epoch, mean over seeds, per condition.

    Each panel is a :class:`~nichelab.studies.symmetry.result.TrainingPanel`: ``title``, ``hidden``
    and ``curves`` (``key``, ``label``, ``accuracy`` and ``distinct`` over epochs).
    """
    fig, axes = new_figure(len(panels), 2, width=5.0, height=3.0)
    for j, p in enumerate(panels):
        top, bottom = axes[0, j], axes[1, j]
        for c in p.curves:
            color, ls = _style(c.key)
            acc = _a(c.accuracy)
            e = np.arange(len(acc))
            top.plot(e, 100 * acc, color=color, ls=ls, lw=1.8, label=c.label)
            bottom.plot(e, _a(c.distinct), color=color, ls=ls, lw=1.8, label=c.label)
        top.set_ylabel("training accuracy (%)")
        top.set_ylim(0, 103)
        top.set_title(p.title, fontsize=10)
        bottom.set_ylabel("distinct hidden units")
        bottom.set_ylim(0, p.hidden * 1.08 + 0.5)
        bottom.set_xlabel("epoch")
        top.set_xlabel("epoch")
        top.legend(fontsize=7, loc="lower right", framealpha=0.9)
    return to_png(fig)
