"""The convergence study's result: typed data only (numbers, words, figure-ready arrays, weights)."""
from __future__ import annotations

from dataclasses import field
from typing import ClassVar

import numpy as np

from ..base import SeededResult
from .config import ConvergenceConfig
from .measures import MEASURE_LABELS

__all__ = ["ConvergenceResult"]


class ConvergenceResult(SeededResult):
    """Everything the convergence study measured (S seeds, L layers, P = S(S-1) ordered seed pairs).

    Attributes
    ----------
    data : dict — name, n_samples, n_train, n_test, input_shape, class_names, test_indices.
    model : dict — spec, layers, widths, output_layer.
    accuracy : dict — ``test`` and ``final_train_loss`` per seed (keys: the seed as text).
    answer : str — the hidden layers' verdict in one phrase.
    verdicts : dict of layer -> verdict.
    layers : list of dict — one per layer: unit-level and subspace-level agreement, the verdict.
    identification : dict — per measure: accuracy, per_layer, chance, lower_is_better.
    similarity : dict — per measure: ``mean`` (L, L) over pairs and every pair's matrix.
    within_seed_linear_cka : dict — ``mean`` (L, L) and ``per_seed``.
    baseline_untrained : dict — linear CKA and mean matched correlation against untrained networks.
    units : dict — per seed, per layer, every unit's counterparts in the other seeds.
    findings : dict of str -> list of str (``thresholds``: str) — the answers in words.
    notes : list of str — warnings raised while measuring.
    diverged_seeds : list of int — seeds whose training blew up (:mod:`nichelab.train.divergence`);
        left out of every other number (``seeds`` lists the compared ones).
    views : dict — figure-ready numbers: pooled unit correlations, unit shares, matching matrices
        of the first seed pair (reordered), each heatmap row's most similar column.
    params, initial : dict of str -> (S, ...) arrays — final and initial weights (weights file).
    """

    study: ClassVar[str] = "convergence"
    config: ConvergenceConfig
    data: dict
    model: dict
    accuracy: dict
    answer: str = ""
    verdicts: dict
    layers: list[dict]
    identification: dict
    similarity: dict
    within_seed_linear_cka: dict
    baseline_untrained: dict
    units: dict
    findings: dict
    notes: list[str]
    diverged_seeds: list[int]

    def tables(self) -> dict:
        """``layers`` (one row per layer), ``identification`` (measure x layer), ``seeds`` (accuracy, loss)."""
        import pandas as pd
        layers = pd.DataFrame([{k: v for k, v in s.items() if k not in ("similarity", "identification")}
                               for s in self.layers])
        ident = pd.DataFrame([{"measure": m, "label": MEASURE_LABELS[m], "overall": v["accuracy"], **v["per_layer"]}
                              for m, v in self.identification.items()])
        loss = self.accuracy.get("final_train_loss", {})
        seeds = pd.DataFrame([{"seed": s, "test_accuracy": self.accuracy["test"][str(s)],
                               "final_train_loss": loss.get(str(s), np.nan)} for s in self.seeds])
        return {"layers": layers, "identification": ident, "seeds": seeds}

    def summary(self) -> str:
        """The short answer in words."""
        return " ".join(self.findings.get("short", [])[:1])
