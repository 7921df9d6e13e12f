"""The hierarchy study's result: typed data only (numbers, words, figure-ready arrays, images, weights)."""
from __future__ import annotations

from dataclasses import field
from typing import ClassVar

import numpy as np

from ..base import SeededResult
from .config import HierarchyConfig

__all__ = ["HierarchyResult"]

_TABLE_MEASURES = ("edge_detectors", "orientation_selective", "osi_median", "part_detectors", "object_detectors",
                   "object_ap_mean", "object_ap_max", "selectivity_mean", "probe_class", "probe_parts",
                   "probe_scrambled")


class HierarchyResult(SeededResult):
    """Everything the hierarchy study measured.

    Attributes
    ----------
    data : dict — name, n_train, n_test, image_shape, class_names, part_names, concepts, object_class.
    layers : list of str — the measured (hidden) layers.
    measures : dict — label and description of every per-layer measure.
    per_layer : dict — ``{"trained" | "random": {measure: {"mean": (L,), "per_seed": (S, L)}}}``.
    test_accuracy : dict — ``{"trained" | "random": [per seed]}``.
    verdict : dict — the story in words, each stage's verdict, the first layer telling faces from
        scrambled faces apart.
    reference : dict — published numbers compared with (Lee et al. 2009).
    featvis : list of dict — per visualised unit (first seed): activation of its optimised input,
        its best held-out activation and their ratio, trained and random init.
    units : dict — ``{"trained" | "random": [per seed: [per layer: {geometry, probes, units}]]}``.
    loss_curves : (S, epochs) float — training loss per epoch.
    findings : dict of str -> list of str — the answers in words, section by section.
    views : dict — figure-ready numbers (filters, unit strips, part counts, levels, gallery and
        feature-visualisation rows referring to ``images`` by key).
    params, initial : dict of str -> (S, ...) arrays — trained and initial weights (weights file).
    images : dict of str -> array — gallery windows, feature visualisations, IoU example masks
        (weights file).
    diverged : list of bool — per seed, whether its training diverged (:mod:`nichelab.train.divergence`).
        A diverged seed's trained measures are NaN (``units["trained"]`` holds None for it) and it is
        left out of every mean, its untrained control with it; when every seed diverged the per-layer
        numbers of the untrained networks (the control) are the only ones measured.
    """

    study: ClassVar[str] = "hierarchy"
    config: HierarchyConfig
    data: dict
    layers: list[str]
    measures: dict
    per_layer: dict
    test_accuracy: dict
    verdict: dict
    reference: dict
    featvis: list[dict]
    units: dict
    loss_curves: np.ndarray
    findings: dict
    images: dict = field(default_factory=dict, metadata={"weights": True})
    diverged: list[bool]

    @property
    def shown(self) -> int | None:
        """Index of the shown seed (the first that did not diverge); None when every seed diverged."""
        ok = [i for i in range(len(self.seeds)) if not (self.diverged and self.diverged[i])]
        return ok[0] if ok else None

    @property
    def n_kept(self) -> int:
        """Seeds that did not diverge."""
        return len(self.seeds) - int(sum(self.diverged or []))

    def mean(self, measure: str, which: str = "trained") -> np.ndarray:
        """(L,) mean over seeds of a per-layer measure (NaN where not measured)."""
        return np.asarray(self.per_layer[which][measure]["mean"], dtype=float)

    def per_seed(self, measure: str, which: str = "trained") -> np.ndarray:
        """(S, L) values of a per-layer measure."""
        return np.asarray(self.per_layer[which][measure]["per_seed"], dtype=float)

    def tables(self) -> dict:
        """``layers`` (per-layer means, trained and random init), ``units`` (first seed, trained), ``featvis``."""
        import pandas as pd
        rows = []
        shown = self.units["trained"][self.shown] if self.shown is not None else self.units["random"][0]
        for i, layer in enumerate(shown):
            row = {"layer": layer["layer"], "kind": layer["kind"], "units": layer["n_units"],
                   "receptive_field_px": layer["receptive_field_px"]}
            for m in _TABLE_MEASURES:
                row[m] = self.mean(m)[i]
                row[f"{m}_random"] = self.mean(m, "random")[i]
            rows.append(row)
        lists = ("top_examples", "top_activations", "top_positions")
        units = pd.DataFrame([{k: v for k, v in u.items() if k not in lists}
                              for layer in (shown if self.shown is not None else []) for u in layer["units"]])
        return {"layers": pd.DataFrame(rows), "units": units, "featvis": pd.DataFrame(self.featvis)}

    def summary(self) -> str:
        """The short answer in words: the story's verdict."""
        return self.verdict.get("story", "")

