"""Per-layer summary numbers of the measured networks: one (seeds, layers) array per measure."""
from __future__ import annotations

import numpy as np

from .analysis import LayerMeasures, NetworkMeasures

__all__ = ["MEASURES", "summarise", "seed_mean", "LEVELS"]

LEVELS = ("edge", "part", "object")

#: name -> (label for tables and figures, description)
MEASURES = {
    "edge_detectors": ("edge detectors", "share of units that are orientation-selective and driven by the stimuli"),
    "orientation_selective": ("orientation-selective units", "share of units with OSI >= the threshold"),
    "drive_median": ("median drive", "median of (strongest stimulus response / largest held-out activation)"),
    "osi_median": ("median OSI", "median orientation selectivity index (1 - circular variance) of live units"),
    "part_detectors": ("part detectors", "share of units whose best part IoU exceeds the threshold (conv layers)"),
    "level_edge": ("best concept: edge", "share of units whose best concept over all levels is an edge orientation"),
    "level_part": ("best concept: part", "share of units whose best concept over all levels is a part"),
    "level_object": ("best concept: object", "share of units whose best concept over all levels is a whole object"),
    "object_ap_mean": ("mean object AUPRC", "mean over units of the AUPRC for the object class"),
    "object_ap_max": ("best object AUPRC", "largest AUPRC of a single unit for the object class"),
    "object_detectors": ("object detectors", "share of units whose object AUPRC reaches the threshold"),
    "object_ap_no_scrambled_mean": ("mean face AUPRC without scrambled faces",
                                    "as mean object AUPRC, scrambled faces left out"),
    "object_ap_no_scrambled_max": ("best face AUPRC without scrambled faces",
                                   "as best object AUPRC, scrambled faces left out"),
    "object_ap_chance": ("object AUPRC at chance", "the positives' share (AUPRC of a constant unit)"),
    "selectivity_mean": ("mean class selectivity", "mean class selectivity index of live units (Morcos et al. 2018)"),
    "dead": ("dead units", "share of units silent (or constant) on every held-out image"),
    "probe_class": ("class probe", "held-out accuracy of a linear probe for the class"),
    "probe_class_chance": ("class probe chance", "majority-class accuracy"),
    "probe_parts": ("part-presence probe", "mean over parts of a linear probe's held-out accuracy for the part's presence"),
    "probe_parts_chance": ("part-presence chance", "mean majority accuracy of the part-presence probes"),
    "probe_scrambled": ("face vs. scrambled probe", "held-out accuracy of a linear probe for face vs. scrambled face"),
    "probe_scrambled_chance": ("face vs. scrambled chance", "majority-class accuracy"),
}


def _nanmean(x) -> float:
    x = np.asarray(x, dtype=float)
    return float(np.nanmean(x)) if x.size and np.isfinite(x).any() else float("nan")


def _layer_values(l: LayerMeasures, ap_threshold: float) -> dict[str, float]:
    live = ~l.dead
    nan = float("nan")
    out = {
        "edge_detectors": float(l.edge_detector.mean()),
        "orientation_selective": l.tuning.selective_fraction,
        "drive_median": float(np.nanmedian(l.drive)) if np.isfinite(l.drive).any() else nan,
        "osi_median": (float(np.nanmedian(l.tuning.osi[live]))
                       if live.any() and np.isfinite(l.tuning.osi[live]).any() else nan),
        "part_detectors": float(l.part_detector.mean()) if l.part_detector is not None else nan,
        "object_ap_mean": _nanmean(l.object_ap),
        "object_ap_max": float(np.nanmax(l.object_ap)) if np.isfinite(l.object_ap).any() else nan,
        "object_detectors": float(l.object_detectors(ap_threshold).mean()),
        "object_ap_chance": _nanmean(l.object_ap_chance),
        "object_ap_no_scrambled_mean": _nanmean(l.object_ap_no_scrambled) if l.object_ap_no_scrambled is not None else nan,
        "object_ap_no_scrambled_max": (float(np.nanmax(l.object_ap_no_scrambled))
                                       if l.object_ap_no_scrambled is not None else nan),
        "selectivity_mean": _nanmean(l.selectivity[live]) if live.any() else nan,
        "dead": float(l.dead.mean()),
        "probe_class": l.probe_class, "probe_class_chance": l.probe_class_chance,
        "probe_parts": l.probe_parts_mean, "probe_parts_chance": l.probe_parts_chance_mean,
        "probe_scrambled": nan if l.probe_scrambled is None else l.probe_scrambled,
        "probe_scrambled_chance": nan if l.probe_scrambled_chance is None else l.probe_scrambled_chance,
    }
    for level in LEVELS:
        out[f"level_{level}"] = (float(np.mean([c == level for c in l.concept_level]))
                                 if l.concept_level is not None else nan)
    return out


def summarise(nets: list[NetworkMeasures], ap_threshold: float) -> dict[str, np.ndarray]:
    """``{measure: array (n_networks, n_layers)}`` for every name in :data:`MEASURES`."""
    rows = [[_layer_values(l, ap_threshold) for l in net.layers] for net in nets]
    return {m: np.array([[r[m] for r in row] for row in rows], dtype=float) for m in MEASURES}


def seed_mean(a) -> np.ndarray:
    """Mean over seeds (axis 0), ignoring NaN; NaN where every seed is NaN (e.g. dense layers' IoU)."""
    a = np.asarray(a, dtype=float)
    n = np.isfinite(a).sum(axis=0)
    return np.where(n > 0, np.where(np.isfinite(a), a, 0.0).sum(axis=0) / np.maximum(n, 1), np.nan)
