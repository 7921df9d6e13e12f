"""The multiclass-lab study: what each ReLU hidden unit learns, and how often, over many seeds.

``STUDIES["lab"].run(LabConfig()) -> LabResult``. See REFERENCES.md, "The multiclass lab".
"""
from .config import OUTCOMES, STUDY, LabConfig

__all__ = ["LabConfig", "OUTCOMES", "STUDY", "run"]


def run(config: LabConfig | None = None, *, progress=None):
    """Run the lab study (see :func:`nichelab.studies.lab.pipeline.run`)."""
    return STUDY.run(config, progress=progress)
