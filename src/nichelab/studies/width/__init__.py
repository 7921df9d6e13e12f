"""The width study: with more hidden units than the task needs, do units keep distinct niches?

Networks with 1 to 128 hidden ReLU units, several seeds each, on the lab's blobs and on digits.
Per width: accuracy, dead units, near-duplicate pairs, the distinct class splits the units
implement (blobs), the participation ratio, and the share of units whose single ablation costs
less than 0.5% accuracy. ``STUDIES["width"].run(WidthConfig()) -> WidthResult``.
"""
from .config import DATASETS, STUDY, WidthConfig

__all__ = ["WidthConfig", "DATASETS", "STUDY", "run"]


def run(config: WidthConfig | None = None, *, progress=None):
    """Run the width study (see :func:`nichelab.studies.width.pipeline.run`)."""
    return STUDY.run(config, progress=progress)
