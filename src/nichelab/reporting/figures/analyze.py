"""Figures of ``nichelab analyze``: the unit census of one model.

Every function takes the figure-ready numbers of ``AnalyzeResult.views`` (see
``nichelab.studies.analyze.views``), arranged by the page into named datasets, and returns a
Vega-Lite spec drawn in the browser; nothing here measures, scales or sorts. Units of a layer come
already in one ``order`` (preferred class, then selectivity, dead units last), so that the
class-mean and ablation heatmaps line up. The two picture figures (:func:`fig_top_examples`,
:func:`fig_first_weights`) stay PNG (matplotlib): they are mosaics of input pictures, and the unit
browser already shows each unit's top inputs as image marks.
"""
from __future__ import annotations

import numpy as np

from ..style import DIV_CMAP, new_figure, to_png

__all__ = ["fig_top_examples", "fig_first_weights", "chart_class_means", "chart_selectivity", "chart_ablation",
           "chart_probes", "chart_unit_map", "chart_unit_class_means", "chart_unit_top"]

_GREY = "#d9d9d9"


def _cmap(name: str):
    import matplotlib
    return matplotlib.colormaps[name].with_extremes(bad=_GREY)


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
# Named datasets (built by nichelab.reporting.pages.analyze.unit_datasets and census_datasets):
#   an_cm:      layer, pos (display order), unit, k (unit index), row (class position), class, z (class mean / the
#               unit's largest, null for dead units)
#   an_abl:     layer, pos, unit, k, row (0 = overall, then class position + 1), class ("overall" or the name), pp
#               (accuracy lost, percentage points), key (indispensable: true on every row of that unit)
#   an_sel:     layer, li (layer position), x (li + fixed jitter), s (selectivity of a live unit), unit
#   an_selbox:  layer, li, n, q1, med, q3, lo, hi (box-plot statistics of the live units' selectivity)
#   an_probe:   layer, li, split ("held-out samples" / "training samples"), acc (%)
#   an_units:   unit, layer, selectivity, cost (overall accuracy lost, pp; null without ablation), dead ("dead"/"live"),
#               pref (preferred class name)
#   an_means:   unit, cls (class position), class (name), mean (class-mean activation), pref (bool)
#   an_top:     unit, rank (1 = strongest), sample, class, value, url (PNG data URL or null)
# Page parameters: ``unit`` (a unit name such as "L1:3") and ``clayer`` (the layer the heatmaps show).

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


def _heat(data: str, unit: str, layer: str, colour, rows_title: str, n_rows: int, tips: list,
          extra: list = ()) -> dict:
    import altair as alt
    from ..charts import axis
    x = alt.X("k:O", sort=alt.EncodingSortField(field="pos", order="ascending"),
              axis=alt.Axis(**axis("unit index (sorted by preferred class, then selectivity; dead units last)",
                                   labelOverlap="greedy", labelSeparation=3, labelAngle=0, labelFontSize=9)))
    y = alt.Y("class:N", sort=alt.EncodingSortField(field="row", order="ascending"),
              axis=alt.Axis(**axis(rows_title, labelLimit=120)))
    base = alt.Chart(alt.Data(name=data), transform=[{"filter": "datum.layer == clayer"}])
    grey = base.mark_rect(color="#d9d9d9").encode(x=x, y=y, tooltip=tips)        # dead units: no value, grey
    cells = base.mark_rect(cursor="pointer").encode(x=x, y=y, color=colour, tooltip=tips)
    ring = base.transform_filter("datum.unit == unit").mark_rect(fill=None, stroke="black", strokeWidth=2).encode(
        x=x, y=y)
    spec = _vl(alt.layer(grey, cells, ring, *extra).properties(width=560, height=min(420, 16 * n_rows)))
    spec["params"] = _unit_param(unit) + [{"name": "clayer", "value": layer}]
    return spec


def chart_class_means(unit: str, layer: str, n_classes: int) -> dict:
    """The selected layer's class-mean heatmap (classes x units, each unit scaled to its largest class mean;
    dead units grey); the selected unit's column outlined; clicking a cell selects its unit."""
    import altair as alt
    colour = alt.Color("z:Q", scale=alt.Scale(scheme="viridis", domain=[0, 1]),
                       legend=alt.Legend(title=["class mean /", "unit's largest"], orient="right", gradientLength=120))
    tips = [alt.Tooltip("unit:N"), alt.Tooltip("class:N"), alt.Tooltip("z:Q", format=".2f", title="scaled class mean")]
    return _heat("an_cm", unit, layer, colour, "class", n_classes, tips)


def chart_ablation(unit: str, layer: str, n_classes: int, vmax: float) -> dict:
    """Accuracy lost when each unit of the selected layer is ablated alone: overall (top row) and per class,
    a diverging colour scale, linear within +-1 point and logarithmic beyond; indispensable units marked by a
    triangle on the overall row. Clicking a cell selects its unit."""
    import altair as alt
    vmax = float(vmax)
    ticks = sorted({round(vmax, 1), -round(vmax, 1)} | {float(t) for t in (1, 10, 100) if t < 0.8 * vmax}
                   | {-float(t) for t in (1, 10, 100) if t < 0.8 * vmax})
    colour = alt.Color("pp:Q", scale=alt.Scale(type="symlog", constant=1, scheme="purpleorange",
                                               domain=[-float(vmax), float(vmax)], domainMid=0),
                       legend=alt.Legend(title=["accuracy lost", "(pp; log scale", "beyond ±1;", "< 0: it rose)"],
                                         orient="right", gradientLength=140, format=".0f", values=ticks,
                                         titleFontSize=11, labelFontSize=10))
    tips = [alt.Tooltip("unit:N"), alt.Tooltip("class:N", title="accuracy on"),
            alt.Tooltip("pp:Q", format=".2f", title="lost (percentage points)"), alt.Tooltip("keyText:N", title="indispensable")]
    keys = alt.Chart(alt.Data(name="an_abl"), transform=[
        {"filter": "datum.layer == clayer && datum.key && datum.row == 0"}]).mark_point(
        shape="triangle-down", filled=True, size=40, color="black", yOffset=-2).encode(
        x=alt.X("k:O", sort=alt.EncodingSortField(field="pos", order="ascending")),
        y=alt.Y("class:N", sort=alt.EncodingSortField(field="row", order="ascending")), tooltip=tips)
    spec = _heat("an_abl", unit, layer, colour, "accuracy on (overall, then each class)", n_classes + 1, tips,
                 [keys])
    for leaf in spec["layer"]:
        leaf.setdefault("transform", [])
        leaf["transform"].append({"calculate": "datum.key ? 'yes' : 'no'", "as": "keyText"})
    return spec


def chart_selectivity(unit: str, layers: list[str]) -> dict:
    """Class selectivity of every live unit by layer: one dot per unit (hover for its name; click to select),
    a box from the lower to the upper quartile with the median, whiskers to the most extreme values within
    1.5 IQR."""
    import altair as alt
    import json
    from ..charts import OKABE_ITO as OI, axis
    n = max(len(layers), 1)
    xs = alt.Scale(domain=[-0.5, n - 0.5], nice=False, zero=False)
    x = alt.X("x:Q", scale=xs, axis=alt.Axis(**axis("layer (input side to output side)", values=list(range(n)),
                                                     labelExpr=f"{json.dumps(list(layers))}[datum.value]", grid=False)))
    ys = alt.Scale(domain=[0, 1])
    y = alt.Y("s:Q", scale=ys, axis=alt.Axis(**axis("class selectivity (0: classes alike, 1: one class)")))
    dots = alt.Chart(alt.Data(name="an_sel")).mark_point(filled=True, size=22, opacity=0.6, color=OI[0],
                                                         cursor="pointer").encode(
        x=x, y=y, tooltip=[alt.Tooltip("unit:N"), alt.Tooltip("layer:N"), alt.Tooltip("s:Q", format=".3f", title="selectivity")])
    sel = alt.Chart(alt.Data(name="an_sel"), transform=[{"filter": "datum.unit == unit"}]).mark_point(
        size=200, strokeWidth=3, color=OI[5]).encode(x=x, y=y)
    box_data = alt.Data(name="an_selbox")
    spread = [{"calculate": "datum.li - 0.25", "as": "xa"}, {"calculate": "datum.li + 0.25", "as": "xb"}]
    tips = [alt.Tooltip("layer:N"), alt.Tooltip("n:Q", title="live units"), alt.Tooltip("hi:Q", format=".3f", title="upper whisker"),
            alt.Tooltip("q3:Q", format=".3f", title="upper quartile"), alt.Tooltip("med:Q", format=".3f", title="median"),
            alt.Tooltip("q1:Q", format=".3f", title="lower quartile"), alt.Tooltip("lo:Q", format=".3f", title="lower whisker")]
    whisker = alt.Chart(box_data).mark_rule(color="#555555").encode(
        x=alt.X("li:Q", scale=xs), y=alt.Y("lo:Q", scale=ys), y2=alt.Y2("hi:Q"), tooltip=tips)
    box = alt.Chart(box_data, transform=spread).mark_rect(fill="#ffffff", fillOpacity=0.0, stroke="#555555",
                                                           strokeWidth=1.5).encode(
        x=alt.X("xa:Q", scale=xs), x2=alt.X2("xb:Q"), y=alt.Y("q1:Q", scale=ys), y2=alt.Y2("q3:Q"), tooltip=tips)
    med = alt.Chart(box_data, transform=spread).mark_rule(color=OI[5], strokeWidth=3).encode(
        x=alt.X("xa:Q", scale=xs), x2=alt.X2("xb:Q"), y=alt.Y("med:Q", scale=ys), tooltip=tips)
    spec = _vl(alt.layer(whisker, box, dots, med, sel).properties(width=min(660, max(300, 140 * n)), height=300))
    spec["title"] = {"text": "dot: one live unit · box: quartiles · orange bar: median · line: within 1.5 IQR · "
                             "ring: the selected unit", "fontSize": 11, "fontWeight": "normal", "anchor": "start",
                     "limit": 700}
    spec["params"] = _unit_param(unit)
    return spec


def chart_probes(layers: list[str], chance: float, model_acc: float | None) -> dict:
    """Linear-probe accuracy by layer on held-out and training samples, with chance (majority class) and the
    model's own accuracy as labelled rules."""
    import altair as alt
    from ..charts import OKABE_ITO as OI, axis
    x = alt.X("layer:N", sort=list(layers), axis=alt.Axis(**axis("layer (input = the raw input, flattened)", labelAngle=0)))
    lo = max(0.0, 100 * chance - 10)
    y = alt.Y("acc:Q", scale=alt.Scale(domain=[lo, 100], nice=False, clamp=True), axis=alt.Axis(**axis("accuracy (%)")))
    splits = ["held-out samples", "training samples"]
    colour = alt.Color("split:N", sort=splits, scale=alt.Scale(domain=splits, range=[OI[0], OI[1]]),
                       legend=alt.Legend(title="linear probe on", orient="bottom"))
    lines = alt.Chart(alt.Data(name="an_probe")).mark_line(strokeWidth=2, point=alt.OverlayMarkDef(size=60, filled=True)).encode(
        x=x, y=y, color=colour, strokeDash=alt.StrokeDash("split:N", sort=splits, scale=alt.Scale(domain=splits, range=[[1, 0], [5, 3]]),
                                                          legend=None),
        tooltip=[alt.Tooltip("layer:N"), alt.Tooltip("split:N", title="probe on"), alt.Tooltip("acc:Q", format=".1f", title="accuracy (%)")])
    refs = [(100 * chance, f"chance (majority class) {100 * chance:.0f}%", "black", [2, 2])]
    if model_acc is not None:
        refs.append((100 * model_acc, f"the model itself {100 * model_acc:.1f}%", OI[2], [6, 2, 1, 2]))
    spec = {"layer": [_vl(lines)], "width": min(600, max(300, 110 * len(layers))), "height": 240}
    for v, text, col, dash in refs:
        spec["layer"].append({"data": {"values": [{}]}, "mark": {"type": "rule", "color": col, "strokeDash": dash},
                              "encoding": {"y": {"datum": v}}})
        spec["layer"].append({"data": {"values": [{}]}, "mark": {"type": "text", "align": "left", "dx": 4, "dy": -6,
                                                                  "fontSize": 11, "color": col},
                              "encoding": {"x": {"value": 0}, "y": {"datum": v}, "text": {"value": text}}})
    return spec
