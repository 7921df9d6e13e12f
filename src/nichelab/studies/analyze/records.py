"""The census as records: every measured number in the layout of ``results.json``.

Each function takes the run's working objects (the :class:`~.prepare.Subject`, the layer
censuses) and returns plain dicts and lists; :mod:`.run` stores them in the
:class:`~.result.AnalyzeResult`.
"""
from __future__ import annotations

import numpy as np

from ...capture import split_key
from ..codec import to_data
from . import findings as fx
from .census import LayerCensus, ablation_drops
from .config import AnalyzeConfig
from .prepare import Subject

__all__ = ["accuracy", "unit_order", "unit_records", "layer_record", "probe_record", "data_record",
           "model_record", "label_mapping", "label_mapping_text"]


def accuracy(logits: np.ndarray | None, y: np.ndarray, n_classes: int) -> tuple[float | None, np.ndarray | None]:
    """The model's accuracy on the analysed samples, overall and per class (None if not a classifier).

    logits: (n_samples, n_outputs) or None; y: (n_samples,) int; returns (float, (n_classes,) float, NaN for a
    class without samples).
    """
    if logits is None:
        return None, None
    pred = logits.argmax(axis=1) if logits.shape[1] > 1 else (logits[:, 0] > 0).astype(int)
    hit = pred == y
    per = np.array([hit[y == c].mean() if np.any(y == c) else np.nan for c in range(n_classes)])
    return float(hit.mean()), per


def unit_order(lc: LayerCensus) -> np.ndarray:
    """Units sorted by preferred class, then decreasing selectivity; dead (and no-preference) units last."""
    pref = np.where(lc.dead | (lc.preferred < 0), np.iinfo(np.int64).max, lc.preferred)
    sel = np.where(np.isfinite(lc.selectivity), lc.selectivity, -1.0)
    return np.lexsort((np.arange(lc.n_units), -sel, pref, lc.dead))


def unit_records(lc: LayerCensus, census_idx: np.ndarray, key: np.ndarray) -> list[dict]:
    """One record per unit of a layer: every per-unit number (``key``: (n_units,) bool, indispensable)."""
    group = lc.group_of()
    drops = ablation_drops(lc.ablation) if lc.ablation is not None else None
    recs = []
    for k in range(lc.n_units):
        rec = {"unit": lc.unit(k), "index": k, "dead": bool(lc.dead[k]), "mean": lc.mean[k], "std": lc.std[k],
               "frac_active": lc.frac_active[k], "selectivity": lc.selectivity[k],
               "preferred_class": int(lc.preferred[k]) if lc.preferred[k] >= 0 else None,
               "class_means": lc.class_means[:, k],
               "near_duplicate_group": int(group[k]) if group[k] >= 0 else None,
               "closest_unit": lc.unit(int(lc.partner[k])) if lc.partner[k] >= 0 else None,
               "closest_r": lc.partner_r[k],
               "top_samples": census_idx[lc.top[:, k]], "top_values": lc.top_values[:, k],
               "active_classes": np.flatnonzero(lc.active[k]) if lc.active is not None else None}
        if drops is not None:
            rec.update({"ablation_drop_pp": drops[0][k], "ablation_class_drop_pp": drops[1][k],
                        "indispensable": bool(key[k])})
        recs.append(rec)
    return recs


def probe_record(p) -> dict | None:
    """A linear probe's numbers (None when it was skipped)."""
    if p is None:
        return None
    return {"test_accuracy": p.test_acc, "train_accuracy": p.train_acc, "chance": p.chance, "n_train": p.n_train,
            "n_test": p.n_test, "converged": p.converged}


def layer_record(lc: LayerCensus, census_idx: np.ndarray, cfg: AnalyzeConfig) -> dict:
    """Every per-layer number, with the unit records (plain JSON values)."""
    key = fx.indispensable(lc, cfg.indispensable_overall, cfg.indispensable_class)
    base, call = split_key(lc.name)
    rec = {"name": lc.name, "module": base, "call": call or 0, "calls": lc.calls, "module_type": lc.module_type, "kind": lc.kind, "output_shape": list(lc.raw_shape),
           "reduce": lc.reduce, "signed": lc.signed, "units": lc.n_units,
           "dead": np.flatnonzero(lc.dead), "n_dead": int(lc.dead.sum()),
           "near_duplicate_groups": lc.groups, "n_in_groups": sum(len(g) for g in lc.groups),
           "participation_ratio": lc.participation_ratio, "mean_selectivity": lc.mean_selectivity,
           "probe": probe_record(lc.probe), "probe_note": lc.probe_note, "probe_features": lc.probe_features,
           "ablation": None, "ablation_note": lc.ablation_note,
           "unit_records": unit_records(lc, census_idx, key)}
    if lc.ablation is not None:
        a = lc.ablation
        rec["ablation"] = {"mode": a.mode, "n_samples": int(a.class_counts.sum()), "baseline_accuracy": a.baseline_acc,
                           "baseline_class_accuracy": a.baseline_class_acc, "indispensable": np.flatnonzero(key)}
    return to_data(rec)


def label_mapping(class_names: list[str]) -> dict | None:
    """``{"bird": 0, "cat": 1, ...}`` when the classes have names (string labels), else None."""
    if class_names == [str(k) for k in range(len(class_names))]:
        return None
    return {n: k for k, n in enumerate(class_names)}


def label_mapping_text(class_names: list[str], mapping: dict | None = None) -> str | None:
    """The set-up line stating which class index (model output) each original label is scored as.

    ``mapping`` is the loader's ``{original label: class index}``; None (or an identity mapping of
    integer labels) with numeric class names gives None: nothing to say."""
    if mapping and any(str(k) != str(v) for k, v in mapping.items()):
        shown = ", ".join(f"{k}={v}" for k, v in list(mapping.items())[:12]) + (", ..." if len(mapping) > 12 else "")
        return (f"the labels are numbered in sorted order: {shown}; the model's output k is scored as class k, so "
                "the model must have been trained with the same numbering")
    m = label_mapping(class_names)
    if m is None:
        return None
    names = list(m)
    how = "in alphabetical order" if names == sorted(names) else "in the data's order"
    shown = ", ".join(f"{n}={k}" for n, k in list(m.items())[:12]) + (", ..." if len(m) > 12 else "")
    return (f"string labels are numbered {how}: {shown}; the model's output k is scored as class k, so the "
            "model must have been trained with the same numbering")


def data_record(s: Subject) -> dict:
    """The data: name, sizes, classes, input shape, analysed and training indices, loader metadata."""
    d = s.data
    names = list(d.class_names)
    meta = {k: v for k, v in d.meta.items() if not isinstance(v, np.ndarray)}
    mapping = meta.pop("label_mapping", None) or label_mapping(names)
    return to_data({"name": d.name, "n_samples": len(d), "n_classes": d.n_classes, "class_names": names,
                    "label_to_class_index": label_mapping(names), "label_mapping": mapping,
                    "label_mapping_text": label_mapping_text(names, mapping),
                    "input_shape": list(d.input_shape), "analysed_samples": len(s.census_idx),
                    "analysed_indices": s.census_idx, "train_indices": s.train_idx, **meta})


def model_record(s: Subject) -> dict:
    """The model: kind, source, outputs, parameter count, analysed and all layers with their types."""
    return to_data({"kind": s.kind, "source": s.source, "fixed_batch": s.fixed_batch, "n_outputs": s.n_outputs,
                    "classifier": s.classifier, "n_parameters": int(sum(p.numel() for p in s.module.parameters())),
                    "layers_analysed": s.layers, "all_layers": list(s.layer_types), "layer_types": s.layer_types})
