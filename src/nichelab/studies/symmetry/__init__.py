"""The symmetry study: why do hidden units differ at all?

Start every hidden unit as an exact copy of one unit and train: in exact arithmetic identical units
receive identical gradients and stay identical, so the network is a one-unit network. In floating
point, rounding can split separate copies (the study measures, per condition, whether the copies
stayed bit-identical or when rounding split them and how fast the gap grew); a tied network, whose
units share one parameter vector, is identical by construction on any hardware. Random
initialisation, dropout and a perturbation of size eps break the tie; the study measures how fast
(time to split against log(1/eps), the growth rate of the gap) and what an all-zero start does.
``STUDIES["symmetry"].run(SymmetryConfig()) -> SymmetryResult``. See REFERENCES.md, "Symmetry".
"""
from .config import DATASETS, DEFAULT_EPOCHS, STUDY, Condition, SymmetryConfig

__all__ = ["SymmetryConfig", "Condition", "DATASETS", "DEFAULT_EPOCHS", "STUDY", "run"]


def run(config: SymmetryConfig | None = None, *, progress=None):
    """Run the symmetry study (see :func:`nichelab.studies.symmetry.pipeline.run`)."""
    return STUDY.run(config, progress=progress)
