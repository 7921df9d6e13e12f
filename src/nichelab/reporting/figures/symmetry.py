"""Charts of the symmetry study: Vega-Lite specs (built with Altair), drawn in the browser.

Nothing here measures: every function takes named datasets the page arranged from the study's
panels (:class:`~nichelab.studies.symmetry.result.SymmetryViews`: medians, ranges, fitted lines)
and returns a Vega-Lite spec. Page parameters: ``dataset`` (str) and ``condition`` (str, ``""`` =
every condition).

Named datasets (rows are dicts):

- ``sym_gap``: ``ds, key, label, step, y, lo, hi, median, zero`` -- largest gap per step (median
  over seeds, band from the lowest to the highest seed); exact zeros are drawn at the floor (``y``).
- ``sym_ref``: ``ds, tol, floor`` -- split tolerance and floor line per dataset.
- ``sym_train``: ``ds, key, label, epoch, accuracy (%), distinct``.
- ``sym_eps``: ``ds, eps, label, step, median``; ``sym_eps_split``: ``ds, eps, label, split, tol``.
- ``sym_split``: ``ds, seed, x, split``; ``sym_fit``: ``ds, seed, x, y``.
"""
from __future__ import annotations

import altair as alt

from ..charts import OKABE_ITO, axis
from .lab import _calc, _filter, _finish, _layer, _leaf

__all__ = ["CONDITION_STYLE", "condition_style", "fig_gap_conditions", "fig_gap_eps", "fig_split_vs_eps",
           "fig_training"]

#: Colour and dash per condition kind (Okabe-Ito; dashes differ too, for grey-scale prints).
CONDITION_STYLE = {
    "random": (OKABE_ITO[0], []),
    "symmetric": (OKABE_ITO[7], []),
    "tied": (OKABE_ITO[4], [6, 2]),
    "symmetric+dropout": (OKABE_ITO[1], [4, 3]),
    "eps": (OKABE_ITO[2], [6, 2, 1, 2]),
    "zeros": (OKABE_ITO[5], [1, 2]),
    "one unit": (OKABE_ITO[3], [5, 1, 1, 1]),
}
_DS = "datum.ds == dataset"
_COND = "(condition == '' || datum.key == condition)"


def condition_style(key: str) -> tuple[str, list]:
    """(colour, dash) of a condition key (``symmetric+eps=...`` keys share the ``eps`` style)."""
    return CONDITION_STYLE.get("eps" if key.startswith("symmetric+eps") else key, (OKABE_ITO[6], []))


def _params(dataset: str, condition: str = "") -> list:
    return [{"name": "dataset", "value": dataset}, {"name": "condition", "value": condition}]


def _cond_scales(keys: list[str], labels: list[str]):
    """Colour and dash by condition key (the same on every dataset); the legend shows ``labels``."""
    names = "{" + ",".join(f"'{k}': '{lab}'" for k, lab in zip(keys, labels)) + "}"
    # colour and dash share one legend (the same definition on both, so Vega-Lite merges them without a
    # "Conflicting legend property" warning, and the legend shows each line's dash too)
    legend = alt.Legend(title="condition (mean or median over seeds)", orient="bottom", columns=2, labelLimit=320,
                        titleLimit=400, symbolType="stroke", symbolStrokeWidth=3, symbolOpacity=1,
                        labelExpr=f"{names}[datum.value]")
    colour = alt.Color("key:N", scale=alt.Scale(domain=keys, range=[condition_style(k)[0] for k in keys]),
                       legend=legend)
    dash = alt.StrokeDash("key:N", scale=alt.Scale(domain=keys, range=[condition_style(k)[1] for k in keys]),
                          legend=legend)
    return colour, dash


def fig_gap_conditions(keys: list[str], labels: list[str], dataset: str, ymin: dict, ymax: dict) -> dict:
    """Largest gap between two hidden units per optimizer step, one line per condition (log scale).

    Lines are the median over seeds; choosing one condition shows it alone with its band (lowest to
    highest seed). Exact zeros are drawn at the floor (dotted grey rule, labelled); the dashed grey rule
    is the split tolerance. ``ymin`` and ``ymax`` map each dataset to the ends of its y axis.
    """
    data = alt.Data(name="sym_gap")
    colour, dash = _cond_scales(keys, labels)
    x = alt.X("step:Q", axis=alt.Axis(**axis("optimizer step", format="d", tickMinStep=1)))
    lows = "{" + ",".join(f"'{k}': {v:.3e}" for k, v in ymin.items()) + "}"
    highs = "{" + ",".join(f"'{k}': {v:.3e}" for k, v in ymax.items()) + "}"
    yscale = alt.Scale(type="log", domainMin={"expr": f"{lows}[dataset]"}, domainMax={"expr": f"{highs}[dataset]"})
    y = alt.Y("y:Q", scale=yscale,
              axis=alt.Axis(**axis("largest gap between two units' incoming weights (a.u., log)", format=".0e")))
    keep = _filter(f"{_DS} && {_COND}")
    # the band is drawn only when one condition is chosen; hidden by opacity, not filtered out, since an empty
    # layer makes Vega log "Infinite extent" warnings
    band = _leaf(data, keep, lambda c: c.mark_area(opacity={"expr": "condition != '' ? 0.2 : 0"}).encode(
        x=x, y=alt.Y("lo:Q", scale=yscale), y2=alt.Y2("hi:Q"), color=colour))
    line = _leaf(data, keep, lambda c: c.mark_line(strokeWidth=2, clip=True).encode(
        x=x, y=y, color=colour, strokeDash=dash,
        tooltip=[alt.Tooltip("label:N", title="condition"), alt.Tooltip("step:Q"),
                 alt.Tooltip("gap:N", title="median gap"), alt.Tooltip("range:N", title="seeds' range")]))
    ref = alt.Data(name="sym_ref")
    tol = _leaf(ref, _filter(_DS), lambda c: c.mark_rule(color="#555555", strokeDash=[2, 2]).encode(
        y=alt.Y("tol:Q", scale=yscale), tooltip=[alt.Tooltip("tol:Q", format=".2e", title="split tolerance")]))
    tol_text = _leaf(ref, _filter(_DS), lambda c: c.mark_text(align="right", dy=-6, x="width", fontSize=11,
                                                              color="#555555").encode(
        y=alt.Y("tol:Q", scale=yscale), text=alt.value("split tolerance")))
    floor = _leaf(ref, _filter(_DS), lambda c: c.mark_rule(color="#999999", strokeDash=[1, 3]).encode(
        y=alt.Y("floor:Q", scale=yscale)))
    floor_text = _leaf(ref, _filter(_DS), lambda c: c.mark_text(align="left", dy=-6, x=4, fontSize=11,
                                                                color="#555555").encode(
        y=alt.Y("floor:Q", scale=yscale), text=alt.value("floor: gap exactly 0")))
    line = {**line, "transform": line["transform"] + _calc(
        gap="datum.zero ? '0 (exact)' : format(datum.median, '.3e')",
        range="format(datum.lo_v, '.2e') + ' to ' + format(datum.hi_v, '.2e')")}
    return _finish(_layer(band, line, tol, tol_text, floor, floor_text, params=_params(dataset), width=620, height=300))


def fig_training(keys: list[str], labels: list[str], dataset: str) -> dict:
    """Training accuracy (top) and number of distinct hidden units (bottom) per epoch, mean over seeds."""
    data = alt.Data(name="sym_train")
    colour, dash = _cond_scales(keys, labels)
    x = alt.X("epoch:Q", axis=alt.Axis(**axis("epoch", format="d", tickMinStep=1)))
    tip = [alt.Tooltip("label:N", title="condition"), alt.Tooltip("epoch:Q"),
           alt.Tooltip("accuracy:Q", format=".1f", title="accuracy (%)"),
           alt.Tooltip("distinct:Q", format=".2f", title="distinct units")]
    keep = _filter(f"{_DS} && {_COND}")
    top = _leaf(data, keep, lambda c: c.mark_line(strokeWidth=2, point=True).encode(
        x=x, y=alt.Y("accuracy:Q", scale=alt.Scale(domain=[0, 100]), axis=alt.Axis(**axis("training accuracy (%)"))),
        color=colour, strokeDash=dash, tooltip=tip))
    bottom = _leaf(data, keep, lambda c: c.mark_line(strokeWidth=2, point=True).encode(
        x=x, y=alt.Y("distinct:Q", scale=alt.Scale(zero=True),
                     axis=alt.Axis(**axis("distinct hidden units (count)"))),
        color=colour, strokeDash=dash, tooltip=tip))
    top.update(width=620, height=180)
    bottom.update(width=620, height=160)
    return _finish({"vconcat": [top, bottom], "params": _params(dataset), "resolve": {"scale": {"color": "shared"}}})


def fig_gap_eps(dataset: str, n_eps: int) -> dict:
    """Median largest gap per step for every perturbation size eps (log scale); dots: median split step."""
    ramp = ["#000000", "#0072B2", "#56B4E9", "#009E73", "#E69F00", "#D55E00", "#CC79A7"]
    legend = alt.Legend(title="perturbation size", orient="bottom", columns=4, symbolType="stroke",
                        symbolStrokeWidth=3, symbolOpacity=1)
    colour = alt.Color("label:N", sort=None, scale=alt.Scale(range=ramp[:max(n_eps, 1)]), legend=legend)
    x = alt.X("step:Q", axis=alt.Axis(**axis("optimizer step", format="d", tickMinStep=1)))
    yscale = alt.Scale(type="log")
    line = _leaf(alt.Data(name="sym_eps"), _filter(_DS), lambda c: c.mark_line(strokeWidth=2, clip=True).encode(
        x=x, y=alt.Y("median:Q", scale=yscale, axis=alt.Axis(**axis("largest gap (a.u., log), median over seeds",
                                                                    format=".0e"))),
        color=colour, strokeDash=alt.StrokeDash("label:N", sort=None, legend=legend),
        tooltip=[alt.Tooltip("label:N", title="perturbation"), alt.Tooltip("step:Q"),
                 alt.Tooltip("median:Q", format=".3e", title="median gap")]))
    dots = _leaf(alt.Data(name="sym_eps_split"), _filter(_DS), lambda c: c.mark_point(
        filled=True, size=80, stroke="#000000", strokeWidth=0.7).encode(
        x=alt.X("split:Q"), y=alt.Y("tol:Q", scale=yscale), color=colour,
        tooltip=[alt.Tooltip("label:N", title="perturbation"), alt.Tooltip("split:Q", title="median split step")]))
    return _finish(_layer(line, dots, params=[{"name": "dataset", "value": dataset}], width=620, height=280))


def fig_split_vs_eps(dataset: str) -> dict:
    """Step at which the units split against log10(1/eps) on ``dataset``: one dot per seed and eps, each seed's
    fitted line.

    The chart shows ``dataset`` only, whatever the page's dataset selector says (it has no ``dataset``
    parameter): the page draws it for the datasets whose time to split was fitted, the ones its text describes.
    """
    legend = alt.Legend(title="seed (dots: split steps; lines: fit per seed)", orient="bottom", columns=6,
                        titleLimit=400)
    colour = alt.Color("seed:N", scale=alt.Scale(range=OKABE_ITO), legend=legend)
    x = alt.X("x:Q", scale=alt.Scale(zero=False),
              axis=alt.Axis(**axis("log10(1 / eps)   (eps = size of the perturbation)")))
    keep = _filter(f"datum.ds == '{dataset}'")
    dots = _leaf(alt.Data(name="sym_split"), keep, lambda c: c.mark_point(filled=True, size=70).encode(
        x=x, y=alt.Y("split:Q", axis=alt.Axis(**axis("step at which the units split"))), color=colour,
        shape=alt.Shape("seed:N", legend=None),
        tooltip=[alt.Tooltip("seed:N"), alt.Tooltip("eps:Q", format=".0e"), alt.Tooltip("split:Q", title="split step")]))
    fit = _leaf(alt.Data(name="sym_fit"), keep, lambda c: c.mark_line(strokeWidth=1.5, opacity=0.9).encode(
        x=x, y=alt.Y("y:Q"), color=colour, detail=alt.Detail("seed:N")))
    spec = _layer(fit, dots, width=560, height=260)
    spec["title"] = {"text": f"{dataset}: time to split against the size of the perturbation", "fontSize": 13}
    return _finish(spec)
