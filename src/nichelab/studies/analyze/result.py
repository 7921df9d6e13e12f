"""The analyze study's result: typed data only (records of every number, words, figure-ready views, weights)."""
from __future__ import annotations

from dataclasses import field
from typing import ClassVar

import numpy as np

from ..base import Result
from ..codec import arrays, nan_list
from .config import AnalyzeConfig

__all__ = ["AnalyzeResult"]


class AnalyzeResult(Result):
    """Everything ``nichelab analyze`` measured (the keys of ``results.json``).

    Attributes
    ----------
    config : AnalyzeConfig
        The settings; a model or arrays given as Python objects are recorded as descriptions.
    data : dict
        name, n_samples, n_classes, class_names, label mapping, input_shape, analysed_samples,
        analysed_indices, train_indices and the loader's metadata.
    model : dict
        kind, source, fixed_batch, n_outputs, classifier, n_parameters, layers_analysed, all_layers,
        layer_types.
    training : dict or None
        Built-in models: spec, epochs, lr, batch_size, optimizer, init, per-epoch loss, train and
        test accuracy, n_train, n_test, seconds.
    accuracy : float or None
        The model's accuracy on the analysed samples (None when its outputs are not class logits).
    class_accuracy : list of float or None
        Per class (NaN for a class without samples).
    thresholds : dict
        near_duplicate_abs_r, indispensable_overall_pp, indispensable_class_pp.
    input_probe : dict or None
        The linear probe on the raw input (test_accuracy, train_accuracy, chance, n_train, n_test,
        converged); ``input_probe_note`` says why it is missing.
    ablation_indices : list of int
        Data indices of the ablation subset (empty when ablation did not run).
    layers : list of dict
        Per layer: name, module_type, kind, output_shape, reduce, signed, units, dead, n_dead,
        near_duplicate_groups, participation_ratio, mean_selectivity, probe, ablation, and
        ``unit_records`` (every per-unit number).
    findings : dict of str -> list of str
        The answers in words (model, layers, dead, duplicates, selectivity, indispensable, probes).
    notes : list of str
        What the report says about the set-up (skipped steps and why, reused modules, a
        fixed-batch exported program).
    warnings : list of str
        Shown at the top of the report: the model's accuracy within noise of chance
        (:func:`nichelab.nn.checks.chance_check`).
    views : dict
        Figure-ready numbers (see :mod:`nichelab.studies.analyze.views`).
    params : dict of str -> np.ndarray
        A built-in model's trained ``state_dict`` (weights file); empty for the user's own model.
    """

    study: ClassVar[str] = "analyze"
    config: AnalyzeConfig = None
    data: dict = field(default_factory=dict)
    model: dict = field(default_factory=dict)
    training: dict | None = None
    accuracy: float | None = None
    class_accuracy: list[float] | None = None
    thresholds: dict = field(default_factory=dict)
    input_probe: dict | None = None
    input_probe_note: str = ""
    ablation_indices: list[int] = field(default_factory=list)
    layers: list[dict] = field(default_factory=list)
    findings: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    views: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict, metadata={"weights": True})

    def weights(self) -> dict:
        """The trained weights of a built-in model under their ``state_dict`` names (empty otherwise)."""
        return dict(self.params)

    @classmethod
    def from_dict(cls, data: dict, weights: dict | None = None) -> "AnalyzeResult":
        res = super().from_dict(data, {})
        res.params = dict(weights or {})
        res.views = arrays(res.views)
        return res

    # ---- reading ----------------------------------------------------------------------------
    @property
    def class_names(self) -> list[str]:
        return list(self.data["class_names"])

    @property
    def n_samples(self) -> int:
        """Number of analysed samples."""
        return int(self.data["analysed_samples"])

    def layer(self, name: str) -> dict:
        """The record of layer ``name``."""
        for rec in self.layers:
            if rec["name"] == name:
                return rec
        raise KeyError(f"no analysed layer {name!r}; analysed: {', '.join(r['name'] for r in self.layers)}")

    def unit_values(self, name: str, key: str) -> np.ndarray:
        """One per-unit number of layer ``name`` as an array over its units (None -> NaN)."""
        return np.asarray(nan_list([u.get(key) for u in self.layer(name)["unit_records"]]), dtype=float)

    def tables(self) -> dict:
        """``layers`` (one row per layer) and ``units`` (one row per unit of every layer)."""
        import pandas as pd
        layers = pd.DataFrame([{
            "layer": r["name"], "type": r["module_type"], "kind": r["kind"], "units": r["units"], "dead": r["n_dead"],
            "near_duplicate_groups": len(r["near_duplicate_groups"]), "units_in_groups": r["n_in_groups"],
            "participation_ratio": r["participation_ratio"], "mean_selectivity": r["mean_selectivity"],
            "probe_accuracy": (r["probe"] or {}).get("test_accuracy", np.nan),
            "indispensable": len(r["ablation"]["indispensable"]) if r["ablation"] else np.nan} for r in self.layers])
        keep = ("unit", "index", "dead", "mean", "std", "frac_active", "selectivity", "preferred_class",
                "near_duplicate_group", "closest_unit", "closest_r", "ablation_drop_pp", "indispensable")
        units = pd.DataFrame([{"layer": r["name"], **{k: u.get(k) for k in keep}}
                              for r in self.layers for u in r["unit_records"]])
        return {"layers": layers, "units": units}

    def summary(self) -> str:
        """The short answer in words."""
        return " ".join(self.findings.get("model", [])[:1] + self.findings.get("layers", []))
