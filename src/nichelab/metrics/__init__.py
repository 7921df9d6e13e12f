"""Metrics: pure functions, arrays in -> arrays out (numpy / scipy only)."""
from .similarity import CCAResult, DegenerateCCAWarning, MinibatchCKA, cca, cka_matrix, hsic
from .similarity import linear_cka, procrustes_distance, pwcca, rbf_cka, rsa, svcca
from .matching import UnitMatch, match_units, unit_correlation

__all__ = [
    "hsic", "linear_cka", "rbf_cka", "MinibatchCKA", "cka_matrix",
    "CCAResult", "DegenerateCCAWarning", "cca", "svcca", "pwcca",
    "procrustes_distance", "rsa",
    "unit_correlation", "UnitMatch", "match_units",
]
