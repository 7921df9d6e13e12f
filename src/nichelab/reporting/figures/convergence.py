"""Charts of the convergence study and of ``nichelab compare``: Vega-Lite specs (built with Altair),
drawn in the browser.

Nothing here measures, sorts or picks: the pages arrange the result's numbers into named datasets
(matching matrices come reordered and the best column of each heatmap row comes marked,
:mod:`nichelab.studies.convergence.views`) and every function returns a Vega-Lite spec (dict).
"""
from __future__ import annotations

import json

# --- interactive charts (Vega-Lite specs built with Altair, drawn in the browser) ---------------------
#
# Named datasets (arranged by pages/convergence.py and pages/compare.py):
#
# - heat rows: ``m`` (measure key), ``a``, ``b`` (layer names), ``i``, ``j`` (their order), ``v``
#   (value), ``s`` (the value's place on the measure's fixed range, :func:`measure_range`: 0 = least,
#   1 = most similar end; only picks the text colour), ``best``
#   (the row's most similar column), ``same`` (same layer name), ``pair`` (key of the layer pair's
#   unit matching, or null when none was measured), ``lab`` (the measure's label).
# - match rows: ``pair``, ``k`` (rank, best first), ``ua``, ``ub`` (unit names), ``r`` (matched
#   correlation), ``band`` (counterpart / loose / none / dead: a constant unit of A).
#
# - unit points: ``kind`` (how the unit is compared), ``layer``, ``x`` (the layer's position plus the
#   kind's offset plus a fixed jitter), ``v`` (correlation), ``unit``, ``seeds`` (which network pair;
#   "" when not known).
# - unit boxes: ``kind``, ``layer``, ``x`` (centre), ``n`` (units), ``q1``, ``med``, ``q3``.
#
# Page parameters: ``measure`` (string, when several measures exist) and ``pair`` (string).

import altair as alt

from ..charts import OKABE_ITO as OI, axis

__all__ = ["layer_heatmap", "pair_matching", "measure_range", "MEASURE_RANGES", "contrast", "unit_shares", "identification",
           "unit_distributions", "BANDS", "BAND_COLOURS", "KIND_COLOURS"]

BANDS = ["counterpart", "loose", "none", "dead"]
_LINE_COLOURS = [OI[0], OI[1], OI[2], OI[3], OI[4], OI[5], OI[7]]  # Okabe-Ito without yellow (faint on white)
BAND_COLOURS = [OI[2], OI[1], OI[5], "#999999"]
#: Colours and shapes of the three ways a unit is compared (one-to-one, best single partner, combination).
KIND_COLOURS = [OI[0], OI[1], OI[2]]
_KIND_SHAPES = ["circle", "square", "triangle-up"]
#: Horizontal offset of each kind from its layer's position, and the half-width of a box.
KIND_OFFSETS = [-0.27, 0.0, 0.27]
BOX_HALF = 0.1


#: Natural range of each similarity measure the heatmap draws (default 0 to 1: CKA, CCA, SVCCA, PWCCA):
#: RSA is a rank correlation, the Procrustes distance lies in [0, 2].
MEASURE_RANGES = {"rsa": (-1.0, 1.0), "procrustes_distance": (0.0, 2.0)}


def measure_range(measure: str) -> tuple[float, float]:
    """``(low, high)``: the fixed colour range of a measure's heatmap (``"within"``: linear CKA, 0 to 1)."""
    return MEASURE_RANGES.get(measure, (0.0, 1.0))


def _colour_domain(measures: dict[str, bool], measure: str | None):
    """The colour scale's domain: the measure's natural range, reversed for distances so that the
    bright end is always the similar end; with a measure menu, an expression of ``measure``."""
    def dom(m, lower):
        lo, hi = measure_range(m)
        return [hi, lo] if lower else [lo, hi]
    if measure is None or len(measures) == 1:
        (m, lower), = measures.items()
        return dom(m, lower)
    expr = "[0, 1]"
    for m, lower in measures.items():
        expr = f"measure == {json.dumps(m)} ? {json.dumps(dom(m, lower))} : {expr}"
    return {"expr": expr}


def _leaf(data: str, transforms: list, fn) -> dict:
    d = fn(alt.Chart(alt.Data(name=data), transform=transforms or alt.Undefined)).to_dict(validate=False)
    d.pop("$schema", None)
    d.pop("config", None)
    return d


def layer_heatmap(data: str, rows: list[str], cols: list[str], row_title: str, col_title: str,
                  measure: str | None = None, pair: str | None = None, text: bool = True,
                  measures: dict[str, bool] | None = None, legend_title: str | list[str] = "value") -> dict:
    """Layers-by-layers similarity heatmap; clicking a cell selects its layer pair.

    The colour is the measure's own value on its fixed natural range (:func:`measure_range`, e.g. 0 to 1
    for CKA), so that small gaps look small; distances run the other way round (bright = close).

    Parameters
    ----------
    data : str — named dataset of heat rows (see module notes).
    rows, cols : list of str — layer names (y from top, x from left).
    row_title, col_title : str — axis titles.
    measure : str, optional — initial measure; given, the chart shows the rows of page parameter
        ``measure`` only.
    pair : str, optional — initial layer pair; given, the selected pair's cell is outlined in black.
    text : bool — write each cell's value in it.
    measures : dict, optional — measure key -> lower is more similar (a distance); default
        ``{"linear_cka": False}``. Picks each measure's colour range.
    legend_title : str or list of str — the colour legend's title (the measure's name).
    """
    measures = measures or {"linear_cka": False}
    step = max(34, min(72, 480 // max(len(rows), len(cols), 1)))
    filt = [{"filter": "datum.m == measure"}] if measure is not None else []
    x = alt.X("b:N", sort=list(cols), axis=alt.Axis(**axis(col_title, labelAngle=-40 if max(map(len, cols)) > 5 else 0,
                                                           labelLimit=140)))
    y = alt.Y("a:N", sort=list(rows), axis=alt.Axis(**axis(row_title, labelLimit=140)))
    tips = [alt.Tooltip("lab:N", title="measure"), alt.Tooltip("a:N", title=row_title),
            alt.Tooltip("b:N", title=col_title), alt.Tooltip("v:Q", title="value", format=".3f"),
            alt.Tooltip("bestText:N", title="most similar in its row"), alt.Tooltip("clickText:N", title="click")]
    calc = [{"calculate": "datum.best ? 'yes' : 'no'", "as": "bestText"},
            {"calculate": "datum.pair ? 'shows its matched units below' : 'no unit matching measured'",
             "as": "clickText"}]
    cells = _leaf(data, filt + calc, lambda c: c.mark_rect(cursor="pointer").encode(
        x=x, y=y, color=alt.Color("v:Q", scale=alt.Scale(scheme="viridis", domain=_colour_domain(measures, measure),
                                                         clamp=True, nice=False, zero=False),
                                  legend=alt.Legend(title=legend_title, orient="right", titleFontSize=12,
                                                    labelFontSize=11, gradientLength=160, labelLimit=220,
                                                    titleLimit=260)),
        tooltip=tips))
    layers = [cells]
    if text:
        layers.append(_leaf(data, filt + calc, lambda c: c.mark_text(fontSize=12, dy=-5).encode(
            x=x, y=y, text=alt.Text("v:Q", format=".2f"),
            color=alt.condition("datum.s > 0.55", alt.value("black"), alt.value("white")), tooltip=tips)))
    layers.append(_leaf(data, filt + calc + [{"filter": "datum.best"}], lambda c: c.mark_point(
        shape="circle", filled=True, size=45, yOffset=10, stroke="black", strokeWidth=0.8).encode(
        x=x, y=y, fill=alt.value("white"), tooltip=tips)))
    layers.append(_leaf(data, filt + [{"filter": "datum.same"}], lambda c: c.mark_rect(
        fill=None, stroke=OI[1], strokeWidth=2.5).encode(x=x, y=y)))
    if pair is not None:
        layers.append(_leaf(data, filt + [{"filter": "datum.pair == pair"}], lambda c: c.mark_rect(
            fill=None, stroke="black", strokeWidth=4).encode(x=x, y=y)))
    params = ([{"name": "measure", "value": measure}] if measure is not None else []) \
        + ([{"name": "pair", "value": pair}] if pair is not None else [])
    return {"params": params, "layer": layers, "width": step * len(cols), "height": step * len(rows)}


def pair_matching(data: str, pair: str, high: float, low: float, a_title: str = "A", b_title: str = "B",
                  y_min: float | None = None) -> dict:
    """The selected layer pair's one-to-one unit matching: one bar per matched pair, best first.

    Parameters
    ----------
    data : str — named dataset of match rows.
    pair : str — initial value of page parameter ``pair``.
    high, low : float — counterpart thresholds (dashed / dotted rules).
    a_title, b_title : str — what the two sides are (e.g. "seed 0").
    y_min : float, optional — lower end of the correlation axis; the axis always reaches -0.2 and 1
        and, without ``y_min``, stretches to cover every drawn bar (no bar is cut off).
    """
    domain = ([min(float(y_min), -0.2), 1.0] if y_min is not None else {"unionWith": [-0.2, 1.0]})
    x = alt.X("k:O", axis=alt.Axis(**axis("matched unit pair, best first (rank)", labelOverlap=True, labelAngle=0)))
    bars = _leaf(data, [{"filter": "datum.pair == pair"}], lambda c: c.mark_bar().encode(
        x=x, y=alt.Y("r:Q", scale=alt.Scale(domain=domain, nice=False),
                     axis=alt.Axis(**axis("matched correlation (Pearson r)"))),
        color=alt.Color("band:N", scale=alt.Scale(domain=BANDS, range=BAND_COLOURS),
                        legend=alt.Legend(title="unit of A has", orient="bottom", labelExpr=(
                            f"datum.label == 'counterpart' ? 'a counterpart (r ≥ {high:g})' : datum.label == 'loose' "
                            f"? 'a loose match ({low:g} ≤ r < {high:g})' : datum.label == 'none' ? 'no counterpart (r < {low:g})' "
                            ": 'constant output (dead)'"),
                            titleFontSize=12, labelFontSize=11, labelLimit=260)),
        tooltip=[alt.Tooltip("k:O", title="rank"), alt.Tooltip("ua:N", title=f"unit of {a_title}"),
                 alt.Tooltip("ub:N", title=f"matched unit of {b_title}"),
                 alt.Tooltip("r:Q", title="correlation r", format=".3f")]))
    rules = [{"data": {"values": [{}]}, "mark": {"type": "rule", "strokeDash": dash, "color": "#555555"},
              "encoding": {"y": {"datum": t}}}
             for t, dash in ((high, [6, 3]), (low, [2, 2]))]
    return {"params": [{"name": "pair", "value": pair}],
            "title": {"text": {"expr": f"'Unit matching of ' + pair + ' ({a_title} vs {b_title})'"}, "fontSize": 13},
            "layer": [bars] + rules, "width": 640, "height": 220}


def contrast(data: str, layers: list[str], series: list[str]) -> dict:
    """Per layer, unit-level against subspace-level agreement: one line per measure, dotted lines the
    untrained-network floor. Rows: ``layer, series, value, untrained`` (bool)."""
    x = alt.X("layer:N", sort=list(layers), axis=alt.Axis(**axis("layer", labelAngle=0)))
    y = alt.Y("value:Q", scale=alt.Scale(domain=[0, 1]),
              axis=alt.Axis(**axis("agreement between seeds (0 = none, 1 = identical)")))
    colour = alt.Color("series:N", sort=list(series),
                       scale=alt.Scale(domain=list(series), range=(_LINE_COLOURS * 2)[:len(series)]),
                       legend=alt.Legend(title=None, orient="right", labelFontSize=11, labelLimit=300))
    dash = alt.StrokeDash("untrained:N", scale=alt.Scale(domain=[False, True], range=[[1, 0], [2, 3]]),
                          legend=alt.Legend(title=None, orient="right", labelFontSize=11, labelLimit=300, labelExpr=(
                              "datum.label == 'true' ? 'dotted: against an untrained network' "
                              ": 'solid: trained seeds'")))
    tips = [alt.Tooltip("series:N", title="measure"), alt.Tooltip("layer:N"), alt.Tooltip("value:Q", format=".3f")]
    line = _leaf(data, [], lambda c: c.mark_line(strokeWidth=2).encode(x=x, y=y, color=colour, strokeDash=dash,
                                                                        detail=alt.Detail("series:N")))
    pts = _leaf(data, [], lambda c: c.mark_point(filled=True, size=60).encode(
        x=x, y=y, color=colour, shape=alt.Shape("series:N", sort=list(series), legend=None), tooltip=tips))
    return {"layer": [line, pts], "width": 420, "height": 260, "resolve": {"scale": {"shape": "independent"}}}


def unit_shares(data: str, layers: list[str], parts: list[str], note: str) -> dict:
    """Per layer, the shares of all units by how well they are matched (stacked bars, %).
    Rows: ``layer, part, order, pct``."""
    colours = [OI[2], OI[1], OI[5], "#999999"]
    return _leaf(data, [], lambda c: c.mark_bar().encode(
        x=alt.X("layer:N", sort=list(layers), axis=alt.Axis(**axis("layer", labelAngle=0))),
        y=alt.Y("pct:Q", stack="zero", scale=alt.Scale(domain=[0, 100]), axis=alt.Axis(**axis(f"units (%; {note})"))),
        color=alt.Color("part:N", sort=list(parts), scale=alt.Scale(domain=list(parts), range=colours[:len(parts)]),
                        legend=alt.Legend(title="unit", orient="right", labelFontSize=11, titleFontSize=12,
                                          labelLimit=300)),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("layer:N"), alt.Tooltip("part:N", title="unit"),
                 alt.Tooltip("pct:Q", title="share (%)", format=".1f")])) | {"width": 60 * max(len(layers), 4),
                                                                            "height": 240}


def identification(data: str, measures: list[str], chance: float, n_layers: int) -> dict:
    """Per measure, the share of (seed pair, layer) rows whose most similar layer is the same layer (%),
    the chance line, and published values as black diamonds. Rows: ``measure, pct, ref`` (ref may be null)."""
    y = alt.Y("measure:N", sort=list(measures), axis=alt.Axis(**axis("similarity measure", labelLimit=220)))
    x = alt.X("pct:Q", scale=alt.Scale(domain=[0, 100]), axis=alt.Axis(**axis("layer identified correctly (%)")))
    bars = _leaf(data, [], lambda c: c.mark_bar(color=OI[0]).encode(
        x=x, y=y, tooltip=[alt.Tooltip("measure:N"), alt.Tooltip("pct:Q", title="this run (%)", format=".1f")]))
    refs = _leaf(data, [{"filter": "isValid(datum.ref)"}], lambda c: c.mark_point(
        shape="diamond", filled=True, size=90, color="black").encode(
        x=alt.X("ref:Q"), y=y, tooltip=[alt.Tooltip("ref:Q", title="Kornblith et al. 2019 (%)", format=".0f")]))
    rule = {"data": {"values": [{}]}, "mark": {"type": "rule", "color": OI[5], "strokeDash": [5, 3], "strokeWidth": 2},
            "encoding": {"x": {"datum": 100 * chance}}}
    label = {"data": {"values": [{}]}, "mark": {"type": "text", "color": OI[5], "align": "left", "dx": 4, "dy": -4,
                                                "baseline": "bottom", "fontSize": 11},
             "encoding": {"x": {"datum": 100 * chance}, "y": {"value": 0}, "text": {"value": f"chance (1/{n_layers})"}}}
    return {"layer": [bars, refs, rule, label], "width": 460, "height": 30 * max(len(measures), 3)}


def unit_distributions(points: str, boxes: str, layers: list[str], kinds: list[str], high: float, low: float,
                       x_title: str, y_min: float = -0.05) -> dict:
    """Per layer, how well each unit is matched in the other network, three ways side by side: every unit
    as a dot (hover for its name, seed pair and value), a box from the lower to the upper quartile with
    the median as a black bar, and the two thresholds as labelled rules.

    Parameters
    ----------
    points, boxes : str
        Named datasets of unit points and unit boxes (see the module notes).
    layers : list of str
        Layer names in drawing order (position 0, 1, ...).
    kinds : list of str
        Labels of the comparisons, in the order of :data:`KIND_OFFSETS`.
    high, low : float
        Counterpart thresholds (dashed and dotted rules).
    x_title : str
        Axis title under the layers.
    y_min : float, default -0.05
        Lower end of the correlation axis (the page passes the lowest value, rounded down).

    Returns
    -------
    dict
        A Vega-Lite layer spec.
    """
    n = max(len(layers), 1)
    names = json.dumps(list(layers))
    x_scale = alt.Scale(domain=[-0.5, n - 0.5], nice=False, zero=False)
    x = alt.X("x:Q", scale=x_scale, axis=alt.Axis(**axis(x_title, values=list(range(n)), labelExpr=f"{names}[datum.value]",
                                                         grid=False, labelAngle=-30 if max(map(len, layers)) > 8 else 0,
                                                         labelLimit=160)))
    y_scale = alt.Scale(domain=[min(y_min, -0.05), 1.0], nice=False)
    y_axis = alt.Axis(**axis("correlation with the other network (Pearson r, held-out data)"))
    colour = alt.Color("kind:N", sort=list(kinds), scale=alt.Scale(domain=list(kinds), range=KIND_COLOURS[:len(kinds)]),
                       legend=alt.Legend(title="each unit compared with", orient="bottom", direction="vertical",
                                         titleFontSize=12, labelFontSize=11, labelLimit=400))
    pts = _leaf(points, [], lambda c: c.mark_point(filled=True, size=16, opacity=0.5).encode(
        x=x, y=alt.Y("v:Q", scale=y_scale, axis=y_axis), color=colour,
        shape=alt.Shape("kind:N", sort=list(kinds), scale=alt.Scale(domain=list(kinds), range=_KIND_SHAPES[:len(kinds)]),
                        legend=None),
        tooltip=[alt.Tooltip("layer:N"), alt.Tooltip("unit:N"), alt.Tooltip("seeds:N", title="networks"),
                 alt.Tooltip("kind:N", title="compared with"), alt.Tooltip("v:Q", title="correlation r", format=".3f")]))
    box_tips = [alt.Tooltip("layer:N"), alt.Tooltip("kind:N", title="compared with"), alt.Tooltip("n:Q", title="units"),
                alt.Tooltip("q3:Q", title="upper quartile", format=".3f"), alt.Tooltip("med:Q", title="median", format=".3f"),
                alt.Tooltip("q1:Q", title="lower quartile", format=".3f")]
    spread = [{"calculate": f"datum.x - {BOX_HALF}", "as": "xa"}, {"calculate": f"datum.x + {BOX_HALF}", "as": "xb"}]
    box = _leaf(boxes, spread, lambda c: c.mark_rect(fillOpacity=0.12, strokeWidth=2).encode(
        x=alt.X("xa:Q", scale=x_scale), x2=alt.X2("xb:Q"), y=alt.Y("q1:Q", scale=y_scale), y2=alt.Y2("q3:Q"),
        fill=alt.Color("kind:N", sort=list(kinds), scale=alt.Scale(domain=list(kinds), range=KIND_COLOURS[:len(kinds)]),
                       legend=None),
        stroke=alt.Color("kind:N", sort=list(kinds), scale=alt.Scale(domain=list(kinds), range=KIND_COLOURS[:len(kinds)]),
                         legend=None), tooltip=box_tips))
    med = _leaf(boxes, spread, lambda c: c.mark_rule(color="black", strokeWidth=3).encode(
        x=alt.X("xa:Q", scale=x_scale), x2=alt.X2("xb:Q"), y=alt.Y("med:Q", scale=y_scale), tooltip=box_tips))
    rules, labels = [], []
    for t, dash, text in ((high, [6, 3], f"counterpart (r ≥ {high:g})"), (low, [2, 2], f"no counterpart (r < {low:g})")):
        rules.append({"data": {"values": [{}]}, "mark": {"type": "rule", "strokeDash": dash, "color": "#555555"},
                      "encoding": {"y": {"datum": t, "scale": {"domain": [min(y_min, -0.05), 1.0], "nice": False}}}})
        labels.append({"data": {"values": [{}]},
                       "mark": {"type": "text", "align": "left", "baseline": "middle", "dx": 6, "fontSize": 11,
                                "color": "#333333"},
                       "encoding": {"x": {"value": {"expr": "width"}}, "y": {"datum": t}, "text": {"value": text}}})
    return {"layer": [pts, box, med] + rules + labels, "width": min(540, max(360, 150 * n)), "height": 300,
            "title": {"text": "dot: one unit in one seed pair · box: quartiles · black bar: median", "fontSize": 11,
                      "fontWeight": "normal", "anchor": "start"},
            "resolve": {"scale": {"fill": "independent", "stroke": "independent", "shape": "independent"}}}
