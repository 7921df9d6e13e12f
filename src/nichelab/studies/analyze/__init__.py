"""``nichelab analyze``: the unit census of a built-in or the user's own model on real data.

``STUDIES["analyze"].run(AnalyzeConfig(...)) -> AnalyzeResult``. See REFERENCES.md, "Per-unit measures".
"""
from .config import STUDY, AnalyzeConfig

__all__ = ["AnalyzeConfig", "STUDY", "run"]


def run(config: AnalyzeConfig | None = None, *, progress=None):
    """Run the analyze study (see :func:`nichelab.studies.analyze.pipeline.run`)."""
    return STUDY.run(config, progress=progress)
