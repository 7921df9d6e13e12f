"""Charts and pictures of the hierarchy study, drawn in the browser (Vega-Lite via Altair).

Nothing here measures: every function takes numbers the result holds and returns rows of a named
dataset or a Vega-Lite specification. Trained networks are drawn in blue (solid lines, filled
marks), their random initialisations in orange (dashed lines, open marks), chance and thresholds
in grey. Pictures (filters, IoU examples, top windows, feature visualisations) are small PNG data
URLs drawn by Vega image marks (:func:`tile_png`, :func:`chart_pictures`).
"""
from __future__ import annotations

import numpy as np

from ..charts import OKABE_ITO, axis

__all__ = ["cell_label", "heatmap_vmax", "TRAINED", "RANDOM", "NETWORKS", "tile_png", "chart_tiles", "depth_rows",
           "depth_ylim", "chart_depth", "strip_rows", "chart_strip", "level_rows", "chart_levels", "part_rows",
           "chart_parts", "filter_tiles", "tuning_rows", "chart_tuning", "iou_tiles", "chart_pictures"]

TRAINED, RANDOM = OKABE_ITO[0], OKABE_ITO[1]
#: The two networks compared everywhere, as the charts name them.
NETWORKS = ("trained", "random init (untrained)")
_LEVEL_COLORS = {"edge": OKABE_ITO[4], "part": OKABE_ITO[2], "object": OKABE_ITO[3], "none": "#DDDDDD"}


def _floats(values) -> np.ndarray:
    """A float array of numbers as the result holds them (JSON's None read back as NaN)."""
    return np.asarray(values, dtype=float)


def _ylim(p: dict):
    """The panel's y range; ``"auto"`` zooms in on small shares, never below 0.3 so noise does not look like a trend."""
    ylim = p.get("ylim", (-0.03, 1.03))
    if ylim != "auto":
        return ylim
    values = [_floats(e["per_seed"]) for s in p["series"] for e in (s.get("trained"), s.get("random")) if e is not None]
    top = max([float(np.nanmax(v)) for v in values if np.isfinite(v).any()] + [0.0])
    return -0.01, min(1.03, max(0.3, 1.25 * top))


def cell_label(c: float) -> str:
    """A heatmap cell's text: whole numbers as they are, others with two significant digits
    (``2 -> "2"``, ``0.333333 -> "0.33"``, ``2.3333 -> "2.3"``)."""
    c = float(c)
    return f"{c:.0f}" if c == round(c) else f"{c:.2g}"


def heatmap_vmax(*arrays) -> float:
    """The colour scale's top: the largest finite value of the arrays (at least 1), so the bar covers the data."""
    finite = [float(np.nanmax(a)) for a in arrays if np.size(a) and np.isfinite(a).any()]
    return max(finite + [1.0])


_OUTSIDE = np.array([0.78, 0.85, 0.91])     # light blue: outside the image (windows at the border)
_TILE = 40                                   # display pixels per tile side
_GAP = 5


def _tile_rgb(img: np.ndarray, vmin: float, vmax: float) -> tuple[np.ndarray, float]:
    """(C, h, w) or (h, w) image -> (_TILE, _TILE, 3) RGB (nearest-neighbour), and the scale factor."""
    img = np.asarray(img, dtype=float)
    if img.ndim == 3:
        img = img[0] if img.shape[0] == 1 else np.moveaxis(img, 0, -1)
    h, w = img.shape[:2]
    rows = np.minimum((np.arange(_TILE) * h / _TILE).astype(int), h - 1)
    cols = np.minimum((np.arange(_TILE) * w / _TILE).astype(int), w - 1)
    big = img[rows][:, cols]
    norm = np.clip((big - vmin) / max(vmax - vmin, 1e-12), 0, 1)
    rgb = np.repeat(norm[..., None], 3, axis=-1) if norm.ndim == 2 else norm
    rgb[~np.isfinite(big) if big.ndim == 2 else ~np.isfinite(big).all(-1)] = _OUTSIDE
    return rgb, _TILE / max(h, w)


# --- interactive galleries and depth charts (Vega-Lite via Altair), drawn in the browser ---------------------------
# Named dataset ``hi_tiles`` (built by nichelab.reporting.pages.hierarchy.tile_rows): one row per picture,
#   unit, kind ("top" | "featvis"), col (position in its row), title, url (PNG data URL, receptive field boxed).
# Named dataset ``hi_depth``: panel, layer, li (layer position), series, init ("trained" | "random init"),
#   value, lo, hi (range over seeds).
# Page parameter: ``hunit`` (a unit name such as "L2:5").

def tile_png(img, vmin: float, vmax: float, box=None) -> str:
    """One gallery picture as a PNG data URL: grey (or RGB) tile of ``_TILE`` px, NaN (outside the image) light
    blue, the receptive field ``box`` = (row, col, side) outlined in orange."""
    import base64
    import io

    from PIL import Image
    rgb, f = _tile_rgb(img, vmin, vmax)
    if box is not None and box[2] * f < _TILE - 1e-9:
        r0, c0, s = (int(round(v * f)) for v in box)
        r1, c1 = min(r0 + s, _TILE) - 1, min(c0 + s, _TILE) - 1
        r0, c0 = max(r0, 0), max(c0, 0)
        orange = np.array([0xE6, 0x9F, 0x00]) / 255
        rgb[r0, c0:c1 + 1] = rgb[r1, c0:c1 + 1] = orange
        rgb[r0:r1 + 1, c0] = rgb[r0:r1 + 1, c1] = orange
    im = Image.fromarray((255 * np.clip(rgb, 0, 1)).round().astype(np.uint8), "RGB").resize((2 * _TILE, 2 * _TILE),
                                                                                           Image.NEAREST)
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _vl(chart) -> dict:
    d = chart.to_dict(validate=False)
    d.pop("$schema", None)
    d.pop("config", None)
    return d


def chart_tiles(kind: str, unit: str, n_cols: int) -> dict:
    """The selected unit's pictures of one ``kind`` ("top": its top held-out windows; "featvis": its optimised
    input, top windows and optimised input before training), each titled (activation or multiple of the best)."""
    import altair as alt
    side = 72
    data = alt.Data(name="hi_tiles")
    tf = [{"filter": f"datum.unit == hunit && datum.kind == '{kind}'"}]
    x = alt.X("col:O", scale=alt.Scale(domain=list(range(n_cols)), paddingInner=0.12),
              axis=alt.Axis(title=None, labels=False, ticks=False, domain=False, grid=False))
    imgs = alt.Chart(data, transform=tf).mark_image(width=side, height=side, smooth=False).encode(
        x=x, y=alt.value(side / 2 + 34), url=alt.Url("url:N"),
        tooltip=[alt.Tooltip("unit:N"), alt.Tooltip("title:N", title="picture")])
    text = alt.Chart(data, transform=tf + [{"calculate": "split(datum.title, '\\n')", "as": "lines"}]).mark_text(
        fontSize=11, baseline="top", lineHeight=13).encode(x=x, y=alt.value(2), text=alt.Text("lines:N"))
    spec = _vl(alt.layer(imgs, text).properties(width=min(700, n_cols * (side + 14)), height=side + 38,
                                                 view={"stroke": None}))
    spec["params"] = [{"name": "hunit", "value": unit}]
    return spec


def depth_rows(names: list[str], panel: dict) -> list[dict]:
    """Rows of one depth panel: per series, network and layer its mean and range
    over seeds; ``chance`` and ``threshold`` as reference lines. NaN values (a layer without the measure) are left
    out."""
    single = len(panel["series"]) == 1
    rows = []

    def add(line, kind, series, mean, per_seed=None):
        m = _floats(mean)
        ps = _floats(per_seed) if per_seed is not None else m[None, :]
        ps = ps.reshape(-1, len(names)) if ps.size else m[None, :]
        with np.errstate(all="ignore"):
            lo, hi = np.nanmin(ps, axis=0), np.nanmax(ps, axis=0)
        for i, n in enumerate(names):
            if np.isfinite(m[i]):
                rows.append({"layer": n, "li": i, "series": series, "line": line, "kind": kind,
                             "value": round(float(m[i]), 4), "lo": round(float(lo[i]), 4) if np.isfinite(lo[i]) else None,
                             "hi": round(float(hi[i]), 4) if np.isfinite(hi[i]) else None})

    for s in panel["series"]:
        if s.get("trained") is not None:     # None: nothing trained to draw (every seed diverged)
            add("trained" if single else s["label"], "trained", s["label"], s["trained"]["mean"],
                s["trained"].get("per_seed"))
        if s.get("random") is not None:
            add("random init (untrained)" if single else s["label"], "random init (untrained)", s["label"],
                s["random"]["mean"], s["random"].get("per_seed"))
    if panel.get("chance") is not None:
        add(panel.get("chance_label", "chance"), "reference", panel.get("chance_label", "chance"), panel["chance"])
    if panel.get("threshold") is not None:
        label = panel.get("threshold_label", f"threshold {panel['threshold']:g}")
        add(label, "reference", label, [panel["threshold"]] * len(names))
    return rows


def depth_ylim(panel: dict) -> tuple[float, float]:
    """The y range of a depth panel (``"auto"`` zooms in on small shares, never below 0.3)."""
    return tuple(_ylim(panel))


def chart_depth(data_name: str, rows: list[dict], title: str, ylabel: str, ylim=(-0.03, 1.03)) -> dict:
    """One depth panel: a measure by layer; trained solid, random init dashed, reference lines dotted; one colour per
    measure (blue trained / orange random init when there is one measure); the range over seeds as a band; hover a
    point for its value."""
    import altair as alt
    lines = list(dict.fromkeys(d["line"] for d in rows))
    palette = [c for c in OKABE_ITO if c not in ("#F0E442",)]
    ref = {d["line"] for d in rows if d["kind"] == "reference"}
    colours, k = [], 0
    fixed = {"trained": TRAINED, "random init (untrained)": RANDOM}     # one measure: its networks' colours
    for ln in lines:
        if ln in ref:
            colours.append("#555555")
        elif ln in fixed:
            colours.append(fixed[ln])
        else:
            colours.append(palette[k % len(palette)])
            k += 1
    data = alt.Data(name=data_name)
    x = alt.X("layer:N", sort=alt.EncodingSortField(field="li", order="ascending"),
              axis=alt.Axis(**axis("layer (input → output)", labelAngle=0)))
    scale = alt.Scale(domain=[float(v) for v in ylim], nice=False)
    y = alt.Y("value:Q", scale=scale, axis=alt.Axis(**axis(ylabel)))
    colour = alt.Color("line:N", scale=alt.Scale(domain=lines, range=colours),
                       legend=alt.Legend(title=None, orient="bottom", columns=2, labelLimit=300, symbolType="stroke",
                                         symbolStrokeWidth=3))
    dash = alt.StrokeDash("kind:N", scale=alt.Scale(domain=["trained", "random init (untrained)", "reference"],
                                                    range=[[1, 0], [6, 3], [2, 2]]),
                          legend=None)   # solid / dashed / dotted is said in the captions
    tips = [alt.Tooltip("layer:N"), alt.Tooltip("series:N", title="measure"), alt.Tooltip("kind:N", title="network"),
            alt.Tooltip("value:Q", format=".3f", title="mean"), alt.Tooltip("lo:Q", format=".3f", title="lowest seed"),
            alt.Tooltip("hi:Q", format=".3f", title="highest seed")]
    base = alt.Chart(data)
    band = base.transform_filter("isValid(datum.lo) && datum.kind != 'reference'").transform_calculate(
        band="datum.line").mark_area(
        opacity=0.15).encode(x=x, y=alt.Y("lo:Q", scale=scale), y2=alt.Y2("hi:Q"),
                             fill=alt.Fill("band:N", scale=alt.Scale(domain=lines, range=colours), legend=None),
                             detail=alt.Detail("kind:N"))
    line = base.mark_line(point=True, strokeWidth=2, clip=True).encode(
        x=x, y=y, color=colour, strokeDash=dash, detail=alt.Detail("kind:N"), tooltip=tips)
    banded = any(d["lo"] is not None and d["lo"] != d["hi"] and d["kind"] != "reference" for d in rows)
    layers = [band, line] if banded else [line]
    spec = _vl(alt.layer(*layers).properties(width=300, height=220, title=alt.TitleParams(title, fontSize=13)))
    if banded:   # the band's fill has no legend of its own; keep the lines' colour legend
        spec["resolve"] = {"scale": {"fill": "independent"}, "legend": {"fill": "independent", "color": "independent"}}
    return spec


# --- every unit of every layer: OSI and object AUPRC, per seed -----------------------------------------------------
# Named dataset (one per measure): seed, layer, li (layer position), unit, network (NETWORKS), value, x (li shifted
#   left for trained, right for random init, with a fixed jitter per unit), state ("live" | "silent").
# Page parameter: ``hseed`` (a seed number).

def _jitter(k: int) -> float:
    """A fixed horizontal offset in [-0.09, 0.09] for unit ``k`` (golden-ratio sequence: no two neighbours overlap)."""
    return round(((k * 0.6180339887) % 1.0 - 0.5) * 0.18, 4)


def strip_rows(seeds: list[int], units: dict, field: str) -> list[dict]:
    """Rows of a unit strip: every unit's ``field`` (``"osi"`` or ``"object_ap"``) for every seed and both networks.

    ``units``: the result's ``units`` (``{"trained" | "random": [per seed: [per layer: {"layer", "units"}] or
    None]}``); a diverged seed (None) and non-finite values are left out.
    """
    rows = []
    for which, net, dx in (("trained", NETWORKS[0], -0.2), ("random", NETWORKS[1], 0.2)):
        for seed, layers in zip(seeds, units[which]):
            if layers is None:
                continue
            for li, layer in enumerate(layers):
                for k, u in enumerate(layer["units"]):
                    v = u.get(field)
                    if v is None or not np.isfinite(v):
                        continue
                    rows.append({"seed": int(seed), "layer": layer["layer"], "li": li, "unit": u["name"],
                                 "network": net, "value": round(float(v), 4), "x": round(li + dx + _jitter(k), 4),
                                 "state": "silent on every held-out image" if u["dead"] else "live"})
    return rows


def _layer_axis(names: list[str]):
    import json

    import altair as alt
    return alt.Axis(**axis("layer (input → output)", values=list(range(len(names))), grid=False,
                           labelExpr=f"{json.dumps(list(names))}[datum.value]"))


def chart_strip(data_name: str, names: list[str], seed: int, ylabel: str, title: str, *,
                threshold: float | None = None, threshold_label: str = "", chance=None,
                reference: tuple | None = None, ylim=(-0.03, 1.03)) -> dict:
    """Every unit's value by layer for the selected seed (``hseed``): trained dots left of each layer, random-init
    squares right, black bars at each group's median (computed from the drawn dots); an optional threshold (grey
    dashes), chance per layer (black dots) and published reference values (grey diamonds). Hover a dot for its unit.

    ``chance``: (L,) values or None; ``reference``: ``(label, {layer index: value})`` or None.
    """
    import altair as alt
    L = len(names)
    x_scale = alt.Scale(domain=[-0.5, L - 0.5], nice=False, zero=False)
    y_scale = alt.Scale(domain=[float(v) for v in ylim], nice=False)
    refs = [("median of the layer's units", "#000000")]
    extra = []
    if threshold is not None:
        refs.append((threshold_label or f"threshold {threshold:g}", "#777777"))
        extra.append(alt.Chart(alt.Data(values=[{"y": float(threshold), "what": refs[-1][0]}])).mark_rule(
            strokeDash=[6, 4], strokeWidth=1.5).encode(y=alt.Y("y:Q", scale=y_scale), color=alt.Color("what:N")))
    if chance is not None:
        refs.append(("chance (share of positives)", "#333333"))
        pts = [{"x": i, "y": round(float(c), 4), "what": refs[-1][0]} for i, c in enumerate(_floats(chance))
               if np.isfinite(c)]
        extra.append(alt.Chart(alt.Data(values=pts)).mark_line(strokeDash=[2, 2], strokeWidth=1.5).encode(
            x=alt.X("x:Q", scale=x_scale), y=alt.Y("y:Q", scale=y_scale), color=alt.Color("what:N"),
            tooltip=[alt.Tooltip("y:Q", format=".2f", title="chance")]))
    if reference:
        label, ref = reference
        refs.append((label, "#555555"))
        pts = [{"x": int(i), "y": float(v), "what": label} for i, v in ref.items()]
        extra.append(alt.Chart(alt.Data(values=pts)).mark_point(shape="diamond", size=70, filled=True).encode(
            x=alt.X("x:Q", scale=x_scale), y=alt.Y("y:Q", scale=y_scale), color=alt.Color("what:N"),
            tooltip=[alt.Tooltip("what:N", title="reference"), alt.Tooltip("y:Q", format=".2f", title="value")]))
    domain = list(NETWORKS) + [r[0] for r in refs]
    colours = [TRAINED, RANDOM] + [r[1] for r in refs]
    colour = alt.Color("what:N", scale=alt.Scale(domain=domain, range=colours),
                       legend=alt.Legend(title=None, orient="bottom", columns=2, labelLimit=320, labelFontSize=11))
    data = alt.Data(name=data_name)
    pick = [{"filter": "datum.seed == hseed"}, {"calculate": "datum.network", "as": "what"}]
    tips = [alt.Tooltip("unit:N"), alt.Tooltip("network:N"), alt.Tooltip("value:Q", format=".3f", title=ylabel),
            alt.Tooltip("state:N")]
    x = alt.X("x:Q", scale=x_scale, axis=_layer_axis(names))
    y = alt.Y("value:Q", scale=y_scale, axis=alt.Axis(**axis(ylabel)))
    dots = alt.Chart(data, transform=pick).mark_point(size=28, opacity=0.75, filled=True).encode(
        x=x, y=y, color=colour,
        shape=alt.Shape("network:N", scale=alt.Scale(domain=list(NETWORKS), range=["circle", "square"]), legend=None),
        tooltip=tips)
    median = alt.Chart(data, transform=pick + [
        {"aggregate": [{"op": "median", "field": "value", "as": "median"}], "groupby": ["li", "layer", "network"]},
        {"calculate": "datum.li + (datum.network == 'trained' ? -0.2 : 0.2)", "as": "xm"},
        {"calculate": "datum.xm - 0.15", "as": "x0"}, {"calculate": "datum.xm + 0.15", "as": "x1"},
        {"calculate": "'median of the layer\\'s units'", "as": "what"}]).mark_rule(strokeWidth=3).encode(
        x=alt.X("x0:Q", scale=x_scale), x2="x1:Q", y=alt.Y("median:Q", scale=y_scale), color=alt.Color("what:N"),
        tooltip=[alt.Tooltip("layer:N"), alt.Tooltip("network:N"),
                 alt.Tooltip("median:Q", format=".3f", title=f"median {ylabel}")])
    spec = _vl(alt.layer(dots, median, *extra).properties(width=520, height=260,
                                                          title=alt.TitleParams(title, fontSize=13)))
    spec["params"] = [{"name": "hseed", "value": int(seed)}]
    return spec


# --- Network Dissection: the level of each unit's best concept, per conv layer --------------------------------------
def level_rows(names: list[str], levels: dict) -> list[dict]:
    """Rows: network, layer, li, level ("edge", "part", "object", "none"), share. ``levels``: the result's
    ``views["parts"]["levels"]`` (``{"trained" | "random": {level: (conv layers,)}}``)."""
    rows = []
    for which, net in (("trained", NETWORKS[0]), ("random", NETWORKS[1])):
        for o, level in enumerate(("edge", "part", "object", "none")):
            for li, (n, v) in enumerate(zip(names, _floats(levels[which][level]))):
                rows.append({"network": net, "layer": n, "li": li, "level": level, "order": o,
                             "share": round(float(np.nan_to_num(v)), 4)})
    return rows


def chart_levels(data_name: str) -> dict:
    """Stacked bars: per conv layer, the share of units whose best concept is an edge, a part, an object or none
    above the IoU threshold; trained (left panel) and random init (right). Hover a bar for its share."""
    import altair as alt
    data = alt.Data(name=data_name)
    colour = alt.Color("level:N", scale=alt.Scale(domain=list(_LEVEL_COLORS), range=list(_LEVEL_COLORS.values())),
                       legend=alt.Legend(title="best concept", orient="right", labelFontSize=11, titleFontSize=12))
    bars = alt.Chart(data).mark_bar(stroke="white", strokeWidth=0.5).encode(
        x=alt.X("layer:N", sort=alt.EncodingSortField(field="li", order="ascending"),
                axis=alt.Axis(**axis("layer (input → output)", labelAngle=0))),
        y=alt.Y("share:Q", stack="zero", scale=alt.Scale(domain=[0, 1], nice=False),
                axis=alt.Axis(**axis("share of the layer's units", format="%"))),
        color=colour, order=alt.Order("order:Q", sort="ascending"),
        column=alt.Column("network:N", sort=list(NETWORKS),
                          header=alt.Header(title=None, labelFontSize=12, labelFontWeight="bold")),
        tooltip=[alt.Tooltip("network:N"), alt.Tooltip("layer:N"), alt.Tooltip("level:N", title="best concept"),
                 alt.Tooltip("share:Q", format=".1%", title="share of units")])
    return _vl(bars.properties(width=190, height=220, title=alt.TitleParams(
        "Network Dissection: the level of each unit's best concept", fontSize=13)))


# --- part detectors per layer and part ------------------------------------------------------------------------------
def part_rows(names: list[str], part_names: list[str], counts: dict, n_units: list[int], n_seeds: int) -> list[dict]:
    """Rows of the part heatmap: network, layer, li, part, pi, mean (units per seed whose best part passes the IoU
    threshold), label (:func:`cell_label`; "" for 0), n_units, n_seeds. ``counts``: ``{"trained" | "random":
    (conv layers, parts)}``."""
    rows = []
    for which, net in (("trained", NETWORKS[0]), ("random", NETWORKS[1])):
        c = _floats(counts[which])
        for li, n in enumerate(names):
            for pi, p in enumerate(part_names):
                v = float(c[li, pi])
                rows.append({"network": net, "layer": f"{n} ({n_units[li]} units)", "li": li, "part": p, "pi": pi,
                             "mean": round(v, 4), "label": cell_label(v) if v else "", "n_units": int(n_units[li]),
                             "n_seeds": int(n_seeds)})
    return rows


def chart_parts(data_name: str, rows: list[dict]) -> dict:
    """Heatmaps (trained above, random init below): how many units of each conv layer have each part as their best
    part above the IoU threshold, mean over seeds, each non-zero cell labelled; one colour scale from 0 to the
    largest cell (:func:`heatmap_vmax`), so the legend covers the data. Hover a cell for its numbers."""
    import altair as alt
    vmax = heatmap_vmax(np.array([d["mean"] for d in rows]))
    data = alt.Data(name=data_name)
    x = alt.X("part:N", sort=alt.EncodingSortField(field="pi", order="ascending"),
              axis=alt.Axis(**axis("part (the unit's best part, IoU above threshold)", labelAngle=-40)))
    y = alt.Y("layer:N", sort=alt.EncodingSortField(field="li", order="ascending"), axis=alt.Axis(**axis(None)))
    rect = alt.Chart().mark_rect(stroke="#EEEEEE").encode(
        x=x, y=y, color=alt.Color("mean:Q", scale=alt.Scale(domain=[0, vmax], range=["#FFFFFF", "#08519C"],
                                                           interpolate="rgb", nice=False),
                                  legend=alt.Legend(title=["units", "(mean over seeds)"], titleFontSize=11,
                                                    labelFontSize=11, gradientLength=120)),
        tooltip=[alt.Tooltip("network:N"), alt.Tooltip("layer:N"), alt.Tooltip("part:N"),
                 alt.Tooltip("mean:Q", format=".2f", title="detectors (mean over seeds)"),
                 alt.Tooltip("n_seeds:Q", title="seeds")])
    text = alt.Chart().transform_filter("datum.mean > 0").mark_text(fontSize=11).encode(
        x=x, y=y, text=alt.Text("label:N"),
        color=alt.condition(f"datum.mean > {vmax / 2:.6g}", alt.value("white"), alt.value("black")))
    n_parts = len({d["part"] for d in rows})
    chart = alt.layer(rect, text, data=data).properties(width=max(240, 34 * n_parts),
                                                        height=30 * len({d["li"] for d in rows}))
    spec = _vl(chart.facet(row=alt.Row("network:N", sort=list(NETWORKS), header=alt.Header(
        title=None, labelFontSize=12, labelFontWeight="bold", labelAngle=0, labelAlign="left", labelOrient="top")),
        title=alt.TitleParams("Part detectors by layer and part", fontSize=13)))
    return spec


# --- pictures: first-layer filters and IoU examples ------------------------------------------------------------------
def _png(rgb: np.ndarray, scale: int = 1) -> str:
    import base64
    import io

    from PIL import Image
    im = Image.fromarray((255 * np.clip(rgb, 0, 1)).round().astype(np.uint8), "RGB")
    if scale > 1:
        im = im.resize((rgb.shape[1] * scale, rgb.shape[0] * scale), Image.NEAREST)
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


_NEG, _POS = np.array([0x5E, 0x3C, 0x99]) / 255, np.array([0xE6, 0x61, 0x01]) / 255   # purple -, orange +


def _diverging(w: np.ndarray) -> np.ndarray:
    """(h, w) weights -> (h, w, 3) RGB: purple negative, white 0, orange positive, scaled to the largest |w|."""
    w = np.asarray(w, dtype=float)
    t = w / max(float(np.abs(w).max()), 1e-12)
    white = np.ones(3)
    return np.where(t[..., None] >= 0, white + t[..., None] * (_POS - white), white - t[..., None] * (_NEG - white))


def filter_tiles(filters: dict, per_row: int = 8) -> list[dict]:
    """Picture rows (:func:`chart_pictures`) of the first-layer filters (first input channel), trained and random
    init, ``per_row`` units per row; titled with the unit, its OSI and whether it is an edge detector or silent."""
    K = len(filters["trained"]["osi"])
    rows = []
    for k in range(K):
        block, col = divmod(k, per_row)
        for j, (which, tag) in enumerate((("trained", "trained"), ("random", "random init"))):
            f = filters[which]
            osi, silent, edge = _floats(f["osi"])[k], bool(f["silent"][k]), bool(f["edge"][k])
            state = "silent" if silent else (f"OSI {osi:.2f}" + ("\nedge" if edge else "")) if np.isfinite(osi) else ""
            rows.append({"row": 2 * block + j, "rowlabel": tag, "col": col, "unit": f"L1:{k}", "network": tag,
                         "title": f"L1:{k}\n{state}", "url": _png(_diverging(_floats(f["weights"])[k, 0]), 16)})
    return rows


def tuning_rows(filters: dict) -> list[dict]:
    """Rows: unit, k, network, angle (degrees), response (/ the unit's largest), osi, edge, silent (False). A silent
    unit (no response to any stimulus) has one row with ``silent`` True and no response, so its panel still shows."""
    deg = _floats(filters["angles_deg"])
    rows = []
    for which, net in (("trained", NETWORKS[0]), ("random", NETWORKS[1])):
        f = filters[which]
        curves = _floats(f["curves"])
        for k in range(curves.shape[1]):
            if f["silent"][k]:
                rows.append({"unit": f"L1:{k}", "k": k, "network": net, "silent": True,
                             "text": f"{'trained' if which == 'trained' else 'untrained'}: silent",
                             "ty": 0.62 if which == "trained" else 0.38})
                continue
            for a, v in zip(deg, curves[:, k]):
                if np.isfinite(v):
                    rows.append({"unit": f"L1:{k}", "k": k, "network": net, "angle": round(float(a), 2),
                                 "response": round(float(v), 4), "osi": round(float(_floats(f["osi"])[k]), 4),
                                 "edge": "yes" if f["edge"][k] else "no", "silent": False})
    return rows


def chart_tuning(data_name: str, stimulus: str, columns: int = 4) -> dict:
    """Small multiples: each first-layer unit's response to ``stimulus`` by orientation (scaled to its largest),
    trained (blue) and random init (orange, dashed); a silent unit's panel says so. A single clear peak is a tuned
    unit."""
    import altair as alt
    legend = alt.Legend(title=None, orient="top", labelFontSize=11, symbolType="stroke", symbolStrokeWidth=2.5)
    x = alt.X("angle:Q", scale=alt.Scale(domain=[0, 180], nice=False),
              axis=alt.Axis(**axis(f"{stimulus} angle (°)", values=[0, 90, 180])))
    y_scale = alt.Scale(domain=[0, 1.05], nice=False)
    colour = alt.Color("network:N", scale=alt.Scale(domain=list(NETWORKS), range=[TRAINED, RANDOM]), legend=legend)
    line = alt.Chart().transform_filter("!datum.silent").mark_line(
        point=alt.OverlayMarkDef(size=14), strokeWidth=1.8).encode(
        x=x, y=alt.Y("response:Q", scale=y_scale, axis=alt.Axis(**axis("response (/ max)", values=[0, 0.5, 1]))),
        color=colour,
        strokeDash=alt.StrokeDash("network:N", scale=alt.Scale(domain=list(NETWORKS), range=[[1, 0], [5, 3]]),
                                  legend=legend),
        tooltip=[alt.Tooltip("unit:N"), alt.Tooltip("network:N"),
                 alt.Tooltip("angle:Q", format=".0f", title="angle (°)"),
                 alt.Tooltip("response:Q", format=".2f", title="response / max"),
                 alt.Tooltip("osi:Q", format=".2f", title="OSI"), alt.Tooltip("edge:N", title="edge detector")])
    silent = alt.Chart().transform_filter("datum.silent").mark_text(fontSize=11).encode(
        x=alt.value(65), y=alt.Y("ty:Q", scale=y_scale), text=alt.Text("text:N"), color=colour)
    chart = alt.layer(line, silent, data=alt.Data(name=data_name)).properties(width=130, height=80)
    return _vl(chart.facet(facet=alt.Facet("unit:N", sort=alt.EncodingSortField(field="k", order="ascending"),
                                           header=alt.Header(title=None, labelFontSize=11)), columns=columns))


def _outline(mask: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` with a neighbour (4-connected) outside it: its outline."""
    m = np.pad(mask, 1)
    inner = m[1:-1, 1:-1] & m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2] & m[1:-1, 2:]
    return mask & ~inner


def iou_tiles(examples: list[dict], scale: int = 3) -> list[dict]:
    """Picture rows (:func:`chart_pictures`) of the IoU examples: each image darkened, the part's pixels blue, the
    outline of the unit's top-0.5% map orange, titled with the image's IoU.

    ``examples``: dicts with ``title`` (str), ``pixels`` (m, H, W) images in [0, 1], ``unit_masks`` and
    ``part_masks`` (m, H, W) bool, ``image_iou`` (m,).
    """
    blue, orange = np.array([0.0, 0.45, 0.70]), np.array([0xE6, 0x9F, 0x00]) / 255
    rows = []
    for r, e in enumerate(examples):
        for c in range(len(e["pixels"])):
            px = np.kron(np.asarray(e["pixels"][c], dtype=float), np.ones((scale, scale)))
            part = np.kron(np.asarray(e["part_masks"][c], dtype=bool), np.ones((scale, scale), dtype=bool))
            unit = np.kron(np.asarray(e["unit_masks"][c], dtype=bool), np.ones((scale, scale), dtype=bool))
            rgb = np.repeat(np.clip(px, 0, 1)[..., None] * 0.55, 3, axis=-1)
            rgb[part] = 0.35 * rgb[part] + 0.65 * blue
            rgb[_outline(unit)] = orange
            rows.append({"row": r, "rowlabel": e["title"], "col": c, "unit": e["title"].split("\n")[0],
                         "network": "trained", "title": f"IoU {float(e['image_iou'][c]):.2f}",
                         "url": _png(rgb, 1)})
    return rows


def chart_pictures(data_name: str, rows: list[dict], *, side: int = 64, label_width: int = 90) -> dict:
    """A grid of pictures: ``rows`` with ``row``, ``rowlabel`` (drawn left of each row, may have several lines),
    ``col``, ``title`` (above each picture, may have several lines), ``url``; hover a picture for its title.
    Positions are computed here in pixels (the data keep only row and column)."""
    import altair as alt
    n_lines = max(str(d["title"]).count("\n") + 1 for d in rows)
    top, gap = 13 * n_lines + 4, 10
    n_rows, n_cols = max(d["row"] for d in rows) + 1, max(d["col"] for d in rows) + 1
    step_y, step_x = side + top + gap, side + gap
    ident = dict(scale=None, axis=None)
    data = alt.Data(name=data_name)
    pos = [{"calculate": f"{label_width} + datum.col * {step_x} + {side / 2}", "as": "px"},
           {"calculate": f"datum.row * {step_y} + {top}", "as": "py"}]
    imgs = alt.Chart(data, transform=pos).mark_image(width=side, height=side, smooth=False, align="center",
                                                     baseline="top").encode(
        x=alt.X("px:Q", **ident), y=alt.Y("py:Q", **ident), url=alt.Url("url:N"),
        tooltip=[alt.Tooltip("unit:N"), alt.Tooltip("network:N"), alt.Tooltip("title:N", title="picture")])
    titles = alt.Chart(data, transform=pos + [{"calculate": "split(datum.title, '\\n')", "as": "lines"},
                                              {"calculate": f"datum.py - {top - 2}", "as": "ty"}]).mark_text(
        fontSize=10, baseline="top", lineHeight=12).encode(x=alt.X("px:Q", **ident), y=alt.Y("ty:Q", **ident),
                                                              text=alt.Text("lines:N"))
    labels = alt.Chart(data, transform=[{"filter": "datum.col == 0"}] + pos + [
        {"calculate": "split(datum.rowlabel, '\\n')", "as": "lines"},
        {"calculate": f"datum.py + {side / 2}", "as": "ly"}]).mark_text(
        fontSize=11, align="right", baseline="middle", lineHeight=13).encode(
        x=alt.value(label_width - 8), y=alt.Y("ly:Q", **ident), text=alt.Text("lines:N"))
    return _vl(alt.layer(imgs, titles, labels).properties(width=label_width + n_cols * step_x,
                                                          height=n_rows * step_y, view={"stroke": None}))
