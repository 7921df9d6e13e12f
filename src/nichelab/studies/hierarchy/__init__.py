"""The hierarchy study: is there an "edges -> parts -> objects" hierarchy in a small CNN?

``STUDIES["hierarchy"].run(HierarchyConfig()) -> HierarchyResult``. Trains the CNN on the parts
images (or LFW faces, or digits), then measures every hidden layer of the trained network and of
its own random initialisation. See REFERENCES.md, "Hierarchy" and "Per-unit measures".
"""
from .config import DATASETS, STUDY, HierarchyConfig, parse_units

__all__ = ["HierarchyConfig", "DATASETS", "STUDY", "parse_units", "run"]


def run(config: HierarchyConfig | None = None, *, progress=None):
    """Run the hierarchy study (see :func:`nichelab.studies.hierarchy.pipeline.run`)."""
    return STUDY.run(config, progress=progress)
