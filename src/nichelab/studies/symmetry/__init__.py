"""The symmetry study: why do hidden units differ at all?

Start every hidden unit as an exact copy of one unit and train: identical units receive identical
gradients and stay identical, so the network is a one-unit network. Random initialisation,
dropout and a perturbation of size eps break the tie; the study measures how fast (time to split
against log(1/eps), the growth rate of the gap) and what an all-zero start does.
``STUDIES["symmetry"].run(SymmetryConfig()) -> SymmetryResult``. See REFERENCES.md, "Symmetry".
"""
from .config import DATASETS, DEFAULT_EPOCHS, STUDY, Condition, SymmetryConfig

__all__ = ["SymmetryConfig", "Condition", "DATASETS", "DEFAULT_EPOCHS", "STUDY", "run"]


def run(config: SymmetryConfig | None = None, *, progress=None):
    """Run the symmetry study (see :func:`nichelab.studies.symmetry.pipeline.run`)."""
    return STUDY.run(config, progress=progress)
