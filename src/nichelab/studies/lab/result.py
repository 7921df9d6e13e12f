"""The lab study's result: typed data only (numbers, words, figure-ready arrays, weights)."""
from __future__ import annotations

from dataclasses import field
from typing import ClassVar

import numpy as np

from ..base import SeededResult
from ..codec import arrays
from .config import OUTCOMES, LabConfig

__all__ = ["LabResult"]


class LabResult(SeededResult):
    """Everything the lab study measured.

    Attributes
    ----------
    data : dict — name, n_samples, centers, X (n, 2) and y (n,) of the lab's blobs.
    summary : dict — outcome counts and shares, split shares, accuracy by outcome, initial geometry.
    per_seed : list of dict — per seed: seed, loss, accuracy, outcome, class_accuracy, units ...
    findings : dict of str -> list of str — the answers in words, from this run's numbers.
    loss_curves : (S, epochs) float64 — per-epoch training loss of every seed.
    views : dict — figure-ready numbers (shown seed's planes and lines, example seeds' regions,
        loss quartiles by outcome).
    params, initial : dict of str -> (S, ...) arrays — final and initial weights (weights file).
    mechanism : dict — why units take different niches (:mod:`nichelab.studies.lab.mechanism`):
        ``exclusion`` (niche exclusion counts; empty when skipped) and ``pull`` (per-class gradient
        norms on each unit's incoming weights: the shown seed over epochs, all seeds at epoch 0).
    film : dict of str -> arrays — every epoch's weights of a few seeds, for the report's training film
        (weights file, as ``film.<key>``; see :func:`nichelab.studies.lab.views.film`); empty when
        the network has more than ``views.FILM_MAX_UNITS`` hidden units.
    """

    study: ClassVar[str] = "lab"
    config: LabConfig
    params: dict = field(default_factory=dict)  # kept in results.json too (not only the weights file)
    data: dict
    summary: dict
    per_seed: list[dict]
    findings: dict
    loss_curves: np.ndarray
    mechanism: dict
    film: dict = field(default_factory=dict, metadata={"weights": True})

    @classmethod
    def from_dict(cls, data: dict, weights: dict | None = None) -> "LabResult":
        res = super().from_dict(data, weights)
        res.data["X"], res.data["y"] = np.asarray(res.data["X"]), np.asarray(res.data["y"])
        res.views = arrays(res.views)
        res.mechanism = arrays(res.mechanism or {})
        return res

    def tables(self) -> dict:
        """``seeds`` (one row per seed), ``outcomes`` (counts, shares, median accuracy), ``splits``."""
        import pandas as pd
        seeds = pd.DataFrame([{k: r[k] for k in ("seed", "outcome", "accuracy", "loss", "description")}
                              for r in self.per_seed])
        s = self.summary
        outcomes = pd.DataFrame([{"outcome": o, "seeds": s["outcome_counts"][o], "share": s["outcome_shares"][o],
                                  "median_accuracy": s["median_accuracy_by_outcome"].get(o, np.nan)}
                                 for o in OUTCOMES])
        splits = pd.DataFrame(list(s["split_shares"].items()), columns=["split", "share_of_units"])
        return {"seeds": seeds, "outcomes": outcomes, "splits": splits}

    def summary_text(self) -> str:
        """The short answer in words."""
        return " ".join(self.findings.get("niches", [])[:1])
