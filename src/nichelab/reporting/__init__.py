"""Presentation: pages, figures, HTML and the terminal summary, from results (never the reverse).

Each study has a page module ``nichelab.reporting.pages.<study>`` with
``page(result) -> Report`` (question, measured answer, figures, tables) and
``summary_table(result) -> Table`` (the terminal summary). Figure code lives in
``reporting/figures/``; it draws numbers the result holds and computes no metrics: interactive
Vega-Lite charts (:class:`Chart`, built with Altair) or static PNGs (:class:`Figure`).
"""
from __future__ import annotations

import importlib

from .model import Chart, Control, Figure, Readout, Report, Section, Table

__all__ = ["page_module", "build_report", "summary_table", "render_page", "notebook_html",
           "Chart", "Control", "Figure", "Readout", "Report", "Section", "Table"]


def page_module(study: str):
    """The page module of ``study`` (``nichelab.reporting.pages.<study>``)."""
    return importlib.import_module(f"{__name__}.pages.{study}")


def build_report(result) -> Report:
    """The report of ``result``: its page's sections, figures and tables."""
    return page_module(result.study).page(result)


def summary_table(result) -> Table:
    """The terminal summary table of ``result``."""
    return page_module(result.study).summary_table(result)


def render_page(result, footer: str = "") -> str:
    """The self-contained HTML page of ``result``."""
    from .html import render_html
    report = build_report(result)
    report.footer = footer
    return render_html(report)


def notebook_html(result) -> str:
    """HTML shown for a result in a notebook cell: the interactive page in an iframe (``srcdoc``).

    The page is self-contained (Vega JavaScript, data and wiring inlined), so its charts draw
    inside the iframe with no network request; the iframe keeps its scripts apart from the notebook's.
    """
    import html as _html
    page = render_page(result)
    return (f'<iframe srcdoc="{_html.escape(page, quote=True)}" style="width:100%;height:720px;border:0" '
            f'title="nichelab {result.study} report"></iframe>')
