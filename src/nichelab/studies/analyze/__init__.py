"""``nichelab analyze``: the unit census of a built-in or the user's own model on real data.

``run(AnalyzeConfig(...)) -> AnalyzeResult``. See REFERENCES.md, "Per-unit measures".
"""
from .census import LayerCensus
from .config import AnalyzeConfig
from .result import AnalyzeResult
from .study import run

__all__ = ["AnalyzeConfig", "AnalyzeResult", "LayerCensus", "run"]
