"""Render a :class:`~nichelab.reporting.model.Report` to one self-contained HTML page.

PNG figures are embedded as base64; interactive charts as Vega-Lite specs plus the data they
read (each named dataset once per page), drawn by the Vega JavaScript inlined once
(:func:`nichelab.reporting.charts.vega_bundle`). A small script (``templates/page.js``) wires
controls, readouts, table sorting/filtering and chart clicks to page parameters; it draws nothing.
The page makes no network request.
"""
from __future__ import annotations

import base64
from importlib import resources

import jinja2

from .charts import script_json, vega_bundle
from .model import Chart, Report

__all__ = ["render_html", "page_data"]


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("nichelab.reporting", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["b64"] = lambda data: base64.b64encode(data).decode("ascii")
    env.tests["chart"] = lambda f: isinstance(f, Chart)
    return env


def page_data(report: Report) -> dict:
    """What the page script reads: chart specs (by name), named datasets (once each), parameters.

    Returns
    -------
    dict
        ``{"charts": {name: {"spec", "uses", "click"}}, "datasets": {name: rows},
        "params": {name: initial value}, "readouts": [{"param", "title", "records"}]}``.
    """
    charts, datasets = {}, {}
    for c in report.charts():
        for k, rows in c.datasets.items():
            datasets.setdefault(k, rows)
        charts[c.name] = {"spec": c.spec, "uses": sorted(c.datasets), "click": list(c.click) if c.click else None}
    params = {c.name: c.value for c in report.controls()}
    readouts = [{"param": r.param, "title": r.title, "records": r.records}
                for s in report.sections for r in s.readouts]
    return {"charts": charts, "datasets": datasets, "params": params, "readouts": readouts}


def render_html(report: Report) -> str:
    """Return the report as an HTML string: everything inlined, no network request.

    Raises
    ------
    ValueError
        Two charts with the same name.
    """
    names = [c.name for c in report.charts()]
    if len(set(names)) != len(names):
        raise ValueError(f"chart names must be unique in a report; got {names}")
    files = resources.files("nichelab.reporting").joinpath("templates")
    css = files.joinpath("report.css").read_text()
    interactive = bool(names) or bool(report.controls())
    return _env().get_template("report.html").render(
        report=report, css=css, script=files.joinpath("page.js").read_text(),
        bundle=vega_bundle() if names else "", data=script_json(page_data(report)), interactive=interactive)
