"""Figures of the multiclass-lab study (the lab's own plots, plus the many-seed census).

Every function takes already-computed arrays and returns PNG bytes; nothing here measures.
Weights are one seed's ``{"L1.linear.weight": (H, 2), "L1.linear.bias": (H,), "L2...": ...}``.
"""
from __future__ import annotations

import numpy as np

from ..style import OKABE_ITO, SEQ_CMAP, class_color, class_marker, new_figure, to_png

__all__ = ["fig_unit_planes", "fig_output_logits", "fig_decision_regions",
           "fig_training_lines", "fig_outcome_shares", "fig_splits", "fig_accuracy_by_outcome",
           "fig_init_geometry", "fig_examples", "fig_loss_curves"]

X0_RANGE, X1_RANGE = (-8.0, 8.0), (-5.0, 4.0)  # the lab's plotting window (as in studies/lab/views.py)
LINE_COLORS = ["#000000", "#D55E00", "#0072B2", "#009E73"]  # unit lines: dark, high-contrast on white


def _scatter(ax, X, y, size=14, legend=False):
    for c in np.unique(y):
        ax.scatter(X[y == c, 0], X[y == c, 1], s=size, color=class_color(int(c)), marker=class_marker(int(c)),
                   edgecolor="white", linewidth=0.4, label=f"class {c}", zorder=3)
    if legend:
        ax.legend(loc="lower left", fontsize=7, framealpha=0.85)


def _unit_line(ax, W, b, k, style="-", color="black", label=None, lw=1.6):
    """Draw the line w.x + b = 0 of unit k across the lab window, with an arrow towards its active side."""
    w0, w1 = float(W[k, 0]), float(W[k, 1])
    xs = np.linspace(*X0_RANGE, 2)
    if abs(w1) > 1e-9:
        ax.plot(xs, -(w0 * xs + b[k]) / w1, style, color=color, lw=lw, label=label)
    elif abs(w0) > 1e-9:
        ax.axvline(-b[k] / w0, ls=style, color=color, lw=lw, label=label)
    ax.set_xlim(*X0_RANGE)
    ax.set_ylim(*X1_RANGE)


def _axes_labels(ax):
    ax.set_xlabel("x0 (input feature, a.u.)")
    ax.set_ylabel("x1 (input feature, a.u.)")


def fig_unit_planes(view: dict, X: np.ndarray, y: np.ndarray) -> bytes:
    """Each hidden unit's ReLU output over the input plane, its zero line, and the data."""
    W, b, A = view["lines"]["W"], view["lines"]["b"], view["unit_planes"]
    H, seed = W.shape[0], view["seed"]
    ncols = min(H, 4)
    fig, axes = new_figure(ncols, int(np.ceil(H / ncols)), width=3.6, height=2.9)
    for k, ax in enumerate(axes.flat):
        if k >= H:
            ax.set_visible(False)
            continue
        im = ax.imshow(A[k], cmap=SEQ_CMAP, origin="lower", aspect="auto",
                       extent=(*X0_RANGE, *X1_RANGE), interpolation="nearest")
        fig.colorbar(im, ax=ax, label=f"L1:{k} activation (a.u.)")
        _unit_line(ax, W, b, k, "--", "white", label="pre-activation = 0")
        _scatter(ax, X, y)
        ax.set_title(f"unit L1:{k} (seed {seed})", fontsize=10)
        _axes_labels(ax)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=8)
    return to_png(fig)


def fig_output_logits(view: dict, y: np.ndarray) -> bytes:
    """Each output unit's logit over the plane of hidden activations (a0, a1), with the data mapped in."""
    lp = view["logit_planes"]
    A, Z, ext = lp["hidden"], lp["logits"], lp["extent"]
    C = Z.shape[0]
    fig, axes = new_figure(C, 1, width=3.3, height=2.9)
    for c, ax in enumerate(axes.flat):
        im = ax.imshow(Z[c], cmap=SEQ_CMAP, origin="lower", aspect="auto", extent=tuple(ext), interpolation="nearest")
        fig.colorbar(im, ax=ax, label=f"L2:{c} logit")
        _scatter(ax, A, y, size=12, legend=(c == 0))
        ax.set_title(f"output unit L2:{c} (class {c})", fontsize=10)
        ax.set_xlabel("a0 = L1:0 activation (a.u.)")
        ax.set_ylabel("a1 = L1:1 activation (a.u.)")
    return to_png(fig)


def _regions(ax, view, X, y, title, show_lines=True):
    pred = np.asarray(view["regions"])
    from matplotlib.colors import ListedColormap
    C = int(max(pred.max(), np.max(y))) + 1
    ax.imshow(pred, origin="lower", aspect="auto", extent=(*X0_RANGE, *X1_RANGE), interpolation="nearest",
              cmap=ListedColormap(OKABE_ITO[:C]), alpha=0.25, vmin=-0.5, vmax=C - 0.5)
    _scatter(ax, X, y)
    if show_lines:
        W, b = view["lines"]["W"], view["lines"]["b"]
        for k in range(W.shape[0]):
            _unit_line(ax, W, b, k, ["-", "--", ":", "-."][k % 4], "black", label=f"L1:{k} = 0")
    ax.set_title(title, fontsize=10)
    _axes_labels(ax)


def fig_decision_regions(view: dict, X: np.ndarray, y: np.ndarray) -> bytes:
    """The model's decision regions (shaded by predicted class) with the hidden units' lines."""
    fig, axes = new_figure(1, 1, width=5.0, height=3.6)
    _regions(axes[0, 0], view, X, y, f"decision regions (seed {view['seed']})")
    axes[0, 0].legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8)
    return to_png(fig)


def fig_training_lines(snapshots: dict, X: np.ndarray, y: np.ndarray, seed: int) -> bytes:
    """The hidden units' zero lines at several moments of training, one panel per epoch."""
    epochs = sorted(snapshots)
    fig, axes = new_figure(min(len(epochs), 3), int(np.ceil(len(epochs) / 3)), width=3.3, height=2.7)
    for i, ax in enumerate(axes.flat):
        if i >= len(epochs):
            ax.set_visible(False)
            continue
        w = snapshots[epochs[i]]
        W, b = np.asarray(w["L1.linear.weight"]), np.asarray(w["L1.linear.bias"])
        _scatter(ax, X, y, size=9, legend=(i == 0))
        for k in range(W.shape[0]):
            _unit_line(ax, W, b, k, ["-", "--", ":", "-."][k % 4], LINE_COLORS[k % len(LINE_COLORS)], label=f"L1:{k}")
        ax.set_title(f"epoch {epochs[i]}", fontsize=10)
        _axes_labels(ax)
        if i == 1 or len(epochs) == 1:
            ax.legend(loc="lower left", fontsize=7, framealpha=0.85)
    fig.suptitle(f"seed {seed}: each unit's zero line", fontsize=10)
    return to_png(fig)


def fig_loss_curves(bands: dict, outcomes: tuple) -> bytes:
    """Training loss per epoch by outcome: the median seed (line) and the middle half of seeds (band)."""
    fig, axes = new_figure(1, 1, width=6.0, height=3.4)
    ax = axes[0, 0]
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (cross-entropy, nats)")
    if not bands or not any(np.any(np.asarray(b["median"]) > 0) for b in bands.values()):
        ax.text(0.5, 0.5, "no training epochs: nothing to plot", ha="center", va="center", transform=ax.transAxes)
        return to_png(fig)
    for j, name in enumerate(outcomes):
        if name not in bands:
            continue
        b = bands[name]
        ep = np.arange(1, len(b["median"]) + 1)
        ax.fill_between(ep, b["q25"], b["q75"], color=OKABE_ITO[j], alpha=0.2, lw=0)
        ax.plot(ep, b["median"], color=OKABE_ITO[j], lw=1.8, linestyle=["-", "--", ":", "-."][j % 4],
                label=f"{name} ({b['n']} seeds)")
    ax.set_yscale("log")
    ax.legend(title="outcome: median, band = middle 50%", fontsize=8, title_fontsize=8)
    return to_png(fig)


def fig_outcome_shares(counts: dict, n_seeds: int) -> bytes:
    """Share of seeds per outcome (bar chart, percent)."""
    fig, axes = new_figure(1, 1, width=5.2, height=3.0)
    ax = axes[0, 0]
    names = list(counts)
    vals = [100.0 * counts[k] / n_seeds for k in names]
    bars = ax.bar(names, vals, color=OKABE_ITO[:len(names)], label=names)
    ax.bar_label(bars, labels=[f"{counts[k]}" for k in names], fontsize=8)
    ax.set_ylabel(f"share of seeds (%), n = {n_seeds}")
    ax.set_xlabel("outcome")
    ax.set_ylim(0, 105)
    ax.legend(fontsize=7, title="bar label = seed count", title_fontsize=7)
    return to_png(fig)


def fig_splits(freq: list[tuple[str, float]], n_units: int) -> bytes:
    """How often each split of the classes is implemented by a hidden unit (percent of units)."""
    fig, axes = new_figure(1, 1, width=6.0, height=0.35 * max(len(freq), 3) + 1.2)
    ax = axes[0, 0]
    labels = [k for k, _ in freq][::-1]
    vals = [100 * v for _, v in freq][::-1]
    ax.barh(labels, vals, color=OKABE_ITO[0], label="units with this split")
    ax.set_xlabel(f"share of hidden units (%), n = {n_units}")
    ax.set_ylabel("split (class-0 side | other side)")
    ax.legend(fontsize=8, loc="lower right")
    return to_png(fig)


def fig_accuracy_by_outcome(acc: np.ndarray, outcome: list, outcomes: tuple) -> bytes:
    """Final training accuracy of each seed, grouped by outcome (one dot per seed)."""
    fig, axes = new_figure(1, 1, width=5.2, height=3.0)
    ax = axes[0, 0]
    rng = np.random.default_rng(0)
    present = [o for o in outcomes if o in outcome]
    for j, name in enumerate(present):
        vals = 100 * np.asarray([a for a, o in zip(acc, outcome) if o == name])
        ax.scatter(j + rng.uniform(-0.18, 0.18, len(vals)), vals, s=12, alpha=0.7,
                   color=OKABE_ITO[outcomes.index(name)], label=f"{name} (median {np.median(vals):.0f}%)")
    ax.set_xticks(range(len(present)), present)
    ax.set_ylabel("accuracy on the data (%)")
    ax.set_xlabel("outcome")
    ax.set_ylim(-3, 103)
    ax.legend(fontsize=7, loc="lower left")
    return to_png(fig)


def fig_init_geometry(angle: np.ndarray, outcome: list, outcomes: tuple, relation: dict) -> bytes:
    """Initial geometry vs outcome: the initial angle between units by outcome (left), and the share of
    seeds ending distinct when the units' initial splits differed or coincided (right)."""
    fig, axes = new_figure(2, 1, width=4.6, height=3.2)
    ax = axes[0, 0]
    bins = np.linspace(0, 180, 19)
    for j, name in enumerate(outcomes):
        vals = np.asarray([a for a, o in zip(angle, outcome) if o == name and np.isfinite(a)])
        if len(vals):
            ax.hist(vals, bins=bins, histtype="step", lw=2, color=OKABE_ITO[j],
                    weights=np.full(len(vals), 100.0 / len(vals)),
                    linestyle=["-", "--", ":", "-."][j], label=f"{name} ({len(vals)} seed{'s' if len(vals) != 1 else ''})")
    ax.set_xlabel("initial angle between the units' weights (degrees)")
    ax.set_ylabel("share of that outcome's seeds (%)")
    ax.set_xticks(range(0, 181, 30))
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    keys = [k for k in ("different", "same") if relation.get(k, (0, 0))[1]]
    vals = [100 * relation[k][0] for k in keys]
    bars = ax.bar([f"{k} splits\nat init" for k in keys], vals, color=[OKABE_ITO[0], OKABE_ITO[1]][:len(keys)],
                  label=[f"n = {relation[k][1]} seeds" for k in keys])
    ax.bar_label(bars, labels=[f"{v:.0f}%" for v in vals], fontsize=8)
    ax.set_ylabel("seeds ending 'distinct' (%)")
    ax.set_xlabel("the units' class splits at initialisation")
    ax.set_ylim(0, 110)
    ax.legend(fontsize=7, loc="lower right")
    return to_png(fig)


def fig_examples(views: list[dict], X: np.ndarray, y: np.ndarray) -> bytes:
    """One example seed per outcome: decision regions and each hidden unit's zero line."""
    ncols = min(len(views), 2)
    fig, axes = new_figure(ncols, int(np.ceil(len(views) / ncols)), width=4.6, height=3.6)
    for i, ax in enumerate(axes.flat):
        if i >= len(views):
            ax.set_visible(False)
            continue
        _regions(ax, views[i], X, y, f"{views[i]['outcome']}: seed {views[i]['seed']}")
        ax.legend(loc="lower left", fontsize=7, framealpha=0.85)
    return to_png(fig)
