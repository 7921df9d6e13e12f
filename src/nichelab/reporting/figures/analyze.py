"""Figures of ``nichelab analyze``: the unit census of one model.

Every function takes the figure-ready numbers of ``AnalyzeResult.views`` (see
``nichelab.studies.analyze.views``) and returns PNG bytes; nothing here measures, scales or
sorts. Units of a layer come already in one ``order`` (preferred class, then selectivity, dead
units last), so that the class-mean and ablation heatmaps line up.
"""
from __future__ import annotations

import numpy as np
from matplotlib.colors import SymLogNorm

from ..style import DIV_CMAP, OKABE_ITO, SEQ_CMAP, new_figure, to_png

__all__ = ["fig_class_means", "fig_selectivity", "fig_ablation", "fig_probes", "fig_top_examples",
           "fig_first_weights"]

_GREY = "#d9d9d9"


def _cmap(name: str):
    import matplotlib
    return matplotlib.colormaps[name].with_extremes(bad=_GREY)


def _unit_ticks(ax, order: np.ndarray) -> None:
    n = len(order)
    if n <= 64:
        ax.set_xticks(range(n), [str(int(u)) for u in order], fontsize=6 if n > 24 else 8,
                      rotation=90 if n > 24 else 0)
    else:
        step = int(np.ceil(n / 32))
        ax.set_xticks(range(0, n, step), [str(int(u)) for u in order[::step]], fontsize=6, rotation=90)


def _class_ticks(ax, class_names: list[str], extra: list[str] = ()) -> None:
    labels = list(extra) + [str(c) for c in class_names]
    ax.set_yticks(range(len(labels)), labels, fontsize=7 if len(labels) > 12 else 8)


def fig_class_means(panels: list[dict], class_names: list[str]) -> bytes:
    """Class-mean activation of every unit, one heatmap per layer (classes x units).

    Parameters
    ----------
    panels : list of dict
        ``name`` (str), ``z`` (n_classes, n_units) already scaled to [0, 1] and in display order
        (NaN for dead units, drawn grey), ``order`` (n_units,) unit indices, ``n_dead`` (int),
        ``what`` (e.g. ``"channels (spatial mean)"``).
    class_names : list of str
    """
    K = len(class_names)
    heights = [0.24 * K + 1.1 for _ in panels]
    fig, axes = new_figure(1, len(panels), width=8.0, height=1.0,
                           gridspec_kw={"height_ratios": heights})
    fig.set_size_inches(8.0, sum(heights) + 0.3)
    im = None
    for ax, p in zip(axes[:, 0], panels):
        z = np.asarray(p["z"], float).reshape(K, -1)
        im = ax.imshow(z, aspect="auto", cmap=_cmap(SEQ_CMAP), vmin=0, vmax=1, interpolation="nearest")
        _unit_ticks(ax, p["order"])
        _class_ticks(ax, class_names)
        ax.set_ylabel("class")
        n_dead = int(p["n_dead"])
        ax.set_title(f"{p['name']}: {z.shape[1]} {p['what']}" + (f" ({n_dead} dead, grey)" if n_dead else ""),
                     fontsize=9, loc="left")
    axes[-1, 0].set_xlabel("unit index (sorted by preferred class, then selectivity; dead units last)")
    fig.colorbar(im, ax=axes[:, 0].tolist(), shrink=0.9, pad=0.01,
                 label="class-mean activation / unit's largest class mean")
    return to_png(fig)


def fig_selectivity(names: list[str], live: list[np.ndarray], stats: list[dict]) -> bytes:
    """Class selectivity index of every live unit, by layer (one dot per unit, box = quartiles).

    Parameters
    ----------
    names : list of str
        Layer names, input side first.
    live : list of np.ndarray
        Per layer, the selectivity of its live units.
    stats : list of dict
        Per layer, the box: ``med``, ``q1``, ``q3``, ``whislo``, ``whishi`` (NaN: no box).
    """
    fig, axes = new_figure(1, 1, width=max(4.2, 1.1 * len(names) + 2.0), height=3.4)
    ax = axes[0, 0]
    rng = np.random.default_rng(0)            # horizontal jitter of the dots only
    for i, v in enumerate(live):
        v = np.asarray(v, float)
        ax.scatter(i + rng.uniform(-0.22, 0.22, len(v)), v, s=10, alpha=0.65, color=OKABE_ITO[0],
                   edgecolor="none", label="one live unit" if i == 0 else None, zorder=3)
    boxes = [dict(st, fliers=[]) for st in stats]
    ax.bxp(boxes, positions=range(len(names)), widths=0.6, showfliers=False,
           medianprops={"color": OKABE_ITO[5], "lw": 2}, zorder=2)
    ax.plot([], [], color=OKABE_ITO[5], lw=2, label="median (box: quartiles)")
    ax.set_xticks(range(len(names)), [f"{n}\n({len(v)} live)" for n, v in zip(names, live)], fontsize=8)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_ylim(-0.03, 1.2)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_xlabel("layer (input side to output side)")
    ax.set_ylabel("class selectivity index")
    ax.set_title("0 = same response to every class, 1 = responds to one class only", fontsize=8)
    ax.legend(fontsize=7, loc="upper center", ncol=2, frameon=False)
    return to_png(fig)


def fig_ablation(panels: list[dict], class_names: list[str], vmax: float) -> bytes:
    """Accuracy lost when each unit is ablated alone: overall (top row) and per class, one heatmap per layer.

    The colour scale is linear within +-1 point and logarithmic beyond, so that small overall costs
    and large single-class costs are both visible.

    Parameters
    ----------
    panels : list of dict
        ``name``, ``what``, ``z`` (1 + n_classes, n_units) percentage points lost (positive =
        damage; the overall row first) in display order, ``order`` (n_units,) unit indices,
        ``key`` positions (in display order) of indispensable units (a black triangle above).
    class_names : list of str
    vmax : float
        The colour limit (largest |cost| over all panels, at least 1).
    """
    K = len(class_names)
    heights = [0.24 * (K + 1) + 1.2 for _ in panels]
    fig, axes = new_figure(1, len(panels), width=8.0, height=1.0, gridspec_kw={"height_ratios": heights})
    fig.set_size_inches(8.0, sum(heights) + 0.3)
    norm = SymLogNorm(linthresh=1.0, linscale=0.6, vmin=-vmax, vmax=vmax, base=10)
    im = None
    for ax, p in zip(axes[:, 0], panels):
        o = p["order"]
        z = np.asarray(p["z"], float).reshape(K + 1, -1)
        im = ax.imshow(z, aspect="auto", cmap=_cmap(DIV_CMAP), norm=norm, interpolation="nearest")
        ax.axhline(0.5, color="black", lw=1.2)
        key = np.asarray(p["key"], float)
        if key.size:
            ax.scatter(key, np.full(key.size, -0.95), marker="v", s=14, color="black", clip_on=False,
                       label="indispensable unit", zorder=4)
            ax.legend(fontsize=7, loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, borderaxespad=0.1)
        ax.set_ylim(len(z) - 0.5, -1.3)
        _unit_ticks(ax, o)
        _class_ticks(ax, class_names, ["overall"])
        ax.set_ylabel("class")
        ax.set_title(f"{p['name']}: {len(o)} {p['what']}", fontsize=9, loc="left")
    axes[-1, 0].set_xlabel("unit index (same order as the class-mean heatmap)")
    ticks = [t for t in (1, 3, 10, 30, 100) if t <= vmax]
    cb = fig.colorbar(im, ax=axes[:, 0].tolist(), shrink=0.9, pad=0.01, ticks=[-t for t in ticks[::-1]] + [0] + ticks,
                      label="accuracy lost when the unit is ablated\n(percentage points, log scale beyond ±1; < 0: accuracy rose)")
    cb.ax.set_yticklabels([f"{-t:g}" for t in ticks[::-1]] + ["0"] + [f"{t:g}" for t in ticks])
    cb.ax.minorticks_off()
    return to_png(fig)


def fig_probes(names: list[str], test_acc: list[float], train_acc: list[float], chance: float,
               model_acc: float | None) -> bytes:
    """Linear-probe accuracy by layer (held-out and training split), with chance and the model's accuracy."""
    fig, axes = new_figure(1, 1, width=max(4.4, 0.9 * len(names) + 2.4), height=3.3)
    ax = axes[0, 0]
    x = np.arange(len(names))
    te, tr = 100 * np.asarray(test_acc, float), 100 * np.asarray(train_acc, float)
    ax.plot(x, te, "-o", color=OKABE_ITO[0], lw=2, label="probe, held-out samples")
    ax.plot(x, tr, "--s", color=OKABE_ITO[1], lw=1.2, ms=4, label="probe, training samples")
    ax.axhline(100 * chance, color="black", ls=":", lw=1.2, label=f"chance (majority class) {100 * chance:.0f}%")
    if model_acc is not None:
        ax.axhline(100 * model_acc, color=OKABE_ITO[2], ls="-.", lw=1.2,
                   label=f"the model itself {100 * model_acc:.1f}%")
    ax.set_xticks(x, names, fontsize=8)
    ax.set_xlabel("layer (input = the raw input, flattened)")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(max(0.0, 100 * chance - 10), 101)
    ax.legend(fontsize=7, loc="lower right")
    return to_png(fig)


def _mosaic(cells: list[list[np.ndarray | None]], fill: float = np.nan, gap_y: int = 1) -> np.ndarray:
    """Tile equal-sized (h, w) or (h, w, 3) cells into one array, 1 pixel of ``fill`` between columns and
    ``gap_y`` pixels between rows (room for text under each row)."""
    first = next(c for row in cells for c in row if c is not None)
    h, w = first.shape[:2]
    rows, cols = len(cells), max(len(r) for r in cells)
    out = np.full((rows * (h + gap_y) + 1, cols * (w + 1) + 1) + first.shape[2:], fill, dtype=float)
    for i, row in enumerate(cells):
        for j, c in enumerate(row):
            if c is not None:
                out[1 + i * (h + gap_y): 1 + i * (h + gap_y) + h, 1 + j * (w + 1): 1 + j * (w + 1) + w] = c
    return out


def fig_top_examples(pictures: list[np.ndarray], rows: list[dict], class_names: list[str]) -> bytes:
    """The inputs that drive chosen units most: one row per unit, its top-k samples left to right.

    Parameters
    ----------
    pictures : list of np.ndarray
        (H, W) grey or (H, W, 3) RGB pictures in [0, 1].
    rows : list of dict
        ``unit`` (str label shown at the left), ``pictures`` (k,) positions in ``pictures``,
        ``labels`` (k,) class indices, ``values`` (k,) activations.
    class_names : list of str
    """
    k = max(len(r["pictures"]) for r in rows)
    cells = [[np.asarray(pictures[int(i)], float) for i in r["pictures"]] for r in rows]
    H, W = np.asarray(pictures[0]).shape[:2]
    gap = max(3, int(np.ceil(0.3 * H)))            # white band under each row for the labels
    mosaic = _mosaic(cells, fill=1.0, gap_y=gap)
    panel_w = 0.95 * k
    fig, axes = new_figure(1, 1, width=panel_w + 1.4, height=panel_w * mosaic.shape[0] / mosaic.shape[1] + 0.5)
    ax = axes[0, 0]
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=1, interpolation="nearest", aspect="equal")
    ax.set_axis_off()
    for i, r in enumerate(rows):
        top = i * (H + gap)
        ax.text(-0.5, top + 1 + H / 2, r["unit"], ha="right", va="center", fontsize=7)
        for j, (lab, val) in enumerate(zip(r["labels"], r["values"])):
            ax.text(1 + j * (W + 1) + W / 2, top + H + 1 + gap / 2, f"{class_names[int(lab)]} · {val:.2g}",
                    ha="center", va="center", fontsize=6)
    ax.set_title("each row: one unit's top inputs, strongest first\n(under each: true class · activation)", fontsize=8)
    return to_png(fig)


def fig_first_weights(name: str, pictures: np.ndarray, rgb: bool, n_units: int) -> bytes:
    """The first layer's incoming weights of each unit drawn as an image (each scaled to its own max |w|).

    Parameters
    ----------
    name : str
        The weight layer's name (e.g. ``L1.linear``).
    pictures : np.ndarray of shape (n, h, w) in [-1, 1], or (n, h, w, 3) in [0, 1] when ``rgb``
    rgb : bool
    n_units : int
        Units of the layer (more than drawn when the pictures are the first few).
    """
    pics = np.asarray(pictures, float)
    n, h, wd = pics.shape[:3]
    ncols = int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    cells = [[pics[r * ncols + j] if r * ncols + j < n else None for j in range(ncols)] for r in range(nrows)]
    gap = max(2, int(np.ceil(0.3 * h)))             # band under each row for the unit numbers
    mosaic = _mosaic(cells, fill=1.0 if rgb else np.nan, gap_y=gap)
    panel_w = max(2.6, max(0.55, min(0.9, 6.5 / ncols)) * ncols)
    fig, axes = new_figure(1, 1, width=panel_w + 1.6, height=panel_w * mosaic.shape[0] / mosaic.shape[1] + 0.8)
    ax = axes[0, 0]
    im = ax.imshow(mosaic, cmap=None if rgb else _cmap(DIV_CMAP), vmin=-1, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    for u in range(n):
        r, j = divmod(u, ncols)
        ax.text(1 + j * (wd + 1) + wd / 2, 1 + r * (h + gap) + h + gap / 2 - 0.5, str(u), fontsize=6,
                ha="center", va="center")
    if not rgb:
        fig.colorbar(im, ax=ax, shrink=0.8, pad=0.02, label="weight / unit's largest |weight|")
    more = f" (first {n} of {n_units})" if n_units > n else ""
    ax.set_title(f"{name}: incoming weights of each unit{more}\n(unit number below; laid out like the input)",
                 fontsize=8)
    return to_png(fig)


# --- interactive charts (Vega-Lite via Altair), drawn in the browser ---------------------------------------------
# Named datasets (built by nichelab.reporting.pages.analyze.unit_datasets):
#   an_units:   unit, layer, selectivity, cost (overall accuracy lost, pp; null without ablation), dead ("dead"/"live"),
#               pref (preferred class name)
#   an_means:   unit, cls (class position), class (name), mean (class-mean activation), pref (bool)
#   an_top:     unit, rank (1 = strongest), sample, class, value, url (PNG data URL or null)
# Page parameter: ``unit`` (a unit name such as "L1:3").

def _vl(chart) -> dict:
    import altair as alt  # noqa: F401  (imported lazily: the PNG figures above do not need it)
    d = chart.to_dict(validate=False)
    d.pop("$schema", None)
    d.pop("config", None)
    return d


def _unit_param(unit: str) -> list:
    return [{"name": "unit", "value": unit}]


def chart_unit_map(unit: str, ablation: bool) -> dict:
    """Every unit as a point: selectivity (x) against the accuracy its ablation costs (y), or against its layer
    when no ablation ran; dead units as grey crosses; the selected unit ringed. Clicking a point selects it."""
    import altair as alt
    from ..charts import OKABE_ITO as OI, axis
    data = alt.Data(name="an_units")
    y = (alt.Y("cost:Q", axis=alt.Axis(**axis("accuracy lost without the unit (pp)")))
         if ablation else alt.Y("layer:N", axis=alt.Axis(**axis("layer"))))
    tips = [alt.Tooltip("unit:N"), alt.Tooltip("selectivity:Q", format=".2f"), alt.Tooltip("pref:N", title="preferred class"),
            alt.Tooltip("dead:N", title="state")] + ([alt.Tooltip("cost:Q", format=".1f", title="cost (pp)")] if ablation else [])
    base = alt.Chart(data, transform=[{"calculate": "datum.dead == 'dead' ? 0 : datum.selectivity", "as": "sx"}])
    pts = base.mark_point(size=45, filled=True, opacity=0.75).encode(
        x=alt.X("sx:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(**axis("selectivity (0 = no class preference, 1 = one class only)", format=".1f", tickCount=10))),
        y=y, color=alt.Color("dead:N", scale=alt.Scale(domain=["live", "dead"], range=[OI[0], "#999999"]),
                             legend=alt.Legend(title="unit", orient="bottom")),
        shape=alt.Shape("dead:N", scale=alt.Scale(domain=["live", "dead"], range=["circle", "cross"]), legend=None),
        tooltip=tips)
    ring = base.transform_filter("datum.unit == unit").mark_point(size=260, strokeWidth=3, color=OI[5]).encode(
        x=alt.X("sx:Q"), y=y, tooltip=tips)
    spec = _vl(alt.layer(pts, ring).properties(width=660, height=260 if ablation else 40 + 24 * 4))
    spec["params"] = _unit_param(unit)
    return spec


def chart_unit_class_means(unit: str, n_classes: int, long_names: bool = False) -> dict:
    """The selected unit's mean activation on each class; its preferred class in orange."""
    import altair as alt
    from ..charts import OKABE_ITO as OI, axis
    c = alt.Chart(alt.Data(name="an_means"), transform=[
        {"filter": "datum.unit == unit"},
        {"calculate": "datum.pref ? 'preferred class' : 'other classes'", "as": "which"}]).mark_bar().encode(
        x=alt.X("class:N", sort=alt.EncodingSortField(field="cls", order="ascending"),
                axis=alt.Axis(**axis("class", labelAngle=-40 if long_names else 0, labelLimit=90))),
        y=alt.Y("mean:Q", axis=alt.Axis(**axis("mean activation on the class (a.u.)"))),
        color=alt.Color("which:N", scale=alt.Scale(domain=["other classes", "preferred class"], range=[OI[0], OI[1]]),
                        legend=alt.Legend(title=None, orient="bottom")),
        tooltip=[alt.Tooltip("unit:N"), alt.Tooltip("class:N"), alt.Tooltip("mean:Q", format=".4f")])
    spec = _vl(c.properties(width=min(660, max(240, 40 * n_classes)), height=200))
    spec["params"] = _unit_param(unit)
    return spec


def chart_unit_top(unit: str, pictures: bool, class_names: list[str] = ()) -> dict:
    """The selected unit's strongest inputs: their activation values by rank (bars coloured by class) and, for
    image data, the inputs themselves above the bars."""
    import altair as alt
    from ..charts import OKABE_ITO as OI, axis
    data = alt.Data(name="an_top")
    x = alt.X("rank:O", scale=alt.Scale(paddingInner=0.2),
              axis=alt.Axis(**axis("rank of the input (1 = drives the unit most)", labelAngle=0)))
    tips = [alt.Tooltip("unit:N"), alt.Tooltip("rank:O"), alt.Tooltip("sample:Q", title="sample index"),
            alt.Tooltip("class:N"), alt.Tooltip("value:Q", format=".4f", title="activation")]
    bars = alt.Chart(data, transform=[{"filter": "datum.unit == unit"}]).mark_bar().encode(
        x=x, y=alt.Y("value:Q", axis=alt.Axis(**axis("activation (a.u.)"))),
        color=alt.Color("class:N", scale=alt.Scale(
            domain=list(class_names) + ["not stored"],
            range=[OI[i % len(OI)] for i in range(len(class_names))] + ["#bbbbbb"]) if class_names else alt.Scale(range=OI),
            legend=alt.Legend(title="class (grey: not stored in results.json)", orient="bottom", columns=11,
                              titleLimit=400)),
        tooltip=tips).properties(width=660, height=170)
    if not pictures:
        spec = _vl(bars)
    else:
        imgs = alt.Chart(data, transform=[{"filter": "datum.unit == unit && isValid(datum.url)"}]).mark_image(
            width=56, height=56, smooth=False).encode(
            x=alt.X("rank:O", scale=alt.Scale(paddingInner=0.2), axis=alt.Axis(title=None, labels=False, ticks=False,
                                                                                 domain=False, grid=False)),
            y=alt.value(32), url=alt.Url("url:N"), tooltip=tips).properties(width=660, height=64, view={"stroke": None})
        spec = _vl(alt.vconcat(imgs, bars, spacing=4).resolve_scale(x="shared"))
    spec["params"] = _unit_param(unit)
    return spec
