"""The convergence study: do networks trained from different seeds learn the same units (one-to-one
matches, Li et al. 2015) or only the same subspaces (CKA, SVCCA; Kornblith et al. 2019)?

``STUDIES["convergence"].run(ConvergenceConfig()) -> ConvergenceResult``. See REFERENCES.md,
"Across networks and layers".
"""
from .config import STUDY, ConvergenceConfig
from .measures import DEFAULT_MEASURES, MEASURES

__all__ = ["ConvergenceConfig", "MEASURES", "DEFAULT_MEASURES", "STUDY", "run"]


def run(config: ConvergenceConfig | None = None, *, progress=None):
    """Run the convergence study (see :func:`nichelab.studies.convergence.pipeline.run`)."""
    return STUDY.run(config, progress=progress)
