"""The superposition study's page: features per dimension as inputs get sparser (Elhage et al. 2022)."""
from __future__ import annotations

import numpy as np

from ...studies.text import pct
from ..model import Figure, Report, Section, Table
from ..style import DIV_CMAP, OKABE_ITO, new_figure, to_png

__all__ = ["page", "summary_table"]


def summary_table(r) -> Table:
    """Terminal summary: features represented per sparsity level."""
    rows = [[f"{x['sparsity']:g}", f"{x['represented_median']:g}", f"{x['represented_min']}–{x['represented_max']}",
             f"{x['dims_per_feature_median']:.2f}"] for x in r.by_sparsity]
    return Table(["sparsity S", "features (median)", "range", "dims per feature"], rows,
                 f"superposition: {r.config.features} features, {r.config.hidden} dims, {r.config.seeds} seeds")


def page(r) -> Report:
    """Question, measured answer, figures; one idea per section."""
    c = r.config
    return Report(
        title="Do hidden dimensions carry one feature each, or several at once?",
        summary=r.findings["short"],
        setup={"model": f"h = W x (W: {c.hidden} × {c.features}), x' = ReLU(Wᵀ h + b) (Elhage et al. 2022)",
               "data": f"feature i is 0 with probability S, else uniform in [0, 1]; importance {c.importance:g}^i",
               "training": f"AdamW, lr {c.lr:g}, {c.steps} steps of {c.batch_size} fresh samples",
               "seeds": f"{c.seeds} per sparsity level ({c.first_seed}–{c.first_seed + c.seeds - 1})",
               "represented": f"a feature whose direction W_i has length ||W_i|| > {c.threshold:g}",
               "dimensionality": "how much of a dimension a feature has to itself (1 alone, 1/2 shared by two)"},
        sections=[_counts(r), _gram(r), _shared(r)])


def _counts(r) -> Section:
    return Section("How many features fit in the hidden dimensions?",
                   question="As features get sparser, do the dimensions still keep one feature each?",
                   findings=r.findings["levels"] + r.findings["paper"],
                   figures=[Figure(_fig_counts(r), "Points above the dashed line mean more features than "
                                   "dimensions: look at where the sparse levels sit.")],
                   tables=[Table(["sparsity S", "features represented (per seed)", "dims per feature (median)"],
                                 [[f"{x['sparsity']:g}", ", ".join(map(str, x["represented_per_seed"])),
                                   f"{x['dims_per_feature_median']:.2f}"] for x in r.by_sparsity])])


def _gram(r) -> Section:
    return Section("Which features share a direction?",
                   question="Inside one trained model, which features overlap?",
                   findings=r.findings["meaning"],
                   figures=[Figure(_fig_gram(r), "Off-diagonal colour means two features share directions: "
                                   "compare the dense level (a clean diagonal block) with the sparse ones.")])


def _shared(r) -> Section:
    return Section("How common is sharing?", question="What share of represented features share a direction?",
                   findings=r.findings["shared"],
                   tables=[Table(["sparsity S", "represented (all seeds)", "sharing", "share"],
                                 [[f"{x['sparsity']:g}", x["represented_total"], x["shared_total"],
                                   pct(x["shared_total"] / x["represented_total"]) if x["represented_total"] else "n/a"]
                                  for x in r.by_sparsity])])


def _fig_counts(r) -> bytes:
    fig, axes = new_figure(1, 1, width=6.0, height=3.4)
    ax = axes[0, 0]
    levels = [x["sparsity"] for x in r.by_sparsity]
    for i, x in enumerate(r.by_sparsity):
        ys = x["represented_per_seed"]
        ax.scatter(np.full(len(ys), i) + np.linspace(-0.1, 0.1, len(ys)), ys, color=OKABE_ITO[0], s=22,
                   label="one seed" if i == 0 else None, zorder=3)
    ax.plot(range(len(levels)), [x["represented_median"] for x in r.by_sparsity], color=OKABE_ITO[1], lw=2,
            marker="s", label="median")
    ax.axhline(r.config.hidden, ls="--", color="black", lw=1, label=f"{r.config.hidden} hidden dimensions")
    ax.set_xticks(range(len(levels)), [f"{p:g}" for p in levels])
    ax.set_xlabel("sparsity S (probability a feature is 0)")
    ax.set_ylabel("features represented (count)")
    ax.set_ylim(0, r.config.features + 0.5)
    ax.legend(fontsize=8)
    return to_png(fig)


def _fig_gram(r) -> bytes:
    grams = r.views["gram"]
    fig, axes = new_figure(len(grams), 1, width=2.6, height=2.6)
    lim = max(float(np.abs(np.asarray(g["WtW"])).max()) for g in grams) or 1.0
    for ax, g in zip(axes.flat, grams):
        im = ax.imshow(np.asarray(g["WtW"]), cmap=DIV_CMAP, vmin=-lim, vmax=lim, interpolation="nearest")
        ax.set_title(f"S = {g['sparsity']:g} (seed {g['seed']})", fontsize=9)
        ax.set_xlabel("feature j")
        ax.set_ylabel("feature i")
    fig.colorbar(im, ax=list(axes.flat), label="W_iᵀ W_j (overlap)", shrink=0.8)
    return to_png(fig)
