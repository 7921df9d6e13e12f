"""Render a :class:`~nichelab.reporting.model.Report` to one self-contained HTML page."""
from __future__ import annotations

import base64
from importlib import resources

import jinja2

from .model import Report

__all__ = ["render_html"]


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("nichelab.reporting", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["b64"] = lambda data: base64.b64encode(data).decode("ascii")
    return env


def render_html(report: Report) -> str:
    """Return the report as an HTML string: figures embedded as base64 PNG, CSS inlined, no network."""
    css = resources.files("nichelab.reporting").joinpath("templates/report.css").read_text()
    return _env().get_template("report.html").render(report=report, css=css)
