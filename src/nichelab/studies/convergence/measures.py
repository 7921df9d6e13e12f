"""The layer-similarity measures of the convergence and compare studies, listed once.

Names are those of :func:`nichelab.metrics.cka_matrix`. Both studies' configs take their
``Literal`` choices from :data:`MEASURE_CHOICES` and their help from :func:`measures_help`;
reports take labels from :data:`MEASURE_LABELS`. Stdlib only (imported by the configs).
"""
from __future__ import annotations

__all__ = ["MEASURES", "DEFAULT_MEASURES", "DISTANCES", "MEASURE_LABELS", "ALIASES", "MEASURE_CHOICES",
           "CKA_MEASURES", "canonical", "measures_help"]

#: Layer-similarity measures the studies can use.
MEASURES = ("linear_cka", "rbf_cka", "cca", "svcca", "pwcca", "procrustes_distance", "rsa")
#: Other names accepted for a measure.
ALIASES = {"cka": "linear_cka", "procrustes": "procrustes_distance"}
#: Every accepted name (measures, then aliases): the ``Literal`` choices of the config fields.
MEASURE_CHOICES = MEASURES + tuple(ALIASES)
#: Measures where a smaller value means more similar.
DISTANCES = frozenset({"procrustes_distance"})
#: Measures that take ``debiased`` (HSIC-based).
CKA_MEASURES = ("linear_cka", "rbf_cka")
#: Computed by default by the convergence study (RSA is left out: it ranks every pair of samples
#: anew for every pair of layers, about 100 ms per pair at n = 540, i.e. a minute for the default run).
DEFAULT_MEASURES = ("linear_cka", "rbf_cka", "cca", "svcca", "pwcca", "procrustes_distance")
#: How reports name each measure.
MEASURE_LABELS = {
    "linear_cka": "linear CKA", "rbf_cka": "RBF CKA", "cca": "CCA (mean ρ)", "svcca": "SVCCA",
    "pwcca": "PWCCA", "procrustes_distance": "Procrustes distance", "rsa": "RSA",
}


def canonical(names) -> tuple[str, ...]:
    """Measure names with aliases resolved and repeats dropped, in order: ``("cka", "svcca", "cka")``
    -> ``("linear_cka", "svcca")``."""
    out: list[str] = []
    for name in names:
        name = ALIASES.get(name, name)
        if name not in out:
            out.append(name)
    return tuple(out)


def measures_help(rsa_note: bool = True) -> str:
    """The list of measure names for a help text."""
    names = [m + (" (slow)" if m == "rsa" and rsa_note else "") for m in MEASURES]
    return ", ".join(names) + "; " + " and ".join(f"{a} = {m}" for a, m in ALIASES.items())
