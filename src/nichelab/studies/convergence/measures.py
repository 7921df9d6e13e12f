"""The layer-similarity measures of the convergence and compare studies: read from the one registry.

Names, labels, which measures are distances, which take ``debiased``, the accepted choices and the
help text all come from :data:`nichelab.metrics.registry.SIMILARITY_MEASURES`; this module only
adds the convergence study's default selection. Stdlib only (imported by the configs).
"""
from __future__ import annotations

from ...metrics.registry import (CKA_MEASURES, DISTANCES, MEASURE_ALIASES as ALIASES, MEASURE_CHOICES,
                                 MEASURE_LABELS, STUDY_MEASURES as MEASURES, canonical, measures_help)

__all__ = ["MEASURES", "DEFAULT_MEASURES", "DISTANCES", "MEASURE_LABELS", "ALIASES", "MEASURE_CHOICES",
           "CKA_MEASURES", "canonical", "measures_help"]

#: Computed by default by the convergence study (RSA is left out: it ranks every pair of samples
#: anew for every pair of layers, about 100 ms per pair at n = 540, i.e. a minute for the default run).
DEFAULT_MEASURES = tuple(m for m in MEASURES if m != "rsa")
