"""The layer-similarity measures by name: one registry for studies, the CLI and reports.

Every entry takes ``x`` (n_samples, d1) and ``y`` (n_samples, d2) and returns a float. Names
are those of :func:`nichelab.metrics.cka_matrix` (``linear_cka``, ``rbf_cka``, ``cca``,
``svcca``, ``pwcca``, ``procrustes_distance``, ``rsa``) plus the debiased CKA variants.

Light on purpose (stdlib only; the functions are imported on first use): the study configs read
their ``Literal`` choices and help text from here (:data:`MEASURE_CHOICES`, :func:`measures_help`)
so that ``nichelab --help`` imports no numpy.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from ..errors import NichelabError, suggest

__all__ = ["Measure", "SIMILARITY_MEASURES", "MEASURE_ALIASES", "get_measure", "STUDY_MEASURES",
           "MEASURE_CHOICES", "MEASURE_LABELS", "DISTANCES", "CKA_MEASURES", "canonical", "measures_help"]


@dataclass(frozen=True)
class Measure:
    """A layer-similarity measure.

    Attributes
    ----------
    name : str
        Registry key, e.g. ``"linear_cka"``.
    label : str
        Short human label for tables and figures, e.g. ``"linear CKA"``.
    target : callable or str
        The function, or ``"module:attr"`` of it (imported on first use); see :attr:`function`.
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
    target: Callable[..., float] | str
    higher_is_better: bool
    description: str
    debiased: bool = False
    matrix_name: str = ""

    @property
    def function(self) -> Callable[..., float]:
        """``function(x, y) -> float`` with ``x`` (n_samples, d1), ``y`` (n_samples, d2)."""
        if not isinstance(self.target, str):
            return self.target
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)

    def __call__(self, x, y) -> float:
        return self.function(x, y)


_SIM = "nichelab.metrics.similarity:"


def _cca_mean(x, y) -> float:
    """Mean canonical correlation (:func:`nichelab.metrics.cca`, ``mean_rho``)."""
    from .similarity import cca
    return cca(x, y).mean_rho


def _debiased(name: str) -> Callable[..., float]:
    """``similarity.<name>(x, y, debiased=True)`` (imported on first call)."""
    def function(x, y) -> float:
        from . import similarity
        return getattr(similarity, name)(x, y, debiased=True)
    function.__name__ = function.__qualname__ = f"{name}_debiased"
    function.__doc__ = f":func:`nichelab.metrics.{name}` with ``debiased=True``."
    return function


def _m(name, label, function, higher, description, debiased=False, matrix_name=None) -> Measure:
    return Measure(name, label, function, higher, description, debiased, matrix_name or name)


#: name -> :class:`Measure`, in the order studies show them.
SIMILARITY_MEASURES: dict[str, Measure] = {m.name: m for m in (
    _m("linear_cka", "linear CKA", _SIM + "linear_cka", True,
       "Centred kernel alignment with linear kernels (Kornblith et al. 2019), in [0, 1]; "
       "invariant to orthogonal transforms and isotropic scaling."),
    _m("linear_cka_debiased", "linear CKA (debiased)", _debiased("linear_cka"), True,
       "Linear CKA with the unbiased HSIC estimator (Song et al. 2012): near 0 for independent "
       "representations even at small n; can be slightly negative.", True, "linear_cka"),
    _m("rbf_cka", "RBF CKA", _SIM + "rbf_cka", True,
       "CKA with Gaussian kernels, bandwidth 0.4 x the median distance, in [0, 1]; O(n^2) memory."),
    _m("rbf_cka_debiased", "RBF CKA (debiased)", _debiased("rbf_cka"), True,
       "RBF CKA with the unbiased HSIC estimator; can be slightly negative.", True, "rbf_cka"),
    _m("cca", "CCA (mean ρ)", _cca_mean, True,
       "Mean canonical correlation, in [0, 1]; invariant to invertible linear maps, "
       "degenerate (1) when features outnumber samples."),
    _m("svcca", "SVCCA", _SIM + "svcca", True,
       "Mean canonical correlation of the top singular directions keeping 99% of the variance "
       "(Raghu et al. 2017), in [0, 1]."),
    _m("pwcca", "PWCCA", _SIM + "pwcca", True,
       "Canonical correlations weighted by how much of x's units they account for (Morcos et "
       "al. 2018), in [0, 1]; not symmetric."),
    _m("procrustes_distance", "Procrustes distance", _SIM + "procrustes_distance", False,
       "Orthogonal Procrustes distance of the centred, unit-norm representations (Ding et al. "
       "2021), in [0, 2]; 0 when one is a rotation of the other."),
    _m("rsa", "RSA", _SIM + "rsa", True,
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


#: The names the studies accept (``--measures``, ``--measure``): every measure but the debiased
#: variants, which the studies select with ``debiased``, in registry order.
STUDY_MEASURES: tuple[str, ...] = tuple(n for n, m in SIMILARITY_MEASURES.items() if not m.debiased)
#: Every accepted name (measures, then aliases): the ``Literal`` choices of the config fields.
MEASURE_CHOICES: tuple[str, ...] = STUDY_MEASURES + tuple(MEASURE_ALIASES)
#: How reports name each measure.
MEASURE_LABELS: dict[str, str] = {n: m.label for n, m in SIMILARITY_MEASURES.items()}
#: Measures where a smaller value means more similar.
DISTANCES = frozenset(n for n, m in SIMILARITY_MEASURES.items() if not m.higher_is_better)
#: Measures that take ``debiased`` (those with a debiased variant).
CKA_MEASURES: tuple[str, ...] = tuple(m.matrix_name for m in SIMILARITY_MEASURES.values() if m.debiased)
#: Measures that are slow enough to say so in the help text.
_SLOW = ("rsa",)


def canonical(names) -> tuple[str, ...]:
    """Measure names with aliases resolved and repeats dropped, in order: ``("cka", "svcca", "cka")``
    -> ``("linear_cka", "svcca")``."""
    out: list[str] = []
    for name in names:
        name = MEASURE_ALIASES.get(name, name)
        if name not in out:
            out.append(name)
    return tuple(out)


def measures_help(rsa_note: bool = True) -> str:
    """The accepted measure names for a help text (from the registry), aliases last."""
    names = [n + (" (slow)" if n in _SLOW and rsa_note else "") for n in STUDY_MEASURES]
    return ", ".join(names) + "; " + " and ".join(f"{a} = {m}" for a, m in MEASURE_ALIASES.items())
