"""The layer-similarity measures by name: one registry for studies, the CLI and reports.

Every entry takes ``x`` (n_samples, d1) and ``y`` (n_samples, d2) and returns a float. Names
are those of :func:`nichelab.metrics.cka_matrix` (``linear_cka``, ``rbf_cka``, ``cca``,
``svcca``, ``pwcca``, ``procrustes_distance``, ``rsa``) plus the debiased CKA variants.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..errors import NichelabError, suggest
from .similarity import cca, linear_cka, procrustes_distance, pwcca, rbf_cka, rsa, svcca

__all__ = ["Measure", "SIMILARITY_MEASURES", "MEASURE_ALIASES", "get_measure"]


@dataclass(frozen=True)
class Measure:
    """A layer-similarity measure.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"linear_cka"``.
    label : str
        Short human label for tables and figures, e.g. ``"linear CKA"``.
    function : callable
        ``function(x, y) -> float`` with ``x`` (n_samples, d1), ``y`` (n_samples, d2).
    higher_is_better : bool
        True for similarities (1 = same), False for distances (0 = same).
    description : str
        One sentence: what it measures, its range, what it is invariant to.
    debiased : bool
        Uses the unbiased HSIC estimator (``cka_matrix(..., debiased=True)``).
    matrix_name : str
        The ``measure`` argument of :func:`nichelab.metrics.cka_matrix` computing it.
    """

    name: str
    label: str
    function: Callable[..., float]
    higher_is_better: bool
    description: str
    debiased: bool = False
    matrix_name: str = ""

    def __call__(self, x, y) -> float:
        return self.function(x, y)


def _cca_mean(x, y) -> float:
    """Mean canonical correlation (:func:`nichelab.metrics.cca`, ``mean_rho``)."""
    return cca(x, y).mean_rho


def _linear_cka_debiased(x, y) -> float:
    """:func:`nichelab.metrics.linear_cka` with ``debiased=True``."""
    return linear_cka(x, y, debiased=True)


def _rbf_cka_debiased(x, y) -> float:
    """:func:`nichelab.metrics.rbf_cka` with ``debiased=True``."""
    return rbf_cka(x, y, debiased=True)


def _m(name, label, function, higher, description, debiased=False, matrix_name=None) -> Measure:
    return Measure(name, label, function, higher, description, debiased, matrix_name or name)


#: name -> :class:`Measure`, in the order studies show them.
SIMILARITY_MEASURES: dict[str, Measure] = {m.name: m for m in (
    _m("linear_cka", "linear CKA", linear_cka, True,
       "Centred kernel alignment with linear kernels (Kornblith et al. 2019), in [0, 1]; "
       "invariant to orthogonal transforms and isotropic scaling."),
    _m("linear_cka_debiased", "linear CKA (debiased)", _linear_cka_debiased, True,
       "Linear CKA with the unbiased HSIC estimator (Song et al. 2012): near 0 for independent "
       "representations even at small n; can be slightly negative.", True, "linear_cka"),
    _m("rbf_cka", "RBF CKA", rbf_cka, True,
       "CKA with Gaussian kernels, bandwidth 0.4 x the median distance, in [0, 1]; O(n^2) memory."),
    _m("rbf_cka_debiased", "RBF CKA (debiased)", _rbf_cka_debiased, True,
       "RBF CKA with the unbiased HSIC estimator; can be slightly negative.", True, "rbf_cka"),
    _m("cca", "CCA (mean ρ)", _cca_mean, True,
       "Mean canonical correlation, in [0, 1]; invariant to invertible linear maps, "
       "degenerate (1) when features outnumber samples."),
    _m("svcca", "SVCCA", svcca, True,
       "Mean canonical correlation of the top singular directions keeping 99% of the variance "
       "(Raghu et al. 2017), in [0, 1]."),
    _m("pwcca", "PWCCA", pwcca, True,
       "Canonical correlations weighted by how much of x's units they account for (Morcos et "
       "al. 2018), in [0, 1]; not symmetric."),
    _m("procrustes_distance", "Procrustes distance", procrustes_distance, False,
       "Orthogonal Procrustes distance of the centred, unit-norm representations (Ding et al. "
       "2021), in [0, 2]; 0 when one is a rotation of the other."),
    _m("rsa", "RSA", rsa, True,
       "Spearman correlation of the two (1 - correlation) dissimilarity matrices (Kriegeskorte "
       "et al. 2008), in [-1, 1]."),
)}

#: Short names accepted by :func:`get_measure` (and by the studies' --measures option).
MEASURE_ALIASES = {"cka": "linear_cka", "procrustes": "procrustes_distance"}


def get_measure(name: str) -> Measure:
    """The :class:`Measure` registered under ``name`` (or an alias such as ``"cka"``).

    Raises
    ------
    NichelabError
        Unknown name, with the closest registered names.
    """
    key = MEASURE_ALIASES.get(name, name)
    if key not in SIMILARITY_MEASURES:
        raise NichelabError(
            f"measure must be one of {', '.join(SIMILARITY_MEASURES)}; got {name!r}"
            + suggest(str(name), SIMILARITY_MEASURES)
        )
    return SIMILARITY_MEASURES[key]
