"""Figures of the transfer study: transfer curves beside layer-by-layer CKA, and the tasks' images.

Every function takes a view the study computed (``nichelab.studies.transfer.views``: means,
standard deviations, axis ranges, example images, all in ``results.json``) and returns PNG bytes;
nothing here measures.
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


def _curve_panel(ax, cuts, curves: dict, base: dict, title: str, ylim):
    """curves: condition -> {"per_seed": (n_cuts, S), "mean", "std"} in percent; base: baseB's mean and std."""
    x = np.asarray(cuts, dtype=float)
    ax.axhspan(base["mean"] - base["std"], base["mean"] + base["std"], color="0.85", zorder=0)
    ax.axhline(base["mean"], color="0.35", lw=1.2, zorder=1, label="baseB")
    for cond, c in curves.items():
        st = CONDITION_STYLE[cond]
        a = np.asarray(c["per_seed"], dtype=float)
        xs = x + _OFFSET[cond]
        for j in range(a.shape[1]):
            ax.scatter(xs, a[:, j], s=9, color=st["color"], alpha=0.45, lw=0, zorder=2)
        ax.errorbar(xs, c["mean"], yerr=c["std"], color=st["color"], ls=st["ls"], marker=st["marker"],
                    mfc=st["mfc"], mec=st["color"], ms=6, lw=1.6, capsize=3, zorder=3, label=cond)
    ax.set_xticks(x, [f"{int(n)}" for n in cuts])
    ax.set_xlim(x[0] - 0.4, x[-1] + 0.4)
    ax.set_ylim(*ylim)
    ax.set_xlabel("cut n (blocks L1..Ln transferred or random)")
    ax.set_ylabel("test accuracy on B (%)")
    ax.set_title(title, fontsize=9.5)
    ax.grid(axis="y", color="0.9", lw=0.6)


def fig_transfer(view: dict, source_names: dict | None = None) -> bytes:
    """Transfer curves of one architecture, one column per task pair, with the CKA curve beside them.

    The top row shows the whole accuracy range; when the view says so (some curves fall far
    below baseB while others stay near it), a second row zooms in near baseB.

    Parameters
    ----------
    view : dict
        From :func:`nichelab.studies.transfer.views.transfer_view`: ``cuts``, ``base``,
        ``panels`` (title and curves per condition, in percent), ``zoomed``, ``zoom``, ``ylim``,
        ``ylim_zoom``, ``cka`` (layers; rows with mean and std over seeds), ``title``.
    source_names : dict of str -> str, optional
        Readable names of the source tasks in the CKA legend.
    """
    panels, cka, zoomed = view["panels"], view.get("cka"), view["zoomed"]
    ncols = len(panels) + (cka is not None)
    fig, axes = new_figure(ncols, 2 if zoomed else 1, width=4.1, height=3.0 if zoomed else 3.6)
    for col, p in enumerate(panels):
        _curve_panel(axes[0, col], view["cuts"], p["curves"], view["base"], p["title"], view["ylim"])
        if zoomed:
            _curve_panel(axes[1, col], view["cuts"], p["curves"], view["base"],
                         f"zoom: within {view['zoom']:g} points of baseB", view["ylim_zoom"])
    handles, labels = axes[0, 0].get_legend_handles_labels()
    labels = [_LEGEND.get(lab, lab) for lab in labels]
    title_key = "condition (dots: single seeds; bars: ± std over seeds)"
    if cka is not None:
        _cka_panel(axes[0, -1], cka["rows"], cka["layers"], source_names)
    if cka is not None and zoomed:
        key = axes[1, -1]
        key.axis("off")
        key.legend(handles, labels, loc="center", fontsize=7.5, title=title_key, title_fontsize=7.5, frameon=False)
    else:
        fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=7.5, frameon=False,
                   title=title_key, title_fontsize=7.5)
    fig.suptitle(view["title"], fontsize=10)
    return to_png(fig)


def _cka_panel(ax, rows: list, layers: list, names: dict | None = None):
    """rows: [{"row", "source" (None for references), "mean", "std"}] over layers."""
    names = names or {}
    x = np.arange(1, len(layers) + 1)
    a_rows = [r for r in rows if r["source"] is not None]
    refs = [r for r in rows if r["source"] is None]
    styles = [dict(color=OKABE_ITO[5], ls="-", marker="s"), dict(color=OKABE_ITO[3], ls="--", marker="D"),
              dict(color=OKABE_ITO[2], ls="-.", marker="v"), dict(color=OKABE_ITO[6], ls="-", marker="P")]
    ref_styles = [dict(color="0.45", ls="-", marker="o", mfc="white"), dict(color="0.0", ls=":", marker="x")]
    for i, r in enumerate(a_rows):
        ax.errorbar(x, r["mean"], yerr=r["std"], capsize=3, lw=1.6, ms=6, **styles[i % len(styles)],
                    label="baseA vs baseB, A = " + names.get(r["source"], r["source"]))
    for i, r in enumerate(refs):
        ax.errorbar(x, r["mean"], yerr=r["std"], capsize=3, lw=1.6, ms=6, label=r["row"], **ref_styles[i % 2])
    ax.set_xticks(x, layers)
    ax.set_xlim(0.6, len(layers) + 0.4)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("hidden layer (block)")
    ax.set_ylabel("linear CKA on B's test inputs (0–1)")
    ax.set_title("how alike are the layers?", fontsize=9.5)
    ax.grid(axis="y", color="0.9", lw=0.6)
    ax.legend(fontsize=6.5, loc="lower left", framealpha=0.9)


def fig_cost(view: dict) -> bytes:
    """Cost of frozen transfer (baseB - AnB, points) per cut, one line per (architecture, source task).

    Parameters
    ----------
    view : dict
        From :func:`nichelab.studies.transfer.views.cost_view`: ``cuts``, ``margin_points``
        (drawn as a grey band: costs inside it count as free), ``title`` and ``lines``, each
        ``{"model", "label", "kind", "mean", "std"}`` in points; ``kind`` "similar" is a solid
        line, "dissimilar" dashed; colour and marker follow the model. ``controls`` (optional): per
        model ``{"model", "mean", "std"}``, the cost of random frozen layers, drawn dotted in grey
        with the model's marker.
    """
    fig, axes = new_figure(1, 1, width=6.4, height=3.8)
    ax = axes[0, 0]
    x = np.asarray(view["cuts"], dtype=float)
    m = view["margin_points"]
    ax.axhspan(-m, m, color="0.88", zorder=0, label=f"± margin ({m:g} points)")
    ax.axhline(0, color="0.4", lw=0.8)
    lines = view["lines"]
    models = list(dict.fromkeys(line["model"] for line in lines))
    markers = ["o", "s", "D", "^"]
    for i, line in enumerate(lines):
        k, similar = models.index(line["model"]), line["kind"] == "similar"
        ax.errorbar(x + 0.04 * (i - (len(lines) - 1) / 2), line["mean"], yerr=line["std"], capsize=3, lw=1.6,
                    ms=6, color=OKABE_ITO[(2 * k) % 8], ls="-" if similar else "--",
                    marker=markers[k % 4], mfc=OKABE_ITO[(2 * k) % 8] if similar else "white",
                    label=f"{line['model']}: {line['label']} ({line['kind']})")
    for c in view.get("controls", []):
        k = models.index(c["model"]) if c["model"] in models else 0
        ax.errorbar(x + 0.04 * (len(lines) / 2 + 0.5), c["mean"], yerr=c["std"], capsize=3, lw=1.4, ms=6,
                    color="0.45", ls=":", marker=markers[k % 4], mfc="0.45",
                    label=f"{c['model']}: random frozen layers (control)")
    ax.set_xticks(x, [str(n) for n in view["cuts"]])
    ax.set_xlabel("cut n (blocks L1..Ln transferred from A, or random; frozen)")
    ax.set_ylabel("cost: baseB − AnB or − random (accuracy points)")
    ax.set_title(view["title"], fontsize=10)
    ax.legend(fontsize=7.5, loc="upper left", framealpha=0.9)
    ax.grid(axis="y", color="0.9", lw=0.6)
    return to_png(fig)


def fig_tasks(tasks: list) -> bytes:
    """Example images of every task at the common size, one row per task, one column per class.

    Parameters
    ----------
    tasks : list of dict
        From :func:`nichelab.studies.transfer.views.tasks_view`: ``label``, ``classes`` and
        ``images`` (one (H, W) grey-level image in [0, 1] per class; empty when a class has none).
    """
    ncols = max(len(t["classes"]) for t in tasks)
    fig, axes = new_figure(ncols, len(tasks), width=1.15, height=1.35)
    shape = None
    for r, t in enumerate(tasks):
        for c in range(ncols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            img = t["images"][c] if c < len(t["images"]) else []
            if not len(img):
                ax.set_visible(False)
                continue
            img = np.asarray(img, dtype=float)
            shape = shape or img.shape
            ax.imshow(img, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_title(t["classes"][c], fontsize=7)
            if c == 0:
                ax.set_ylabel(t["label"], fontsize=7)
    h, w = shape or (0, 0)
    fig.suptitle(f"one example per class, as the networks see them ({h}×{w} pixels, grey level 0–1)", fontsize=8)
    return to_png(fig)
