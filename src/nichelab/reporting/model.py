"""What a report is made of: sections of question, measured answer, figures and tables.

Studies build a :class:`Report`; :mod:`nichelab.reporting.html` renders it. Nothing here computes.

A section's ``figures`` may hold two kinds of figure:

- :class:`Figure` -- a static PNG (matplotlib), embedded as base64;
- :class:`Chart` -- an interactive Vega-Lite chart (built with Altair), drawn in the browser from
  data embedded in the page. Charts may read page-wide parameters (``seed``, ``epoch`` ...) set
  by the report's :class:`Control` widgets, by clicking a table row, or by clicking a mark.
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Figure", "Chart", "Control", "Readout", "Table", "Section", "Report"]


@dataclass
class Figure:
    """A rendered figure: PNG bytes, a one-line caption saying what to look at, and alt text."""

    png: bytes
    caption: str
    alt: str = ""


@dataclass
class Chart:
    """An interactive chart: a Vega-Lite specification drawn in the browser.

    Attributes
    ----------
    name : str
        Identifier, unique in the report: the HTML id (``chart-<name>``) and the file name of the
        static export (``figures/<name>.png``).
    spec : dict
        A Vega-Lite specification (``altair_chart.to_dict(validate=False)``). Data may be inline or
        refer to a named dataset (``{"data": {"name": "lab_seeds"}}``) given in ``datasets``.
        A top-level variable parameter whose name is a page parameter (a :class:`Control` name)
        follows that control.
    caption : str
        One line saying what to look at.
    alt : str
        Text alternative for screen readers (default: the caption).
    datasets : dict of str -> list of dict
        Named datasets the spec refers to. The page embeds each name once, however many charts
        use it; the static export puts them back into the spec.
    click : tuple of (str, str), optional
        ``(param, field)``: clicking a mark sets page parameter ``param`` to the mark's
        ``field`` value (e.g. ``("seed", "seed")``).
    """

    name: str
    spec: dict
    caption: str
    alt: str = ""
    datasets: dict = field(default_factory=dict)
    click: tuple | None = None


@dataclass
class Control:
    """A page-wide input that sets a parameter every chart of the page may read.

    Attributes
    ----------
    name : str
        The parameter name (the Vega-Lite parameter of the charts that follow it).
    label : str
        Visible label.
    kind : {"select", "range"}
    value : int, float or str
        Initial value.
    options : list of (value, label, group)
        For ``select``: the choices; ``group`` lets a filter control hide options (may be "").
    min, max, step : float
        For ``range``.
    play : bool
        For ``range``: add a play/pause button that steps through the values.
    filters : str, optional
        For a ``select`` whose values are groups: the control it filters (its options and the
        rows of tables that set that parameter are hidden unless their group matches; ``""``
        shows all).
    help : str
        One line under the control.
    active_when : tuple (param, values, note), optional
        The control works only while page parameter ``param`` is one of ``values``; otherwise it
        is disabled and ``note`` is shown under it (e.g. the epoch slider for seeds with a film).
    """

    name: str
    label: str
    kind: str = "select"
    value: object = None
    options: list = field(default_factory=list)
    min: float = 0
    max: float = 1
    step: float = 1
    play: bool = False
    filters: str | None = None
    help: str = ""
    active_when: tuple | None = None


@dataclass
class Readout:
    """Numbers that follow a page parameter: for each of its values, (label, text) lines.

    Attributes
    ----------
    param : str
        The page parameter (e.g. ``"seed"``).
    records : dict of str -> list of (str, str)
        Keyed by ``str(value)``.
    title : str
        Heading; ``{value}`` is replaced by the current value.
    """

    param: str
    records: dict
    title: str = ""


@dataclass
class Table:
    """A table: column names and rows of already-formatted cells.

    Interactive pages let the reader sort (click a column header) and filter (type in the box)
    every table; ``select=(param, column)`` makes a click (or Enter) on a row set page parameter
    ``param`` to that row's cell in ``column``; ``group`` (a column index) names the group a
    filter control (:attr:`Control.filters`) matches.
    """

    columns: list[str]
    rows: list[list]
    caption: str = ""
    select: tuple | None = None
    group: int | None = None


@dataclass
class Section:
    """One idea: the question, the measured answer in words, then controls, figures and tables."""

    title: str
    question: str = ""
    findings: list[str] = field(default_factory=list)
    figures: list = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    controls: list[Control] = field(default_factory=list)
    readouts: list[Readout] = field(default_factory=list)


@dataclass
class Report:
    """A whole study report.

    Attributes
    ----------
    title : str
    summary : list of str
        The short answer, shown first.
    setup : dict of str -> str
        Settings shown in the set-up table (data, model, seeds, epochs ...).
    sections : list of Section
    footer : str
        Versions, timings, the command line.
    """

    title: str
    summary: list[str] = field(default_factory=list)
    setup: dict = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)
    footer: str = ""

    def charts(self) -> list[Chart]:
        """Every interactive chart of the report, in page order."""
        return [f for s in self.sections for f in s.figures if isinstance(f, Chart)]

    def controls(self) -> list[Control]:
        """Every control of the report, in page order."""
        return [c for s in self.sections for c in s.controls]
