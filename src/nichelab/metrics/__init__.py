"""Metrics: pure functions, arrays in -> arrays out (numpy / scipy only).

Names are imported from their submodule on first use (PEP 562), so that importing one submodule
(e.g. :mod:`nichelab.metrics.registry`, which the study configs read) imports no numpy or scipy.
"""
from __future__ import annotations

from .._lazy import lazy_exports

#: submodule -> the names it exports here.
_EXPORTS = {
    "similarity": ("CCAResult", "DegenerateCCAWarning", "MinibatchCKA", "cca", "cka_matrix", "hsic",
                   "linear_cka", "procrustes_distance", "pwcca", "rbf_cka", "rsa", "svcca",),
    "streaming": ("StreamingCKA", "streaming_cka",),
    "registry": ("SIMILARITY_MEASURES", "Measure", "get_measure",),
    "matching": ("UnitMatch", "match_units", "unit_correlation",),
    "units": ("class_means", "constant_units", "dead_units", "preferred_class", "selectivity_index",
              "top_k", "unit_stats",),
    "layers": ("correlation_groups", "dead_fraction", "near_duplicate_groups",
               "participation_ratio", "unit_correlation_matrix",),
    "probes": ("ProbeResult", "linear_probe",),
    "partitions": ("active_classes", "describe_unit", "split_key",),
    "dissection": ("DissectionResult", "dissect", "iou_scores", "upsample_bilinear",),
    "tuning": ("TuningResult", "orientation_selectivity", "orientation_tuning", "tuning_curves",),
    "detection": ("average_precision", "one_vs_rest_average_precision",),
    "identification": ("identify_layers", "most_similar",),
    "prediction": ("linear_prediction", "pearson_columns",),
    "superposition": ("feature_dimensionality", "feature_norms",),
}


__all__ = [
    "hsic", "linear_cka", "rbf_cka", "MinibatchCKA", "cka_matrix", "StreamingCKA", "streaming_cka",
    "CCAResult", "DegenerateCCAWarning", "cca", "svcca", "pwcca",
    "procrustes_distance", "rsa",
    "SIMILARITY_MEASURES", "Measure", "get_measure",
    "unit_correlation", "UnitMatch", "match_units",
    "unit_stats", "dead_units", "constant_units", "class_means", "selectivity_index", "preferred_class", "top_k",
    "unit_correlation_matrix", "near_duplicate_groups", "correlation_groups", "participation_ratio", "dead_fraction",
    "ProbeResult", "linear_probe",
    "active_classes", "describe_unit", "split_key",
    "DissectionResult", "dissect", "iou_scores", "upsample_bilinear",
    "TuningResult", "orientation_selectivity", "orientation_tuning", "tuning_curves",
    "average_precision", "one_vs_rest_average_precision",
    "identify_layers", "most_similar", "linear_prediction", "pearson_columns",
    "feature_norms", "feature_dimensionality",
]


__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)
