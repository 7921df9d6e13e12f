"""Charts of the superposition study: Vega-Lite specs (built with Altair), drawn in the browser.

Nothing here measures: every function takes named datasets the page arranged from the result
(``by_sparsity`` and ``views["gram"]``) and returns a Vega-Lite spec. Page parameter: ``level``
(number: index of the sparsity level whose WᵀW is drawn).

Named datasets (rows are dicts):

- ``sp_seeds``: ``level, sparsity, seed, represented, pos`` -- features represented per seed.
- ``sp_levels``: ``level, sparsity, median, lo, hi, dims`` -- median and range over seeds.
- ``sp_gram``: ``level, sparsity, seed, i, j, v`` -- W_iᵀW_j of the first seed of each level.
"""
from __future__ import annotations

import altair as alt

from ..charts import OKABE_ITO, axis
from .lab import _finish, _layer, _leaf

__all__ = ["fig_counts", "fig_gram"]


def fig_counts(labels: list[str], hidden: int, features: int, level: int, per_seed: bool = True) -> dict:
    """Features represented against sparsity: one dot per seed (``per_seed``; left out for one seed, whose dot
    would hide under the median), the median (line), a dashed rule at the number of hidden dimensions; the level
    whose WᵀW is drawn below is ringed."""
    pos = alt.X("pos:Q", scale=alt.Scale(domain=[-0.5, len(labels) - 0.5], nice=False),
                axis=alt.Axis(**axis("sparsity S (probability a feature is 0)", values=list(range(len(labels))),
                                     labelExpr="[" + ",".join(f"'{x}'" for x in labels) + "][datum.value]", grid=False)))
    y = alt.Scale(domain=[0, features + 0.5], nice=False)
    y_axis = alt.Axis(**axis("features represented (count)", tickMinStep=1))
    dots = _leaf(alt.Data(name="sp_seeds"), [], lambda c: c.mark_circle(size=60, opacity=0.8, color=OKABE_ITO[0]).encode(
        x=pos, y=alt.Y("represented:Q", scale=y, axis=y_axis),
        tooltip=[alt.Tooltip("sparsity:Q", title="sparsity S"), alt.Tooltip("seed:Q"),
                 alt.Tooltip("represented:Q", title="features represented")]))
    med = _leaf(alt.Data(name="sp_levels"), [{"calculate": "datum.level", "as": "pos"}],
                lambda c: c.mark_line(color=OKABE_ITO[1], strokeWidth=2.5,
                                      point=alt.OverlayMarkDef(shape="square", size=70, color=OKABE_ITO[1])).encode(
        x=pos, y=alt.Y("median:Q", scale=y, axis=y_axis),
        tooltip=[alt.Tooltip("sparsity:Q", title="sparsity S"), alt.Tooltip("median:Q", title="median over seeds"),
                 alt.Tooltip("lo:Q", title="fewest"), alt.Tooltip("hi:Q", title="most"),
                 alt.Tooltip("dims:Q", format=".2f", title="dims per feature (median)")]))
    ring = _leaf(alt.Data(name="sp_levels"), [{"filter": "datum.level == level"}, {"calculate": "datum.level", "as": "pos"}],
                 lambda c: c.mark_point(size=500, stroke="#000000", strokeWidth=2, filled=False).encode(
        x=pos, y=alt.Y("median:Q", scale=y)))
    rule = _leaf(alt.Data(values=[{"y": hidden, "note": f"{hidden} hidden dimensions"}]), [],
                 lambda c: c.mark_rule(color="#000000", strokeDash=[5, 4]).encode(
        y=alt.Y("y:Q", scale=y), tooltip=[alt.Tooltip("note:N", title="reference")]))
    text = _leaf(alt.Data(values=[{"y": hidden, "note": f"{hidden} hidden dimensions"}]), [],
                 lambda c: c.mark_text(align="left", x=4, dy=-7, fontSize=11).encode(y=alt.Y("y:Q", scale=y),
                                                                                    text=alt.Text("note:N")))
    layers = (rule, text, dots, med, ring) if per_seed else (rule, text, med, ring)
    return _finish(_layer(*layers, params=[{"name": "level", "value": int(level)}],
                          width=560, height=260))


def fig_gram(features: int, lim: float, level: int, titles: list[str] | None = None) -> dict:
    """WᵀW of the selected level's first seed as a heatmap (diverging blue-white-orange, fixed range ±lim):
    entry (i, j) is the overlap W_iᵀW_j of features i and j; the diagonal is each feature's squared length.
    ``titles`` (one per level) name the drawn level above the map."""
    size = max(220, min(420, 30 * features))
    enc = dict(
        x=alt.X("j:O", axis=alt.Axis(**axis("feature j (input feature index)", labelAngle=0))),
        y=alt.Y("i:O", axis=alt.Axis(**axis("feature i (input feature index)"))),
        color=alt.Color("v:Q", scale=alt.Scale(domain=[-lim, 0, lim], range=["#0072B2", "#f7f7f7", "#D55E00"]),
                        legend=alt.Legend(title="W_iᵀW_j (overlap, a.u.)", orient="right", gradientLength=200)),
        tooltip=[alt.Tooltip("sparsity:Q", title="sparsity S"), alt.Tooltip("seed:Q"), alt.Tooltip("i:O", title="feature i"),
                 alt.Tooltip("j:O", title="feature j"), alt.Tooltip("v:Q", format=".3f", title="W_iᵀW_j")])
    heat = _leaf(alt.Data(name="sp_gram"), [{"filter": "datum.level == level"}],
                 lambda c: c.mark_rect(stroke="#ffffff", strokeWidth=0.5).encode(**enc))
    spec = {**_layer(heat, params=[{"name": "level", "value": int(level)}]), "width": size, "height": size}
    if titles:
        names = "[" + ",".join(f"'{t}'" for t in titles) + "]"
        spec["title"] = {"text": {"expr": f"'WᵀW of the model trained at ' + {names}[level] + ' (first seed)'"},
                         "fontSize": 13}
    return _finish(spec)
