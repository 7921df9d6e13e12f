"""The sweep report: outcome shares and accuracy over the grid, findings, the cells and failures.

``page(spec, rows, findings) -> Report`` draws numbers the sweep's index holds (``cells.csv``
rows: counts, shares and their 95% intervals, mean accuracy and its interval) as Vega-Lite charts
drawn in the browser; the findings in words come computed (:mod:`nichelab.runs.sweep_report`).
Nothing here measures. Page parameter: ``series`` (a line's label, ``""`` for all lines): the
chosen line is drawn strong and the others faint.
"""
from __future__ import annotations

import json
import math

from ...studies import text
from ..model import Chart, Control, Report, Section, Table

__all__ = ["page", "x_field", "outcomes_of", "datasets", "fig_outcome_lines", "fig_accuracy_lines"]


def outcomes_of(rows: list[dict]) -> list[str]:
    """The outcomes counted in the rows (columns ``n_<outcome>``): the lab's in its order, then others."""
    from ...studies.lab.config import OUTCOMES
    names = {k[2:] for r in rows for k in r if k.startswith("n_") and k != "n_seeds"}
    return [o for o in OUTCOMES if o in names] + sorted(names - set(OUTCOMES))


def x_field(grid: dict) -> str | None:
    """The grid field drawn on the x axis: the one with most values, numbers preferred."""
    def numeric(vals):
        try:
            [float(v) for v in vals]
            return True
        except ValueError:
            return False
    fields = [f for f, v in grid.items() if len(v) > 1] or list(grid)
    return max(fields, key=lambda f: (len(grid[f]), numeric(grid[f]), -list(grid).index(f)), default=None)


def _series(grid: dict, rows: list[dict], xf: str):
    """Line label -> rows in x order, one line per combination of the other fields."""
    others = [f for f in grid if f != xf and len(grid[f]) > 1]
    lines: dict = {}
    for r in rows:
        label = ", ".join(f"{f}={r[f]}" for f in others) or "all cells"
        lines.setdefault(label, []).append(r)
    order = {str(v): i for i, v in enumerate(grid[xf])}
    return {k: sorted(v, key=lambda r: order.get(str(r[xf]), 0)) for k, v in lines.items()}


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def _pct(v) -> float:
    return round(100.0 * float(v), 3)


def datasets(grid: dict, rows: list[dict], outcomes: list[str]) -> dict:
    """The named datasets of the sweep charts, from the index rows (finished cells with finite numbers).

    Returns
    -------
    dict of str -> list of dict
        ``sweep_shares``: ``outcome, series, x, xi, share, lo, hi, k, n, cell`` (percent);
        ``sweep_acc``: ``series, x, xi, acc, lo, hi, n, cell`` (percent).
    """
    xf = x_field(grid)
    xs = [str(v) for v in grid[xf]]
    shares, acc = [], []
    for label, rs in _series(grid, rows, xf).items():
        for r in rs:
            if r.get("status") != "done":
                continue
            base = {"series": label, "x": str(r[xf]), "xi": xs.index(str(r[xf])), "cell": r["cell"]}
            for o in outcomes:
                keys = (f"share_{o}", f"share_{o}_lo", f"share_{o}_hi")
                if all(_finite(r.get(k)) for k in keys):
                    shares.append({"outcome": o, **base, "share": _pct(r[keys[0]]), "lo": _pct(r[keys[1]]),
                                   "hi": _pct(r[keys[2]]), "k": int(r[f"n_{o}"]), "n": int(r["n_seeds"])})
            if all(_finite(r.get(k)) for k in ("accuracy_mean", "accuracy_lo", "accuracy_hi")):
                acc.append({**base, "acc": _pct(r["accuracy_mean"]), "lo": _pct(r["accuracy_lo"]),
                            "hi": _pct(r["accuracy_hi"]), "n": int(r["n_seeds"])})
    return {"sweep_shares": shares, "sweep_acc": acc}


def _lines(data: str, xs: list[str], xf: str, series: list[str], y: str, y_title: str, tips: list,
           transforms: list = (), domain=None, width: int = 300, height: int = 200, title: str | None = None) -> dict:
    """One panel: a line per series over the x field, its 95% interval as a band and a bar at each point."""
    import altair as alt
    from ..charts import OKABE_ITO, axis
    colours = [c for c in OKABE_ITO if c != "#F0E442"]
    x = alt.X("x:O", sort=xs, scale=alt.Scale(domain=xs), axis=alt.Axis(**axis(xf, labelAngle=0)))
    ys = alt.Scale(domain=domain, nice=False) if domain else alt.Scale(zero=False)
    colour = alt.Color("series:N", sort=series, scale=alt.Scale(domain=series, range=(colours * 4)[:len(series)]),
                       legend=alt.Legend(title="line", orient="bottom", direction="vertical", labelLimit=400,
                                         symbolType="stroke", symbolStrokeWidth=2.5, symbolOpacity=1, symbolSize=400))
    dash = alt.StrokeDash("series:N", sort=series, scale=alt.Scale(domain=series, range=[[1, 0], [6, 3], [2, 2], [6, 2, 1, 2]] * 8),
                          legend=alt.Legend(title="line", orient="bottom", direction="vertical", labelLimit=400,
                                            symbolType="stroke", symbolStrokeWidth=2.5, symbolSize=400))
    fade = alt.condition("series == '' || datum.series == series", alt.value(1.0), alt.value(0.12))
    faint = alt.condition("series == '' || datum.series == series", alt.value(0.16), alt.value(0.03))

    def leaf(fn):
        d = fn(alt.Chart(alt.Data(name=data), transform=list(transforms) or alt.Undefined)).to_dict(validate=False)
        d.pop("$schema", None)
        d.pop("config", None)
        return d
    band = leaf(lambda c: c.mark_area().encode(x=x, y=alt.Y("lo:Q", scale=ys), y2=alt.Y2("hi:Q"), color=colour,
                                               opacity=faint, detail=alt.Detail("series:N")))
    bars = leaf(lambda c: c.mark_rule(strokeWidth=1.5).encode(x=x, y=alt.Y("lo:Q", scale=ys), y2=alt.Y2("hi:Q"),
                                                              color=colour, opacity=fade))
    line = leaf(lambda c: c.mark_line(strokeWidth=2, point=alt.OverlayMarkDef(size=50, filled=True)).encode(
        x=x, y=alt.Y(f"{y}:Q", scale=ys, axis=alt.Axis(**axis(y_title))), color=colour, strokeDash=dash, opacity=fade,
        tooltip=tips))
    spec = {"layer": [band, bars, line], "width": width, "height": height}
    if title:
        spec["title"] = {"text": title, "fontSize": 12, "fontWeight": "normal"}
    return spec


def fig_outcome_lines(grid: dict, outcomes: list[str], series: list[str]) -> dict:
    """One panel per outcome: its share of seeds (%) over the x field, a line per other setting, 95% bands."""
    import altair as alt
    xf = x_field(grid)
    xs = [str(v) for v in grid[xf]]
    tips = [alt.Tooltip("cell:N"), alt.Tooltip("series:N", title="line"), alt.Tooltip("x:N", title=xf),
            alt.Tooltip("share:Q", format=".1f", title="share of seeds (%)"), alt.Tooltip("k:Q", title="seeds"),
            alt.Tooltip("n:Q", title="of"), alt.Tooltip("lo:Q", format=".1f", title="95% interval from (%)"),
            alt.Tooltip("hi:Q", format=".1f", title="to (%)")]
    panels = [_lines("sweep_shares", xs, xf, series, "share", f"seeds ending {o} (%)", tips,
                     [{"filter": f"datum.outcome == {json.dumps(o)}"}], [0, 100], 300, 190, title=o) for o in outcomes]
    rows = [{"hconcat": panels[i:i + 2]} for i in range(0, len(panels), 2)]
    return {"vconcat": rows, "params": [{"name": "series", "value": ""}]}


def fig_accuracy_lines(grid: dict, series: list[str]) -> dict:
    """Mean accuracy (%) of each cell over the x field, a line per other setting, 95% bands."""
    import altair as alt
    xf = x_field(grid)
    xs = [str(v) for v in grid[xf]]
    tips = [alt.Tooltip("cell:N"), alt.Tooltip("series:N", title="line"), alt.Tooltip("x:N", title=xf),
            alt.Tooltip("acc:Q", format=".1f", title="mean accuracy (%)"), alt.Tooltip("n:Q", title="seeds"),
            alt.Tooltip("lo:Q", format=".1f", title="95% interval from (%)"), alt.Tooltip("hi:Q", format=".1f", title="to (%)")]
    spec = _lines("sweep_acc", xs, xf, series, "acc", "mean accuracy over seeds (%)", tips, width=600, height=260)
    spec["params"] = [{"name": "series", "value": ""}]
    return spec


def _cell_table(rows: list[dict], outcomes: list[str]) -> Table:
    cols = ["cell", "status"] + outcomes + (["mean accuracy"] if any("accuracy_mean" in r for r in rows) else []) + ["folder"]
    body = []
    for r in rows:
        line = [r["cell"], r.get("status", "")]
        for o in outcomes:
            line.append(text.share(int(r[f"n_{o}"]), int(r["n_seeds"])) if _finite(r.get(f"n_{o}")) else "")
        if "mean accuracy" in cols:
            line.append(f"{text.pct(r['accuracy_mean'], 1)} ({text.pct(r['accuracy_lo'], 1)}–"
                        f"{text.pct(r['accuracy_hi'], 1)})" if _finite(r.get("accuracy_mean")) else "")
        line.append(r["folder"])
        body.append(line)
    return Table(cols, body, caption="Every cell: the share of its seeds ending in each outcome (count of seeds, "
                                     "95% Wilson interval) and the mean accuracy (95% interval); each folder is a "
                                     "complete run, open its report.html for the details.")


def page(spec: dict, rows: list[dict], findings: dict) -> Report:
    """The sweep report.

    Parameters
    ----------
    spec : dict
        ``study``, ``grid`` (field -> list of values as typed), ``seeds``, ``first_seed``.
    rows : list of dict
        One per cell, as in ``cells.csv``: ``cell``, ``folder``, ``status``, ``error``, the grid
        fields, and the headline numbers (``n_seeds``, ``n_<outcome>``, ``share_<outcome>`` with
        ``_lo``/``_hi``, ``accuracy_mean``/``_lo``/``_hi``).
    findings : dict of str -> list of str
        From :func:`nichelab.runs.sweep_report.sweep_findings`.

    Returns
    -------
    Report
    """
    grid = {k: [str(v) for v in vals] for k, vals in spec["grid"].items()}
    done = [r for r in rows if r.get("status") == "done"]
    outcomes = outcomes_of(done)
    xf = x_field(grid)
    setup = {"study": spec["study"], "grid": " × ".join(f"{k} ({', '.join(v)})" for k, v in grid.items()),
             "cells": f"{len(rows)} ({len(done)} finished)",
             "seeds per cell": f"{spec['seeds']} (seeds {spec['first_seed']}–{spec['first_seed'] + spec['seeds'] - 1}, "
                               "the same in every cell)"}
    summary = findings.get("terms", []) + findings.get("grid", [])[:2] + findings.get("failed", [])
    data = datasets(grid, rows, outcomes)
    series = list(_series(grid, done, xf)) if xf else []
    controls = ([Control("series", "Line", "select", "", [("", f"all {len(series)} lines", "")]
                         + [(k, k, "") for k in series],
                         help="Draw one line strong and the others faint (hover a point for its cell's numbers).")]
                if len(series) > 1 else [])
    sections = []
    if outcomes and data["sweep_shares"]:
        sections.append(Section(
            "Outcomes over the grid",
            question=f"How does the share of each outcome move with {', '.join(grid)}?",
            findings=findings.get("grid", []) + findings.get("cells", []), controls=controls,
            figures=[Chart("outcome_lines", fig_outcome_lines(grid, outcomes, series),
                           f"Look at how far each line climbs or falls along {xf}: each point is one cell's share "
                           "of seeds, the band and bar its 95% interval.",
                           alt=f"Share of seeds per outcome against {xf}, one line per combination of the "
                               "other settings", datasets={"sweep_shares": data["sweep_shares"]})]))
    if data["sweep_acc"]:
        sections.append(Section(
            "Accuracy by cell", question="How well do the trained networks classify, cell by cell?",
            findings=findings.get("accuracy", []), controls=[] if sections else controls,
            figures=[Chart("accuracy_lines", fig_accuracy_lines(grid, series),
                           f"Look for cells whose bands do not overlap: mean accuracy against {xf}, 95% intervals.",
                           alt=f"Mean accuracy against {xf}, one line per combination of the other settings",
                           datasets={"sweep_acc": data["sweep_acc"]})]))
    sections.append(Section("Cells", question="What did each cell measure, and where is its run?",
                            tables=[_cell_table(rows, outcomes)]))
    bad = [r for r in rows if r.get("status") != "done"]
    if bad:
        sections.append(Section(
            "Cells that did not finish", findings=findings.get("failed", []),
            tables=[Table(["cell", "status", "error"], [[r["cell"], r.get("status", ""), r.get("error", "")] for r in bad],
                          caption="No folder is written for these cells; re-running the same command retries them.")]))
    return Report(title=f"Sweep: {spec['study']} over {' × '.join(grid)}", summary=summary, setup=setup,
                  sections=sections)
