"""Reports: the section model, HTML rendering, JSON encoding and the terminal summary."""
from .html import render_html
from .jsonio import dumps, to_jsonable
from .model import Figure, Report, Section, Table

__all__ = ["render_html", "dumps", "to_jsonable", "Figure", "Report", "Section", "Table"]
