"""Charts of the multiclass-lab study: Vega-Lite specs built with Altair, drawn in the browser.

Nothing here measures: every function takes numbers the result holds (arranged into named
datasets by :mod:`nichelab.reporting.pages.lab`) and returns a Vega-Lite spec (dict). The maps
(each unit's ReLU output over the input plane, the decision regions) are computed by Vega-Lite
transforms from the weights of the selected seed and epoch over a grid, so the page carries
weights, not pixels.

Named datasets (rows are dicts):

- ``lab_points``: ``i, x0, x1, cls, jx, jy`` -- the data; ``jx, jy`` in [-1, 1] spread points that
  coincide in the hidden-activation plane.
- ``lab_w``: ``k = "<seed>_<epoch>", W (2H,), b (H,), V (C*H,), c (C,), split (H,), act (H,),
  hi0, hi1`` -- weights (``W`` row-major (H, 2), ``V`` row-major (C, H)), each unit's split and
  active classes, and the seed's largest hidden activations (axis extent).
- ``lab_seeds``: ``seed, outcome, oi, accuracy, loss, angle, jit`` -- one row per seed.
- ``lab_loss``: ``seed, epoch, loss`` -- per-epoch loss of the seeds with a film.

Page parameters: ``seed`` (number) and ``epoch`` (number).
"""
from __future__ import annotations

import altair as alt

from ..charts import OKABE_ITO, axis

__all__ = ["X0_RANGE", "X1_RANGE", "weights_key", "fig_film", "fig_outcome_shares", "fig_splits",
           "fig_accuracy_by_outcome", "fig_init_angle", "fig_init_relation", "fig_loss_curves",
           "fig_exclusion", "fig_pull"]

X0_RANGE, X1_RANGE = (-8.0, 8.0), (-5.0, 4.0)  # the lab's plotting window (as in studies/lab/views.py)
GX, GY = 64, 36       # grid cells over the input plane (about 4.5 px each at the drawn size)
GH = 40               # grid cells per side of the hidden-activation plane
PANEL_W, PANEL_H = 300, 170
CLASS_SCALE = {"domain": [0, 1, 2, 3], "range": OKABE_ITO[:4]}
SHAPES = {"domain": [0, 1, 2, 3], "range": ["circle", "square", "triangle-up", "diamond"]}


def _params(seed: int, epoch: int) -> list:
    return [{"name": "seed", "value": int(seed)}, {"name": "epoch", "value": int(epoch)}]


# Charts are built from leaves: each leaf is an Altair chart (mark + encoding) over transforms given as
# plain Vega-Lite dicts, turned into a dict once; layers and concatenations are composed as dicts.
# (Chaining Altair methods deep-copies the whole chart at every call: 0.8 s for the film.)

def _calc(**exprs) -> list:
    return [{"calculate": e, "as": k} for k, e in exprs.items()]


def _flatten(field: str) -> list:
    return [{"flatten": [field]}]


def _filter(expr: str) -> list:
    return [{"filter": expr}]


def _leaf(data, transforms: list, chart_fn) -> dict:
    """A single-view spec: ``chart_fn(alt.Chart(data, transform=transforms))`` as a dict."""
    d = chart_fn(alt.Chart(data, transform=transforms or alt.Undefined)).to_dict(validate=False)
    d.pop("$schema", None)
    d.pop("config", None)
    return d


def _layer(*leaves, **props) -> dict:
    return {"layer": list(leaves), **props}


def weights_key(film_seeds: list[int], last_epoch: int) -> str:
    """Vega expression: the ``lab_w`` key of the selected seed at the selected epoch.

    Seeds without a film only have their final weights, so their key uses the last epoch.
    """
    film = "[" + ",".join(str(int(s)) for s in film_seeds) + "]"
    return f"toString(seed) + '_' + toString(indexof({film}, seed) >= 0 ? epoch : {int(last_epoch)})"


def _class_fill(legend: bool = True):
    return alt.Fill("cls:N", scale=alt.Scale(**CLASS_SCALE),
                    legend=alt.Legend(title="class", orient="bottom") if legend else None)


def _class_shape(legend: bool = True):
    return alt.Shape("cls:N", scale=alt.Scale(**SHAPES),
                     legend=alt.Legend(title="class", orient="bottom") if legend else None)


def _input_xy(x: str = "x0", y: str = "x1"):
    return (alt.X(f"{x}:Q", scale=alt.Scale(domain=list(X0_RANGE), nice=False, zero=False),
                  axis=alt.Axis(**axis("x0 (input feature, a.u.)"))),
            alt.Y(f"{y}:Q", scale=alt.Scale(domain=list(X1_RANGE), nice=False, zero=False),
                  axis=alt.Axis(**axis("x1 (input feature, a.u.)"))))


def _grid(nx: int, ny: int, x_lo: str, x_hi: str, y_lo: str, y_hi: str) -> list:
    """Transforms giving each row an nx-by-ny grid of cells (x, x2, y, y2 and centres xc, yc)."""
    return (_calc(g=f"sequence(0, {nx * ny})") + _flatten("g")
            + _calc(dx=f"({x_hi} - ({x_lo})) / {nx}", dy=f"({y_hi} - ({y_lo})) / {ny}")
            + _calc(x=f"({x_lo}) + (datum.g % {nx}) * datum.dx", y=f"({y_lo}) + floor(datum.g / {nx}) * datum.dy")
            + _calc(x2="datum.x + datum.dx", y2="datum.y + datum.dy",
                    xc="datum.x + datum.dx / 2", yc="datum.y + datum.dy / 2"))


def _input_grid() -> list:
    return _grid(GX, GY, str(X0_RANGE[0]), str(X0_RANGE[1]), str(X1_RANGE[0]), str(X1_RANGE[1]))


def _hidden_expr(H: int, x: str, y: str) -> dict:
    return {f"h{j}": f"max(0, datum.W[{2 * j}] * {x} + datum.W[{2 * j + 1}] * {y} + datum.b[{j}])" for j in range(H)}


def _logit_expr(C: int, H: int, hidden: list[str]) -> dict:
    """Vega expressions ``z0 .. z{C-1}``: the output logits from the hidden activations ``hidden``."""
    return {f"z{c}": " + ".join([f"datum.V[{c * H + j}] * {hidden[j]}" for j in range(H)] + [f"datum.c[{c}]"])
            for c in range(C)}


def _argmax(C: int) -> list:
    """Transforms adding ``pred``: the index of the largest of ``z0 .. z{C-1}`` (the first one on ties)."""
    out = _calc(pred="0", zmax="datum.z0")
    for c in range(1, C):
        out += _calc(pred=f"datum.z{c} > datum.zmax ? {c} : datum.pred", zmax=f"max(datum.zmax, datum.z{c})")
    return out


def _line_rows(units: str) -> list:
    """Transforms: rows (u, t) of each unit's zero line w.x + b = 0, two far points either side of its foot."""
    return (_calc(u=units) + _flatten("u")
            + _calc(w0="datum.W[2 * datum.u]", w1="datum.W[2 * datum.u + 1]", bb="datum.b[datum.u]")
            + _calc(nw="sqrt(datum.w0 * datum.w0 + datum.w1 * datum.w1)") + _filter("datum.nw > 1e-9")
            + _calc(t="[-1, 1]") + _flatten("t")
            + _calc(lx="-datum.bb * datum.w0 / (datum.nw * datum.nw) - datum.t * 40 * datum.w1 / datum.nw",
                    ly="-datum.bb * datum.w1 / (datum.nw * datum.nw) + datum.t * 40 * datum.w0 / datum.nw",
                    unit="'L1:' + datum.u + ' = 0'"))


#: Dash of each unit's zero line (unit j uses entry j mod 6), the same in every panel of the film and its legend.
DASHES = [[1, 0], [6, 3], [2, 2], [10, 3, 2, 3], [1, 3], [6, 2, 2, 2, 2, 2]]


def unit_dash(u: int) -> list:
    """The dash pattern of unit ``u``'s zero line (solid for L1:0)."""
    return DASHES[u % len(DASHES)]


def _dash_scale(H: int) -> alt.Scale:
    return alt.Scale(domain=[f"L1:{j} = 0" for j in range(H)], range=[unit_dash(j) for j in range(H)])


W_DATA = alt.Data(name="lab_w")
P_DATA = alt.Data(name="lab_points")


def _points_transforms(key: str, H: int) -> list:
    """The data points, with the selected weights looked up and every unit's activation computed."""
    return (_calc(key=key)
            + [{"lookup": "key", "from": {"data": {"name": "lab_w"}, "key": "k",
                                          "fields": ["W", "b", "split", "hi0", "hi1"]}}]
            + _calc(**_hidden_expr(H, "datum.x0", "datum.x1")))


def _unit_panel(u: int, key: str, H: int, film_list: str) -> dict:
    x, y = _input_xy("x", "y")
    heat = _leaf(W_DATA, _filter(f"datum.k == {key}") + _input_grid() + _calc(
        activation=f"max(0, datum.W[{2 * u}] * datum.xc + datum.W[{2 * u + 1}] * datum.yc + datum.b[{u}])",
        unit=f"'L1:{u}'", split=f"datum.split[{u}]", active=f"datum.act[{u}]"),
        lambda c: c.mark_rect(strokeWidth=0).encode(
            x=x, x2=alt.X2("x2"), y=y, y2=alt.Y2("y2"),
            color=alt.Color("activation:Q", scale=alt.Scale(domainMin=0, range=["#ffffff", "#4d4d4d"]),
                            legend=alt.Legend(title="ReLU output (a.u.)", orient="bottom", gradientLength=120)),
            tooltip=[alt.Tooltip("unit:N"), alt.Tooltip("split:N"),
                     alt.Tooltip("active:N", title="active for classes"),
                     alt.Tooltip("xc:Q", title="x0", format=".2f"), alt.Tooltip("yc:Q", title="x1", format=".2f"),
                     alt.Tooltip("activation:Q", format=".3f")]))
    line = _leaf(W_DATA, _filter(f"datum.k == {key}") + _line_rows(f"[{u}]"),
                 lambda c: c.mark_line(clip=True, strokeDash=unit_dash(u), strokeWidth=2, color="#000000").encode(
                     x=alt.X("lx:Q"), y=alt.Y("ly:Q"), detail=alt.Detail("u:N"), order=alt.Order("t:Q"), tooltip=[alt.Tooltip("unit:N", title="zero line")]))
    pts = _leaf(P_DATA, _points_transforms(key, H) + _calc(activation=f"datum.h{u}", unit=f"'L1:{u}'",
                                                           split=f"datum.split[{u}]"),
                lambda c: c.mark_point(filled=True, size=34, stroke="#ffffff", strokeWidth=0.8, opacity=1).encode(
                    x=alt.X("x0:Q"), y=alt.Y("x1:Q"), fill=_class_fill(), shape=_class_shape(),
                    tooltip=[alt.Tooltip("cls:N", title="class"), alt.Tooltip("unit:N"), alt.Tooltip("split:N"),
                             alt.Tooltip("activation:Q", format=".3f"),
                             alt.Tooltip("x0:Q", format=".2f"), alt.Tooltip("x1:Q", format=".2f")]))
    title = {"text": {"expr": f"'unit L1:{u} — seed ' + seed + ', epoch ' + "
                              f"(indexof({film_list}, seed) >= 0 ? epoch : 'final')"}, "fontSize": 13}
    return _layer(heat, line, pts, width=PANEL_W, height=PANEL_H, title=title)


def _hidden_plane(key: str, H: int, C: int) -> dict:
    pts = _leaf(P_DATA, _points_transforms(key, H) + _calc(a0="datum.h0 + datum.jx * 0.025 * datum.hi0",
                                                           a1="datum.h1 + datum.jy * 0.025 * datum.hi1"),
                lambda c: c.mark_point(filled=True, size=40, stroke="#ffffff", strokeWidth=1, opacity=0.95).encode(
                    x=alt.X("a0:Q", scale=alt.Scale(nice=False, zero=False),
                            axis=alt.Axis(**axis("a0 = L1:0 output (a.u.)"))),
                    y=alt.Y("a1:Q", scale=alt.Scale(nice=False, zero=False),
                            axis=alt.Axis(**axis("a1 = L1:1 output (a.u.)"))),
                    fill=_class_fill(), shape=_class_shape(),
                    tooltip=[alt.Tooltip("cls:N", title="class"),
                             alt.Tooltip("h0:Q", title="L1:0 activation", format=".3f"),
                             alt.Tooltip("h1:Q", title="L1:1 activation", format=".3f")]))
    layers = []
    if H == 2:
        bg = _filter(f"datum.k == {key}") + _grid(GH, GH, "-0.06 * datum.hi0", "datum.hi0", "-0.06 * datum.hi1",
                                                  "datum.hi1")
        bg += _calc(**_logit_expr(C, H, ["max(0, datum.xc)", "max(0, datum.yc)"])) + _argmax(C)
        layers.append(_leaf(W_DATA, bg, lambda c: c.mark_rect(opacity=0.3, strokeWidth=0).encode(
            x=alt.X("x:Q"), x2=alt.X2("x2"), y=alt.Y("y:Q"), y2=alt.Y2("y2"),
            color=alt.Color("pred:N", scale=alt.Scale(**CLASS_SCALE), legend=None),
            tooltip=[alt.Tooltip("pred:N", title="predicted class")])))
    zero = alt.Data(values=[{"z": 0}])
    layers += [_leaf(zero, [], lambda c: c.mark_rule(color="#888888", strokeWidth=1).encode(x=alt.X("z:Q"))),
               _leaf(zero, [], lambda c: c.mark_rule(color="#888888", strokeWidth=1).encode(y=alt.Y("z:Q"))), pts]
    return _layer(*layers, width=PANEL_W, height=PANEL_H + 40,
                  title={"text": "the data in the hidden-activation plane", "fontSize": 13})


def _regions(key: str, H: int, C: int) -> dict:
    x, y = _input_xy("x", "y")
    bg = (_filter(f"datum.k == {key}") + _input_grid() + _calc(**_hidden_expr(H, "datum.xc", "datum.yc"))
          + _calc(**_logit_expr(C, H, [f"datum.h{j}" for j in range(H)])) + _argmax(C))
    bg = _leaf(W_DATA, bg, lambda c: c.mark_rect(opacity=0.3, strokeWidth=0).encode(
        x=x, x2=alt.X2("x2"), y=y, y2=alt.Y2("y2"), color=alt.Color("pred:N", scale=alt.Scale(**CLASS_SCALE), legend=None),
        tooltip=[alt.Tooltip("pred:N", title="predicted class")]))
    lines = _leaf(W_DATA, _filter(f"datum.k == {key}") + _line_rows(f"sequence(0, {H})"),
                  lambda c: c.mark_line(clip=True, strokeWidth=2, color="#000000").encode(
                      x=alt.X("lx:Q"), y=alt.Y("ly:Q"), detail=alt.Detail("u:N"), order=alt.Order("t:Q"),
                      strokeDash=alt.StrokeDash("unit:N", scale=_dash_scale(H),
                                                legend=alt.Legend(title="zero line", orient="bottom")),
                      tooltip=[alt.Tooltip("unit:N", title="zero line")]))
    pts = _leaf(P_DATA, [], lambda c: c.mark_point(filled=True, size=34, stroke="#ffffff", strokeWidth=0.8,
                                                   opacity=1).encode(
        x=alt.X("x0:Q"), y=alt.Y("x1:Q"), fill=_class_fill(), shape=_class_shape(),
        tooltip=[alt.Tooltip("cls:N", title="class"), alt.Tooltip("x0:Q", format=".2f"),
                 alt.Tooltip("x1:Q", format=".2f")]))
    return _layer(bg, lines, pts, width=PANEL_W, height=PANEL_H + 40,
                  title={"text": "decision regions (shade = predicted class)", "fontSize": 13})


def fig_film(H: int, C: int, film_seeds: list[int], last_epoch: int, seed: int, epoch: int,
             panels: int | None = None) -> dict:
    """The training film: each unit's ReLU map, the hidden-activation plane and the decision regions.

    Parameters
    ----------
    H, C : int
        Hidden units and classes.
    film_seeds : list of int
        Seeds with every epoch recorded (others show their final weights).
    last_epoch : int
    seed, epoch : int
        Initial values of the page parameters.
    panels : int, optional
        Draw the maps of the first ``panels`` units only (default all ``H``).

    Returns
    -------
    dict
        Vega-Lite spec reading ``lab_points`` and ``lab_w``; parameters ``seed`` and ``epoch``.
    """
    key = weights_key(film_seeds, last_epoch)
    film = "[" + ",".join(str(int(s)) for s in film_seeds) + "]"
    units = {"concat": [_unit_panel(u, key, H, film) for u in range(min(H, panels or H))], "columns": 2}
    bottom = [_hidden_plane(key, H, C)] if H >= 2 else []
    spec = {"vconcat": [units, {"hconcat": bottom + [_regions(key, H, C)]}], "params": _params(seed, epoch),
            "resolve": {"scale": {"color": "independent"}}}
    return _finish(spec)


def _finish(chart) -> dict:
    spec = chart if isinstance(chart, dict) else chart.to_dict(validate=False)
    spec.pop("$schema", None)
    spec["config"] = {"view": {"stroke": "#cccccc", "continuousWidth": 300, "continuousHeight": 200},
                      "title": {"anchor": "start"}, "legend": {"labelFontSize": 11, "titleFontSize": 11}}
    return spec


def _outcome_color(outcomes: tuple, legend: bool = True):
    return alt.Color("outcome:N", scale=alt.Scale(domain=list(outcomes), range=OKABE_ITO[:len(outcomes)]),
                     legend=alt.Legend(title="outcome", orient="bottom") if legend else None)


def fig_outcome_shares(rows: list[dict], outcomes: tuple) -> dict:
    """Share of seeds per outcome (bars, percent) with 95% Wilson intervals and counts; click a bar to filter.

    ``rows``: one per outcome, ``{"outcome", "k", "n", "share", "lo", "hi"}`` (shares as fractions), as
    :func:`nichelab.studies.lab.views.share_rows` stores them in ``views["outcome_shares"]``.
    """
    n = rows[0]["n"] if rows else 0
    vals = [{"outcome": r["outcome"], "share": 100.0 * r["share"], "lo": 100.0 * r["lo"], "hi": 100.0 * r["hi"],
             "seeds": r["k"], "n": r["n"]} for r in rows if r["outcome"] in outcomes]
    data = alt.Data(values=vals)
    x = alt.X("outcome:N", sort=list(outcomes), axis=alt.Axis(**axis("outcome", labelAngle=0)))
    y = alt.Y("share:Q", scale=alt.Scale(domain=[0, 105]), axis=alt.Axis(**axis(f"share of seeds (%), n = {n}")))
    tip = [alt.Tooltip("outcome:N"), alt.Tooltip("seeds:Q"), alt.Tooltip("share:Q", format=".1f", title="share (%)"),
           alt.Tooltip("lo:Q", format=".1f", title="95% CI low (%)"), alt.Tooltip("hi:Q", format=".1f", title="95% CI high (%)")]
    bars = _leaf(data, [], lambda c: c.mark_bar().encode(
        x=x, y=y, color=_outcome_color(outcomes, legend=False), tooltip=tip))
    err = _leaf(data, [], lambda c: c.mark_rule(color="black", strokeWidth=2).encode(
        x=x, y=alt.Y("lo:Q"), y2=alt.Y2("hi:Q")))
    text = _leaf(data, _calc(label="datum.seeds + ' of ' + datum.n"),
                 lambda c: c.mark_text(dy=-8, fontSize=12).encode(x=x, y=alt.Y("hi:Q"), text=alt.Text("label:N")))
    return _finish(_layer(bars, err, text, width=420, height=220))


def fig_splits(rows: list[dict]) -> dict:
    """How often each split of the classes is implemented by a hidden unit (percent of units, 95% intervals).

    ``rows``: ``{"split", "k", "n", "share", "lo", "hi"}`` (shares as fractions), most common first, as
    stored in ``views["split_shares"]``.
    """
    n = rows[0]["n"] if rows else 0
    vals = [{"split": r["split"], "share": 100.0 * r["share"], "lo": 100.0 * r["lo"], "hi": 100.0 * r["hi"],
             "units": r["k"], "n": r["n"]} for r in rows]
    data = alt.Data(values=vals)
    y = alt.Y("split:N", sort=[r["split"] for r in vals], axis=alt.Axis(**axis("split (class-0 side | other side)")))
    x = alt.X("share:Q", scale=alt.Scale(domain=[0, 100]), axis=alt.Axis(**axis(f"share of hidden units (%), n = {n}")))
    bars = _leaf(data, [], lambda c: c.mark_bar(color=OKABE_ITO[0]).encode(
        y=y, x=x, tooltip=[alt.Tooltip("split:N"), alt.Tooltip("units:Q"),
                           alt.Tooltip("share:Q", format=".1f", title="share of units (%)"),
                           alt.Tooltip("lo:Q", format=".1f", title="95% CI low (%)"),
                           alt.Tooltip("hi:Q", format=".1f", title="95% CI high (%)")]))
    err = _leaf(data, [], lambda c: c.mark_rule(color="black", strokeWidth=2).encode(
        y=y, x=alt.X("lo:Q"), x2=alt.X2("hi:Q")))
    text = _leaf(data, _calc(label="datum.units + ' of ' + datum.n"),
                 lambda c: c.mark_text(dx=6, align="left", fontSize=11).encode(y=y, x=alt.X("hi:Q"),
                                                                                text=alt.Text("label:N")))
    return _finish(_layer(bars, err, text, width=460, height=max(60, 22 * len(vals))))


def _strip(outcomes: tuple, seed: int, value: str, value_axis: dict, horizontal: bool, tooltip: list,
           transforms: list, width: int, height: int) -> dict:
    """One dot per seed: ``value`` against its outcome (spread sideways); the selected seed ringed."""
    label = "[" + ",".join(f"'{o}'" for o in outcomes) + "][datum.value]"
    t = transforms + _calc(pos="datum.oi + 0.32 * datum.jit")
    group = alt.Axis(**axis("outcome", values=list(range(len(outcomes))), labelExpr=label, grid=False))
    pos = dict(field="pos", type="quantitative", scale=alt.Scale(domain=[-0.6, len(outcomes) - 0.4], nice=False),
               axis=group)
    val = dict(field=value, type="quantitative", **value_axis)
    enc = {"x": alt.X(**val), "y": alt.Y(**pos)} if horizontal else {"x": alt.X(**pos), "y": alt.Y(**val)}
    data = alt.Data(name="lab_seeds")
    dots = _leaf(data, t, lambda c: c.mark_circle(size=34, opacity=0.75).encode(
        color=_outcome_color(outcomes), tooltip=tooltip, **enc))
    ring = _leaf(data, t + _filter("datum.seed == seed"), lambda c: c.mark_point(
        size=240, stroke="#000000", strokeWidth=2.5, filled=False).encode(
        tooltip=[alt.Tooltip("seed:Q", title="selected seed")], **enc))
    return _finish(_layer(dots, ring, params=[{"name": "seed", "value": int(seed)}], width=width, height=height))


def fig_accuracy_by_outcome(outcomes: tuple, seed: int) -> dict:
    """Each seed's accuracy by outcome (one dot per seed); the selected seed is ringed; click a dot to select it."""
    return _strip(outcomes, seed, "accuracy",
                  {"scale": alt.Scale(domain=[0, 102]), "axis": alt.Axis(**axis("accuracy on the data (%)"))}, False,
                  [alt.Tooltip("seed:Q"), alt.Tooltip("outcome:N"), alt.Tooltip("accuracy:Q", format=".1f", title="accuracy (%)"),
                   alt.Tooltip("loss:Q", format=".3f")], [], 440, 240)


def fig_init_angle(outcomes: tuple, seed: int) -> dict:
    """Each seed's initial angle between its units' weight vectors, by outcome; click a dot to select it."""
    return _strip(outcomes, seed, "angle",
                  {"scale": alt.Scale(domain=[0, 180]),
                   "axis": alt.Axis(**axis("initial angle between the units' weights (degrees)",
                                           values=list(range(0, 181, 30))))}, True,
                  [alt.Tooltip("seed:Q"), alt.Tooltip("outcome:N"), alt.Tooltip("angle:Q", format=".0f", title="initial angle (°)")],
                  _filter("isValid(datum.angle) && isFinite(datum.angle)"), 440, 200)


def fig_init_relation(relation: dict) -> dict:
    """Share of seeds ending distinct when their units' initial splits differed or coincided."""
    data = alt.Data(values=[{"start": f"{k} splits at init", "share": 100.0 * relation[k][0], "n": relation[k][1]}
                            for k in ("different", "same") if relation.get(k, (0, 0))[1]])
    x = alt.X("start:N", axis=alt.Axis(**axis("the units' class splits at initialisation", labelAngle=0)))
    y = alt.Y("share:Q", scale=alt.Scale(domain=[0, 110]), axis=alt.Axis(**axis("seeds ending 'distinct' (%)")))
    bars = _leaf(data, [], lambda c: c.mark_bar(color=OKABE_ITO[0]).encode(
        x=x, y=y, tooltip=[alt.Tooltip("start:N"), alt.Tooltip("share:Q", format=".1f", title="ending distinct (%)"),
                           alt.Tooltip("n:Q", title="seeds")]))
    text = _leaf(data, _calc(label="format(datum.share, '.0f') + '% of ' + datum.n + ' seeds'"),
                 lambda c: c.mark_text(dy=-7, fontSize=12).encode(x=x, y=y, text=alt.Text("label:N")))
    return _finish(_layer(bars, text, width=320, height=200))


def fig_loss_curves(outcomes: tuple, seed: int, epoch: int, with_seed: bool = True,
                    loss_range: tuple | None = None) -> dict:
    """Training loss per epoch by outcome (median line, middle-half band; dataset ``lab_bands`` with rows
    ``outcome, epoch, q25, median, q75, n``), the selected seed's curve (``lab_loss``, seeds with a film) and
    a rule at the selected epoch.

    ``loss_range`` : (lowest, highest) loss drawn and the last epoch, ``(lo, hi, epochs)``; fixes the
    axes so a seed without a film (an empty curve) changes nothing (default: from the data).
    """
    bands = alt.Data(name="lab_bands")
    xs = alt.Scale(domain=[1, int(loss_range[2])], nice=False) if loss_range else alt.Undefined
    ys = (alt.Scale(type="log", domain=[float(loss_range[0]) / 1.1, float(loss_range[1]) * 1.1], nice=False)
          if loss_range
          else alt.Scale(type="log"))
    x = alt.X("epoch:Q", scale=xs, axis=alt.Axis(**axis("epoch")))
    y = alt.Y("median:Q", scale=ys, axis=alt.Axis(**axis("training loss (cross-entropy, nats)")))
    dash = alt.StrokeDash("outcome:N", scale=alt.Scale(domain=list(outcomes),
                                                       range=[unit_dash(j) for j in range(len(outcomes))]),
                          legend=alt.Legend(title="outcome (line: median)", orient="bottom",
                                            symbolType="stroke", symbolStrokeWidth=2, symbolOpacity=1))
    color = alt.Color("outcome:N", scale=alt.Scale(domain=list(outcomes), range=OKABE_ITO[:len(outcomes)]),
                      legend=alt.Legend(title="outcome (line: median)", orient="bottom",
                                        symbolType="stroke", symbolStrokeWidth=2, symbolOpacity=1))
    band = _leaf(bands, [], lambda c: c.mark_area(opacity=0.2).encode(
        x=x, y=alt.Y("q25:Q", scale=ys), y2=alt.Y2("q75"), color=color))
    med = _leaf(bands, [], lambda c: c.mark_line(strokeWidth=2).encode(
        x=x, y=y, color=color, strokeDash=dash,
        tooltip=[alt.Tooltip("outcome:N"), alt.Tooltip("epoch:Q"), alt.Tooltip("median:Q", format=".3f"), alt.Tooltip("n:Q", title="seeds")]))
    one = _leaf(alt.Data(name="lab_loss"), _filter("datum.seed == seed"), lambda c: c.mark_line(
        color="#000000", strokeWidth=1.5).encode(x=alt.X("epoch:Q"), y=alt.Y("loss:Q"),
                                                 tooltip=[alt.Tooltip("seed:Q"), alt.Tooltip("epoch:Q"), alt.Tooltip("loss:Q", format=".4f")]))
    rule = _leaf(alt.Data(values=[{}]), _calc(e="epoch"), lambda c: c.mark_rule(
        color="#555555", strokeDash=[2, 2]).encode(x=alt.X("e:Q")))
    layers = [band, med] + ([one] if with_seed else []) + [rule]
    return _finish(_layer(*layers, params=_params(seed, epoch), width=560, height=260))


def fig_exclusion(rows: list[dict]) -> dict:
    """Niche exclusion: share of restarts whose fresh unit took the partner's split, with 95% intervals.

    ``rows``: one per condition, ``{"condition", "share", "lo", "hi", "k", "n"}`` (shares in %).
    """
    data = alt.Data(values=rows)
    x = alt.X("condition:N", sort=None, axis=alt.Axis(**axis("condition of the partner unit L1:0", labelAngle=0)))
    y = alt.Y("share:Q", scale=alt.Scale(domain=[0, 100]),
              axis=alt.Axis(**axis("restarts ending on the partner's split (%)")))
    color = alt.Color("condition:N", sort=None, scale=alt.Scale(range=[OKABE_ITO[4], OKABE_ITO[1]]),
                      legend=alt.Legend(title="condition", orient="bottom"))
    bars = _leaf(data, [], lambda c: c.mark_bar().encode(
        x=x, y=y, color=color, tooltip=[alt.Tooltip("condition:N"), alt.Tooltip("share:Q", format=".1f", title="%"),
                                        alt.Tooltip("k:Q", title="restarts on the split"),
                                        alt.Tooltip("n:Q", title="restarts")]))
    err = _leaf(data, [], lambda c: c.mark_rule(color="black", strokeWidth=2).encode(
        x=x, y=alt.Y("lo:Q"), y2=alt.Y2("hi:Q")))
    text = _leaf(data, _calc(label="datum.k + ' of ' + datum.n"),
                 lambda c: c.mark_text(dy=-8, fontSize=12).encode(x=x, y=alt.Y("hi:Q"), text=alt.Text("label:N")))
    return _finish(_layer(bars, err, text, width=360, height=220))


def fig_pull(rows: list[dict], units: int) -> dict:
    """Who pulls each unit: per-class gradient norm on each unit's incoming weights against the epoch.

    ``rows``: ``{"unit", "epoch", "cls", "pull"}``; one panel per unit (``units`` panels).
    """
    data = alt.Data(values=rows)
    base = _leaf(data, [], lambda c: c.mark_line(point=False, strokeWidth=2).encode(
        x=alt.X("epoch:Q", axis=alt.Axis(**axis("epoch (0 = random start)"))),
        y=alt.Y("pull:Q", scale=alt.Scale(type="symlog", constant=1e-3),
                axis=alt.Axis(**axis("pull of the class (gradient norm, a.u.)"))),
        color=alt.Color("cls:N", scale=alt.Scale(**CLASS_SCALE), legend=alt.Legend(title="class", orient="bottom")),
        strokeDash=alt.StrokeDash("cls:N", legend=None),
        tooltip=[alt.Tooltip("unit:N"), alt.Tooltip("epoch:Q"), alt.Tooltip("cls:N", title="class"),
                 alt.Tooltip("pull:Q", format=".3g")]))
    cols = min(max(units, 1), 4)
    spec = {"data": base.pop("data"), "facet": {"field": "unit", "type": "nominal", "title": None}, "columns": cols,
            "spec": {k: v for k, v in base.items() if k != "$schema"}}
    spec["spec"].update(width=min(300, 640 // cols), height=170)
    return _finish(spec)
