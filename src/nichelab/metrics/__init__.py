"""Metrics: pure functions, arrays in -> arrays out (numpy / scipy only)."""
from .similarity import CCAResult, DegenerateCCAWarning, MinibatchCKA, cca, cka_matrix, hsic
from .similarity import linear_cka, procrustes_distance, pwcca, rbf_cka, rsa, svcca
from .streaming import StreamingCKA, streaming_cka
from .registry import SIMILARITY_MEASURES, Measure, get_measure
from .matching import UnitMatch, match_units, unit_correlation
from .units import class_means, constant_units, dead_units, preferred_class, selectivity_index, top_k, unit_stats
from .layers import correlation_groups, dead_fraction, near_duplicate_groups, participation_ratio
from .layers import unit_correlation_matrix
from .probes import ProbeResult, linear_probe
from .partitions import active_classes, describe_unit, split_key
from .dissection import DissectionResult, dissect, iou_scores, upsample_bilinear
from .tuning import TuningResult, orientation_selectivity, orientation_tuning, tuning_curves
from .detection import average_precision, one_vs_rest_average_precision
from .identification import identify_layers, most_similar
from .prediction import linear_prediction, pearson_columns
from .superposition import feature_dimensionality, feature_norms

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
