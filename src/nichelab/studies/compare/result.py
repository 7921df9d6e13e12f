"""The result of ``nichelab compare``: typed data only (numbers, words, figure-ready arrays)."""
from __future__ import annotations

from dataclasses import field
from typing import ClassVar

import numpy as np

from ..base import Result
from ...metrics.registry import MEASURE_LABELS
from .config import CompareConfig

__all__ = ["CompareResult"]


class CompareResult(Result):
    """Everything ``nichelab compare`` measured.

    Attributes
    ----------
    config : CompareConfig — objects given in the library (models, arrays) are recorded as their
        descriptions.
    a, b : dict — each network: path, kind, study, spec, seed (run folders), label, layers.
    data : dict — name, n_samples, n_used, input_shape.
    measure : str — the heatmap's measure; ``debiased`` and ``lower_is_better`` go with it.
    layers_a, layers_b : list of str — rows and columns of ``matrix``.
    matrix : (La, Lb) float — ``measure`` between every layer of A and every layer of B.
    most_similar : list of dict — per layer of A: the most similar layer of B and the value.
    matching : list of dict — per matched layer pair: summary, verdict, the UnitMatch (correlation
        matrix included) and every unit's match.
    findings : dict of str -> list of str — ``short``, ``layers``, ``units``.
    notes : list of str
    views : dict — figure-ready numbers: live units' correlations per pair, matching matrices
        reordered by the matching, each A layer's most similar B layer (index; -1 for none).
    """

    study: ClassVar[str] = "compare"
    config: CompareConfig = None
    a: dict = field(default_factory=dict)
    b: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    measure: str = "linear_cka"
    debiased: bool = False
    lower_is_better: bool = False
    layers_a: list[str] = field(default_factory=list)
    layers_b: list[str] = field(default_factory=list)
    matrix: np.ndarray = None
    most_similar: list[dict] = field(default_factory=list)
    matching: list[dict] = field(default_factory=list)
    findings: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    views: dict = field(default_factory=dict)

    @property
    def measure_label(self) -> str:
        """The heatmap measure as the report names it."""
        return MEASURE_LABELS[self.measure] + (" (debiased)" if self.debiased else "")

    def tables(self) -> dict:
        """``matrix`` (A layers x B layers), ``pairs`` (one row per matched layer pair), ``units``."""
        import pandas as pd
        matrix = pd.DataFrame(np.asarray(self.matrix, float), index=self.layers_a, columns=self.layers_b)
        pairs = pd.DataFrame([{k: v for k, v in m.items() if k not in ("match", "units")} for m in self.matching])
        units = pd.DataFrame([{"layer_a": m["layer_a"], "layer_b": m["layer_b"], **u}
                              for m in self.matching for u in m["units"]])
        return {"matrix": matrix, "pairs": pairs, "units": units}

    def summary(self) -> str:
        """The short answer in words."""
        return " ".join(self.findings.get("short", [])[:1])
