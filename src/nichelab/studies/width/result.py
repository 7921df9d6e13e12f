"""The width study's result: typed data only (numbers per width and seed, words, figure-ready arrays, weights)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..base import SeededResult
from .config import WidthConfig

__all__ = ["WidthResult", "DatasetCensus", "WidthCensus", "CensusSeries", "UnitLines", "WidthViews"]

#: Per-width keys that only the blobs have (omitted from results.json elsewhere).
BLOBS_ONLY = ("distinct_partitions", "unit_splits")


@dataclass
class WidthCensus:
    """Every seed of one width on one dataset (S seeds, W units, E epochs).

    Attributes
    ----------
    accuracy, train_accuracy : (S,) float — on the evaluation data and on the training data.
    dead_fraction : (S,) float — share of units silent (or constant) on every evaluation sample.
    dead_units : list of list of int — each seed's dead units.
    near_duplicate_pairs : (S,) int — pairs of live units correlated at r >= ``dup_threshold``.
    units_with_near_duplicate : (S,) float — share of live units in such a pair (NaN: none live).
    participation_ratio : (S,) float — effective dimensions of the hidden activations.
    frivolous_fraction : (S,) float — share of units whose ablation costs less than ``ablation_cost``.
    ablation_accuracy_change : (S, W) float — accuracy change when each unit alone is zeroed.
    final_train_loss : (S,) float; loss_per_epoch : (S, E) float.
    distinct_partitions : (S,) int, blobs only — distinct class splits of the live units (at most 7).
    unit_splits : list of list of str, blobs only — each unit's split key, or ``"dead"``.
    diverged : (S,) bool — seeds whose training blew up (:mod:`nichelab.train.divergence`); every
        measure above is NaN (null) for them.
    """

    accuracy: np.ndarray
    train_accuracy: np.ndarray
    dead_fraction: np.ndarray
    dead_units: list[list[int]]
    near_duplicate_pairs: np.ndarray
    units_with_near_duplicate: np.ndarray
    participation_ratio: np.ndarray
    frivolous_fraction: np.ndarray
    ablation_accuracy_change: np.ndarray
    final_train_loss: np.ndarray
    loss_per_epoch: np.ndarray
    distinct_partitions: np.ndarray | None = None
    unit_splits: list[list[str]] | None = None
    diverged: np.ndarray | None = None


@dataclass
class DatasetCensus:
    """Every width of one dataset.

    Attributes
    ----------
    n_train, n_eval, n_classes : int
    widths : list of int
    enough_width : int — smallest width within 1 point of the best mean accuracy.
    means_by_width : dict of measure -> (n_widths,) float — means over seeds (NaN: undefined);
        ``top_unit_cost`` is the median over seeds of the most important unit's ablation cost.
    per_width : dict of width -> WidthCensus
    findings : dict — ``accuracy``, ``niches``, ``dead``, ``frivolous`` (lists of sentences), ``short`` (str).
    """

    n_train: int
    n_eval: int
    n_classes: int
    widths: list[int]
    enough_width: int
    means_by_width: dict[str, np.ndarray]
    per_width: dict[int, WidthCensus]
    findings: dict


@dataclass
class CensusSeries:
    """One measure of one dataset against width: mean, lowest and highest seed, each (n_widths,)."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


@dataclass
class UnitLines:
    """One network's L1 lines ``W[h] . x + b[h] = 0`` and the class split each unit makes."""

    width: int
    seed: int
    W: np.ndarray
    b: np.ndarray
    keys: list[str]
    n_splits: int
    n_dead: int


@dataclass
class WidthViews:
    """Figure-ready numbers: the census against width, and a few blob networks' unit lines.

    ``census[dataset][measure]``; ``points_X`` (n, 2) and ``points_y`` (n,) are the blob
    evaluation points drawn under ``unit_lines`` (None without blobs).
    """

    widths: list[int]
    census: dict[str, dict[str, CensusSeries]]
    points_X: np.ndarray | None = None
    points_y: np.ndarray | None = None
    unit_lines: list[UnitLines] = field(default_factory=list)


class WidthResult(SeededResult):
    """Everything the width study measured.

    Attributes
    ----------
    datasets : dict of str -> DatasetCensus
    views : WidthViews
    params : dict of ``"{dataset}/w{width}/{name}"`` -> (S, ...) array — final weights (weights file).
    """

    study: ClassVar[str] = "width"
    config: WidthConfig
    datasets: dict[str, DatasetCensus]
    views: WidthViews = None

    def to_dict(self) -> dict:
        """The whole results.json; per-width blobs-only keys are left out on other datasets."""
        out = super().to_dict()
        for d in out["datasets"].values():
            for w in d["per_width"].values():
                for key in BLOBS_ONLY:
                    if w.get(key, 0) is None:
                        del w[key]
        return out

    def tables(self) -> dict:
        """``widths`` (means over seeds per dataset and width) and ``seeds`` (one row per dataset, width, seed)."""
        import pandas as pd
        means, seeds = [], []
        for name, d in self.datasets.items():
            for i, w in enumerate(d.widths):
                means.append({"dataset": name, "width": w, **{k: float(v[i]) for k, v in d.means_by_width.items()}})
                r = d.per_width[w]
                for j, seed in enumerate(self.seeds):
                    seeds.append({"dataset": name, "width": w, "seed": seed, "accuracy": r.accuracy[j],
                                  "train_accuracy": r.train_accuracy[j], "dead_fraction": r.dead_fraction[j],
                                  "near_duplicate_pairs": r.near_duplicate_pairs[j],
                                  "units_with_near_duplicate": r.units_with_near_duplicate[j],
                                  "distinct_partitions": (r.distinct_partitions[j] if r.distinct_partitions is not None
                                                          else np.nan),
                                  "participation_ratio": r.participation_ratio[j],
                                  "frivolous_fraction": r.frivolous_fraction[j],
                                  "final_train_loss": r.final_train_loss[j]})
        return {"widths": pd.DataFrame(means), "seeds": pd.DataFrame(seeds)}

    def summary(self) -> str:
        """The short answer in words, one sentence per dataset."""
        return " ".join(d.findings["short"] for d in self.datasets.values())
