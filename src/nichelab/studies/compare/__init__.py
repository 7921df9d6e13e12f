"""``nichelab compare A B``: two networks on the same inputs -- a layers-by-layers similarity heatmap
and unit matching (Li et al. 2015) for chosen layers, with a verdict in words: same units, or only
the same subspace?

``STUDIES["compare"].run(CompareConfig(a=..., b=...)) -> CompareResult``. A and B are run folders
(``FOLDER#SEED``), model files, or ``torch.nn.Module`` objects; see
:mod:`nichelab.studies.compare.sources`.
"""
from .config import CONV_REDUCE, STUDY, CompareConfig, parse_layer_pairs

__all__ = ["CompareConfig", "CONV_REDUCE", "STUDY", "parse_layer_pairs", "run"]


def run(config: CompareConfig, *, progress=None):
    """Run the comparison (see :func:`nichelab.studies.compare.pipeline.run`)."""
    return STUDY.run(config, progress=progress)
