"""What a report is made of: sections of question, measured answer, figures and tables.

Studies build a :class:`Report`; :mod:`nichelab.reporting.html` renders it. Nothing here computes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Figure", "Table", "Section", "Report"]


@dataclass
class Figure:
    """A rendered figure: PNG bytes, a one-line caption saying what to look at, and alt text."""

    png: bytes
    caption: str
    alt: str = ""


@dataclass
class Table:
    """A table: column names and rows of already-formatted cells."""

    columns: list[str]
    rows: list[list]
    caption: str = ""


@dataclass
class Section:
    """One idea: the question, the measured answer in words, then figures and tables."""

    title: str
    question: str = ""
    findings: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


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
