"""Charts of the transfer study: Vega-Lite specs (built with Altair), drawn in the browser.

Nothing here measures: every function takes named datasets the page arranged from the study's
views (:mod:`nichelab.studies.transfer.views`: means, 95% intervals and per-seed accuracies,
CKA, costs, the tasks' example images, all in ``results.json``) and returns a Vega-Lite spec.

Page parameters: ``tsource`` (str: the source task A whose AnB / AnB+ curves are drawn),
``tcond`` (str: one condition alone, ``""`` = every condition) and ``tzoom`` (``"full"`` or
``"near"``: the accuracy axis over the whole range or near baseB).

Named datasets (rows are dicts; accuracies and costs in percent / percentage points):

- ``tr_curves``: ``model, cond, source, label, n, mean, lo, hi, seeds`` -- per condition and cut the
  mean over seeds and its 95% t interval (``source`` "" for BnB, BnB+ and random).
- ``tr_seeds``: ``model, cond, source, n, seed, acc`` -- every seed's accuracy.
- ``tr_base``: ``model, mean, lo, hi, seeds`` -- baseB.
- ``tr_cka``: ``model, row, label, source, layer, li, mean, lo, hi``.
- ``tr_cost``: ``model, what, label, n, mean, lo, hi`` -- baseB minus AnB (per source) or minus the
  random control, with the 95% Welch interval of the difference.
- ``tr_pixels``: ``task, ti, cls, ci, r, c, v`` -- one example image per class and task, grey level ``v``.

The tasks' images are drawn as pixel rectangles from the grey levels the result holds (a picture,
but every grey level is hoverable and checked against ``results.json``).
"""
from __future__ import annotations

import altair as alt

from ..charts import OKABE_ITO, axis
from .lab import _calc, _filter, _finish, _layer, _leaf

__all__ = ["CONDITION_STYLE", "CONDITION_NAMES", "fig_curves", "fig_cka", "fig_cost", "fig_tasks"]

#: Colour, dash and point shape of each condition (blue: from baseB, vermillion / orange: from baseA,
#: black: random; dashed: fine-tuned). Okabe-Ito colours; dashes and shapes differ too, for grey prints.
CONDITION_STYLE = {
    "BnB": (OKABE_ITO[0], [], "circle"),
    "BnB+": (OKABE_ITO[4], [6, 3], "circle"),
    "AnB": (OKABE_ITO[5], [], "square"),
    "AnB+": (OKABE_ITO[1], [6, 3], "square"),
    "random": (OKABE_ITO[7], [2, 2], "triangle-up"),
}
#: Legend words of each condition.
CONDITION_NAMES = {
    "BnB": "BnB: L1..Ln from baseB, frozen",
    "BnB+": "BnB+: L1..Ln from baseB, fine-tuned",
    "AnB": "AnB: L1..Ln from baseA, frozen",
    "AnB+": "AnB+: L1..Ln from baseA, fine-tuned",
    "random": "random control: L1..Ln random, frozen",
}
_CONDS = list(CONDITION_STYLE)
_KEEP = "(tcond == '' || datum.cond == tcond) && (datum.source == '' || datum.source == tsource)"


def _cond_scale() -> alt.Scale:
    return alt.Scale(domain=_CONDS, range=[CONDITION_STYLE[c][0] for c in _CONDS])


def _cond_encodings():
    names = "{" + ",".join(f"'{k}': '{v}'" for k, v in CONDITION_NAMES.items()) + "}"
    colour = alt.Color("cond:N", scale=_cond_scale(),
                       legend=alt.Legend(title="condition (line: mean over seeds; bars: 95% interval; dots: seeds)",
                                         orient="bottom", columns=2, labelLimit=300, titleLimit=520,
                                         symbolStrokeWidth=1, symbolSize=90, labelExpr=f"{names}[datum.value]"))
    dash = alt.StrokeDash("cond:N", scale=alt.Scale(domain=_CONDS, range=[CONDITION_STYLE[c][1] for c in _CONDS]),
                          legend=None)
    shape = alt.Shape("cond:N", scale=alt.Scale(domain=_CONDS, range=[CONDITION_STYLE[c][2] for c in _CONDS]),
                      legend=None)
    return colour, dash, shape


def _params(source: str, cond: str = "", zoom: str = "full") -> list:
    return [{"name": "tsource", "value": source}, {"name": "tcond", "value": cond}, {"name": "tzoom", "value": zoom}]


def fig_curves(model: str, cuts: list[int], source: str, full: list[float], near: list[float]) -> dict:
    """Test accuracy on B against the cut n for every condition of one architecture.

    Lines join the means over seeds, bars show their 95% intervals, faint dots every seed; the grey
    rule and band are baseB's mean and 95% interval. AnB and AnB+ are drawn for the selected source
    task (``tsource``); ``tcond`` shows one condition alone; ``tzoom`` switches the y axis between
    ``full`` and ``near`` (both [low, high] in percent, from the view).
    """
    colour, dash, shape = _cond_encodings()
    x = alt.X("nx:Q", scale=alt.Scale(domain=[min(cuts) - 0.4, max(cuts) + 0.4], nice=False),
              axis=alt.Axis(**axis("cut n (blocks L1..Ln copied from A or B, or random)", values=list(cuts),
                                   format="d")))
    dom = {"domainMin": {"expr": f"tzoom == 'near' ? {near[0]:.4g} : {full[0]:.4g}"},
           "domainMax": {"expr": f"tzoom == 'near' ? {near[1]:.4g} : {full[1]:.4g}"}}
    yscale = alt.Scale(nice=False, zero=False, **dom)
    y = alt.Y("mean:Q", scale=yscale, axis=alt.Axis(**axis("test accuracy on B (%)")))
    offset = "{" + ",".join(f"'{c}': {o}" for c, o in zip(_CONDS, (-0.16, -0.08, 0.0, 0.08, 0.16))) + "}"
    mine = _filter(f"datum.model == '{model}'")
    keep = mine + _filter(_KEEP) + _calc(nx=f"datum.n + {offset}[datum.cond]")
    tip = [alt.Tooltip("cond:N", title="condition"), alt.Tooltip("label:N", title="source A"),
           alt.Tooltip("n:Q", title="cut n"), alt.Tooltip("mean:Q", format=".1f", title="mean accuracy on B (%)"),
           alt.Tooltip("ci:N", title="95% interval (%)"), alt.Tooltip("seeds:Q", title="seeds")]
    curves = alt.Data(name="tr_curves")
    band = _leaf(alt.Data(name="tr_base"), mine, lambda c: c.mark_rect(color="#bbbbbb", opacity=0.2).encode(
        y=alt.Y("blo:Q", scale=yscale), y2=alt.Y2("bhi:Q")))
    band = {**band, "transform": band["transform"] + _calc(blo="isValid(datum.lo) ? datum.lo : datum.mean",
                                                           bhi="isValid(datum.hi) ? datum.hi : datum.mean")}
    base = _leaf(alt.Data(name="tr_base"), mine, lambda c: c.mark_rule(color="#555555", strokeWidth=1.5).encode(
        y=alt.Y("mean:Q", scale=yscale),
        tooltip=[alt.Tooltip("mean:Q", format=".1f", title="baseB: mean accuracy on B (%)"),
                 alt.Tooltip("ci:N", title="95% interval (%)"), alt.Tooltip("seeds:Q", title="seeds")]))
    base = {**base, "transform": base["transform"] + _calc(ci=_ci_expr())}
    base_text = _leaf(alt.Data(name="tr_base"), mine, lambda c: c.mark_text(
        align="left", x=4, dy=-7, fontSize=11, color="#555555").encode(y=alt.Y("mean:Q", scale=yscale),
                                                                       text=alt.value("baseB (trained on B)")))
    seeds = _leaf(alt.Data(name="tr_seeds"), keep, lambda c: c.mark_point(size=22, filled=True, opacity=0.45,
                                                                           clip=True).encode(
        x=x, y=alt.Y("acc:Q", scale=yscale), color=colour,
        tooltip=[alt.Tooltip("cond:N", title="condition"), alt.Tooltip("n:Q", title="cut n"),
                 alt.Tooltip("seed:Q"), alt.Tooltip("acc:Q", format=".1f", title="accuracy on B (%)")]))
    bars = _leaf(curves, keep + _filter("isValid(datum.lo)"), lambda c: c.mark_rule(strokeWidth=1.6,
                                                                                    clip=True).encode(
        x=x, y=alt.Y("lo:Q", scale=yscale), y2=alt.Y2("hi:Q"), color=colour))
    line = _leaf(curves, keep + _calc(ci=_ci_expr()), lambda c: c.mark_line(
        strokeWidth=2.2, clip=True, point=alt.OverlayMarkDef(size=70, filled=True)).encode(
        x=x, y=y, color=colour, strokeDash=dash, shape=shape, detail=alt.Detail("label:N"), tooltip=tip))
    return _finish(_layer(band, base, base_text, seeds, bars, line, params=_params(source), width=560, height=300))


def _ci_expr() -> str:
    return ("isValid(datum.lo) ? format(datum.lo, '.1f') + ' to ' + format(datum.hi, '.1f') "
            ": 'none (one seed)'")


#: Colours of the source tasks' lines (CKA, cost); the references and the random control are grey and black.
SOURCE_COLOURS = [OKABE_ITO[5], OKABE_ITO[2], OKABE_ITO[3], OKABE_ITO[0], OKABE_ITO[1], OKABE_ITO[4]]


def _colours(n_sources: int, extra: list[str]) -> list[str]:
    return [SOURCE_COLOURS[i % len(SOURCE_COLOURS)] for i in range(n_sources)] + extra


def fig_cka(model: str, layers: list[str], source: str, labels: list[str] | None = None,
            n_sources: int = 1) -> dict:
    """Linear CKA between baseA's and baseB's layers (one line per source task) and the two references
    (baseB of another seed, an untrained network), mean over seeds with 95% intervals; the selected
    source's line is drawn bold."""
    data = alt.Data(name="tr_cka")
    mine = _filter(f"datum.model == '{model}'")
    x = alt.X("layer:N", sort=list(layers), axis=alt.Axis(**axis("hidden layer (block)", labelAngle=0)))
    y = alt.Y("mean:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(**axis("linear CKA with baseB (0–1)")))
    scale = (alt.Scale(domain=list(labels), range=_colours(n_sources, ["#777777", "#000000"])[:len(labels)])
             if labels else alt.Scale(range=SOURCE_COLOURS))
    colour = alt.Color("label:N", scale=scale, sort=None, legend=alt.Legend(title="comparison (bars: 95% interval over seeds)",
                                                    orient="bottom", columns=1, labelLimit=400, titleLimit=400,
                                                    symbolStrokeWidth=3))
    width = alt.StrokeWidth("bold:N", scale=alt.Scale(domain=["yes", "no"], range=[3.2, 1.5]), legend=None)
    bold = _calc(bold="datum.source == tsource ? 'yes' : 'no'",
                 ci="isValid(datum.lo) ? format(datum.lo, '.2f') + ' to ' + format(datum.hi, '.2f') : 'none'")
    bars = _leaf(data, mine + _filter("isValid(datum.lo)"), lambda c: c.mark_rule(strokeWidth=1.4).encode(
        x=x, y=alt.Y("lo:Q", scale=alt.Scale(domain=[0, 1])), y2=alt.Y2("hi:Q"), color=colour))
    line = _leaf(data, mine + bold, lambda c: c.mark_line(point=alt.OverlayMarkDef(size=55, filled=True)).encode(
        x=x, y=y, color=colour, strokeDash=alt.StrokeDash("kind:N", scale=alt.Scale(
            domain=["A", "reference"], range=[[], [4, 3]]), legend=None), strokeWidth=width,
        tooltip=[alt.Tooltip("label:N", title="comparison"), alt.Tooltip("layer:N"),
                 alt.Tooltip("mean:Q", format=".3f", title="linear CKA (mean)"), alt.Tooltip("ci:N", title="95% interval")]))
    return _finish(_layer(bars, line, params=[{"name": "tsource", "value": source}], width=420, height=220))


def fig_cost(models: list[str], cuts: list[int], margin: float, labels: list[str] | None = None) -> dict:
    """Cost of frozen layers against the cut n: baseB minus AnB (one line per source task) beside baseB
    minus the random control, one panel per architecture, 95% interval bars; the grey band is the margin."""
    data = alt.Data(name="tr_cost")
    scale = (alt.Scale(domain=list(labels), range=_colours(len(labels) - 1, ["#000000"])) if labels
             else alt.Scale(range=SOURCE_COLOURS))
    whats = alt.Color("label:N", sort=None, scale=scale,
                      legend=alt.Legend(title="frozen layers L1..Ln (bars: 95% interval of the cost)",
                                        orient="bottom", columns=1, labelLimit=420, titleLimit=420,
                                        symbolStrokeWidth=3))
    panels = []
    for m in models:
        mine = _filter(f"datum.model == '{m}'")
        x = alt.X("nx:Q", scale=alt.Scale(domain=[min(cuts) - 0.4, max(cuts) + 0.4], nice=False),
                  axis=alt.Axis(**axis("cut n (L1..Ln frozen)", values=list(cuts), format="d")))
        y = alt.Y("mean:Q", axis=alt.Axis(**axis("cost: baseB − condition (points)")))
        tf = mine + _calc(nx="datum.n + datum.off",
                          ci="isValid(datum.lo) ? format(datum.lo, '.1f') + ' to ' + format(datum.hi, '.1f') "
                             ": 'none (one seed)'")
        band = _leaf(alt.Data(values=[{"lo": -margin, "hi": margin}]), [], lambda c: c.mark_rect(
            color="#dddddd", opacity=0.6).encode(y=alt.Y("lo:Q"), y2=alt.Y2("hi:Q")))
        zero = _leaf(alt.Data(values=[{"y": 0}]), [], lambda c: c.mark_rule(color="#777777").encode(y=alt.Y("y:Q")))
        bars = _leaf(data, tf + _filter("isValid(datum.lo)"), lambda c: c.mark_rule(strokeWidth=1.5).encode(
            x=x, y=alt.Y("lo:Q"), y2=alt.Y2("hi:Q"), color=whats))
        line = _leaf(data, tf, lambda c: c.mark_line(strokeWidth=2.2, point=alt.OverlayMarkDef(size=60,
                                                                                            filled=True)).encode(
            x=x, y=y, color=whats, strokeDash=alt.StrokeDash("what:N", scale=alt.Scale(
                domain=["AnB", "random"], range=[[], [2, 2]]), legend=None),
            tooltip=[alt.Tooltip("label:N", title="frozen layers"), alt.Tooltip("n:Q", title="cut n"),
                     alt.Tooltip("mean:Q", format=".1f", title="cost (points)"),
                     alt.Tooltip("ci:N", title="95% interval (points)"), alt.Tooltip("seeds:Q", title="seeds")]))
        panels.append(_layer(band, zero, bars, line, width=300 if len(models) > 1 else 520, height=240,
                             title={"text": m, "fontSize": 12, "fontWeight": "normal"}))
    rows = [{"hconcat": panels[i:i + 2]} for i in range(0, len(panels), 2)]
    return _finish({"vconcat": rows, "resolve": {"scale": {"color": "shared", "y": "shared"}}})


def fig_tasks(n_tasks: int, n_classes: int, h: int, w: int) -> dict:
    """One example image per class (columns) of every task (rows), as the networks see them, pixel by pixel
    (grey level 0 black to 1 white); hover a pixel for its grey level."""
    gap = max(1, round(0.25 * w))
    side = max(4, min(14, 620 // max(1, n_classes * (w + gap))))          # pixel size on screen
    gy = -(-34 // side) + 1                                                # room above a row for two text lines
    data = alt.Data(name="tr_pixels")
    tf = _calc(x=f"datum.ci * {w + gap} + datum.c", y=f"datum.ti * {h + gy} + {gy} + datum.r")
    xs = alt.Scale(domain=[0, n_classes * (w + gap)], nice=False)
    ys = alt.Scale(domain=[0, n_tasks * (h + gy)], nice=False, reverse=True)
    none = dict(title=None, labels=False, ticks=False, domain=False, grid=False)
    pix = _leaf(data, tf, lambda c: c.mark_rect().encode(
        x=alt.X("x:Q", scale=xs, axis=alt.Axis(**none)), x2=alt.X2("x2:Q"),
        y=alt.Y("y:Q", scale=ys, axis=alt.Axis(**none)), y2=alt.Y2("y2:Q"),
        fill=alt.Fill("v:Q", scale=alt.Scale(domain=[0, 1], range=["#000000", "#ffffff"]),
                      legend=alt.Legend(title="grey level (0–1)", orient="right", gradientLength=120)),
        tooltip=[alt.Tooltip("task:N"), alt.Tooltip("cls:N", title="class"), alt.Tooltip("r:Q", title="row"),
                 alt.Tooltip("c:Q", title="column"), alt.Tooltip("v:Q", format=".3f", title="grey level")]))
    pix = {**pix, "transform": pix["transform"] + _calc(x2="datum.x + 1", y2="datum.y + 1")}
    top = _filter("datum.r == 0 && datum.c == 0")
    names = _leaf(data, top + tf, lambda c: c.mark_text(align="left", baseline="bottom", dy=-2, fontSize=11).encode(
        x=alt.X("x:Q", scale=xs), y=alt.Y("y:Q", scale=ys), text=alt.Text("cls:N")))
    tasks = _leaf(data, top + _filter("datum.ci == 0") + tf, lambda c: c.mark_text(
        align="left", baseline="bottom", dy=-16, fontSize=12, fontWeight="bold").encode(
        x=alt.X("x:Q", scale=xs), y=alt.Y("y:Q", scale=ys), text=alt.Text("task:N")))
    return _finish(_layer(pix, names, tasks, width=side * n_classes * (w + gap), height=side * n_tasks * (h + gy),
                          view={"stroke": None}))
