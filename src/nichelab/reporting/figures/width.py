"""Charts of the width study: Vega-Lite specs (built with Altair), drawn in the browser.

Nothing here measures: every function takes named datasets the page arranged from the result and
returns a Vega-Lite spec. Page parameters: ``hwidth`` (number: the selected hidden width; not ``width``,
which is Vega's own signal for a view's width) and
``seed`` (number).

Named datasets (rows are dicts):

- ``width_census``: ``ds, measure, width, mean, lo, hi`` -- per dataset, measure and width: the mean
  over seeds and the lowest and highest seed (percent for share measures).
- ``width_ref``: ``measure, width, y`` -- reference lines (all possible splits; one dimension per unit).
- ``width_points``: ``x0, x1, cls`` -- the blob evaluation points.
- ``width_lines``: ``width, seed, unit, split, w0, w1, b, xa, ya, xb, yb`` -- each blob unit's line
  ``w . x + b = 0`` clipped to the drawn window (ends ``(xa, ya)``, ``(xb, yb)``) and its class split.
- ``width_cost``: ``ds, width, seed, unit, rank, cost`` -- accuracy lost (points) when the unit alone
  is zeroed, ranked from the most important unit (1).
"""
from __future__ import annotations

import altair as alt

from ..charts import OKABE_ITO, axis
from .lab import _filter, _finish, _layer, _leaf

__all__ = ["PANELS", "SPLIT_ORDER", "X0_RANGE", "X1_RANGE", "fig_census", "fig_unit_lines", "fig_unit_costs"]

#: (measure key, y-axis title, scale to percent?) of the census panels, in reading order.
PANELS = [("accuracy", "accuracy on held-out data (%)", True),
          ("dead", "dead units (% of units)", True),
          ("dup_units", "live units with a near-duplicate (% of live units)", True),
          ("partitions", "distinct class splits (blobs only, count)", False),
          ("participation", "participation ratio (effective dimensions)", False),
          ("frivolous", "units removable for < 0.5% accuracy (% of units)", True)]
#: Short y-axis titles (the panel title says what is measured).
_Y_TITLE = {"accuracy": "accuracy (%)", "dead": "% of units", "dup_units": "% of live units", "partitions": "splits (count)",
            "participation": "dimensions (log)", "frivolous": "% of units"}
#: Every split of 4 classes, then the trivial one: a fixed colour per split.
SPLIT_ORDER = ["{0,1}|{2,3}", "{0,2}|{1,3}", "{0,3}|{1,2}", "{0}|{1,2,3}", "{0,2,3}|{1}", "{0,1,3}|{2}",
               "{0,1,2}|{3}", "{0,1,2,3}|{}"]
_SPLIT_DASH = [[], [6, 3], [2, 2], [6, 2, 1, 2], [6, 2, 1, 2], [2, 2], [6, 3], []]
X0_RANGE, X1_RANGE = (-8.0, 8.0), (-5.0, 4.0)
_DATASETS = ["blobs", "digits"]


def _ds_colour(names: list[str], legend: bool = True):
    return alt.Color("ds:N", scale=alt.Scale(domain=names, range=OKABE_ITO[:len(names)]),
                     legend=alt.Legend(title="data", orient="bottom") if legend else None)


def fig_census(widths: list[int], names: list[str], width: int, frivolous_title: str | None = None) -> dict:
    """Six panels against hidden width (log2 scale): mean over seeds, bars from the lowest to the highest seed;
    a dashed rule marks the selected width."""
    x = alt.X("width:Q", scale=alt.Scale(type="log", base=2, domain=[min(widths) / 1.4, max(widths) * 1.4], nice=False),
              axis=alt.Axis(**axis("hidden units (width, log scale)", values=list(widths), format="d")))
    data = alt.Data(name="width_census")
    panels = []
    for key, title, percent in PANELS:
        if key == "frivolous" and frivolous_title:
            title = frivolous_title
        keep = _filter(f"datum.measure == '{key}' && isValid(datum.mean)")
        yscale = alt.Scale(domain=[0, 100]) if percent else (alt.Scale(type="log", base=2) if key == "participation"
                                                              else alt.Scale(zero=True))
        y = alt.Y("mean:Q", scale=yscale, axis=alt.Axis(**axis(_Y_TITLE[key])))
        tip = [alt.Tooltip("ds:N", title="data"), alt.Tooltip("width:Q", title="width"),
               alt.Tooltip("mean:Q", format=".2f", title="mean over seeds"), alt.Tooltip("lo:Q", format=".2f", title="lowest seed"),
               alt.Tooltip("hi:Q", format=".2f", title="highest seed")]
        bars = _leaf(data, keep, lambda c: c.mark_rule(strokeWidth=1.5).encode(
            x=x, y=alt.Y("lo:Q", scale=yscale), y2=alt.Y2("hi:Q"), color=_ds_colour(names)))
        line = _leaf(data, keep, lambda c: c.mark_line(strokeWidth=2, point=alt.OverlayMarkDef(size=50, filled=True)).encode(
            x=x, y=y, color=_ds_colour(names), strokeDash=alt.StrokeDash("ds:N", legend=None), tooltip=tip))
        sel = _leaf(alt.Data(values=[{}]), [{"calculate": "hwidth", "as": "w"}], lambda c: c.mark_rule(
            color="#555555", strokeDash=[3, 3], strokeWidth=1.5).encode(x=alt.X("w:Q")))
        layers = [bars, line, sel]
        if key in ("partitions", "participation"):
            layers.insert(0, _leaf(alt.Data(name="width_ref"), _filter(f"datum.measure == '{key}'"),
                                   lambda c: c.mark_line(color="#999999", strokeDash=[2, 2]).encode(
                                       x=x, y=alt.Y("y:Q", scale=yscale), tooltip=[alt.Tooltip("note:N", title="reference")])))
        panels.append(_layer(*layers, width=280, height=150,
                             title={"text": title, "fontSize": 12, "fontWeight": "normal", "limit": 330}))
    rows = [{"hconcat": panels[i:i + 2]} for i in range(0, len(panels), 2)]
    return _finish({"vconcat": rows, "params": [{"name": "hwidth", "value": int(width)}],
                    "resolve": {"scale": {"color": "shared"}}})


def fig_unit_lines(width: int, seed: int) -> dict:
    """The blob data (grey, shape = class) and every live unit's line ``w . x + b = 0`` of the selected width
    and seed, coloured by the class split the unit makes."""
    xs = alt.Scale(domain=list(X0_RANGE), nice=False)
    ys = alt.Scale(domain=list(X1_RANGE), nice=False)
    pts = _leaf(alt.Data(name="width_points"), [], lambda c: c.mark_point(filled=True, size=22, opacity=0.45,
                                                                           color="#888888").encode(
        x=alt.X("x0:Q", scale=xs, axis=alt.Axis(**axis("x0 (input feature, a.u.)"))),
        y=alt.Y("x1:Q", scale=ys, axis=alt.Axis(**axis("x1 (input feature, a.u.)"))),
        shape=alt.Shape("cls:N", scale=alt.Scale(range=["circle", "square", "triangle-up", "diamond"]),
                        legend=alt.Legend(title="class (points)", orient="right"))))
    colour = alt.Color("split:N", scale=alt.Scale(domain=SPLIT_ORDER, range=OKABE_ITO),
                       legend=alt.Legend(title="unit's split (class-0 side | other)", orient="right", symbolType="stroke",
                                         symbolStrokeWidth=3))
    lines = _leaf(alt.Data(name="width_lines"), _filter("datum.width == hwidth && datum.seed == seed"),
                  lambda c: c.mark_rule(strokeWidth=2, opacity=0.85, clip=True).encode(
        x=alt.X("xa:Q", scale=xs), y=alt.Y("ya:Q", scale=ys), x2=alt.X2("xb:Q"), y2=alt.Y2("yb:Q"), color=colour,
        strokeDash=alt.StrokeDash("split:N", scale=alt.Scale(domain=SPLIT_ORDER, range=_SPLIT_DASH), legend=None),
        tooltip=[alt.Tooltip("unit:N"), alt.Tooltip("split:N"), alt.Tooltip("w0:Q", format=".3f"),
                 alt.Tooltip("w1:Q", format=".3f"), alt.Tooltip("b:Q", format=".3f")]))
    return _finish(_layer(pts, lines, params=[{"name": "hwidth", "value": int(width)}, {"name": "seed", "value": int(seed)}],
                          width=460, height=280, resolve={"scale": {"shape": "independent"}}))


def fig_unit_costs(names: list[str], width: int, seed: int) -> dict:
    """Accuracy lost when each unit alone is zeroed, units ranked from the most important, at the selected
    width and seed; one line per dataset."""
    data = alt.Data(name="width_cost")
    keep = _filter("datum.width == hwidth && datum.seed == seed")
    x = alt.X("rank:Q", scale=alt.Scale(zero=False),
              axis=alt.Axis(**axis("unit, ranked by importance (1 = most important)", tickMinStep=1, format="d")))
    y = alt.Y("cost:Q", axis=alt.Axis(**axis("accuracy lost when zeroed (percentage points)")))
    line = _leaf(data, keep, lambda c: c.mark_line(strokeWidth=2, point=alt.OverlayMarkDef(size=45, filled=True)).encode(
        x=x, y=y, color=_ds_colour(names), strokeDash=alt.StrokeDash("ds:N", legend=None),
        tooltip=[alt.Tooltip("ds:N", title="data"), alt.Tooltip("unit:N"), alt.Tooltip("rank:Q"),
                 alt.Tooltip("cost:Q", format=".2f", title="accuracy lost (points)")]))
    zero = _leaf(alt.Data(values=[{"y": 0}]), [], lambda c: c.mark_rule(color="#999999").encode(y=alt.Y("y:Q")))
    return _finish(_layer(zero, line, params=[{"name": "hwidth", "value": int(width)}, {"name": "seed", "value": int(seed)}],
                          width=600, height=220))
