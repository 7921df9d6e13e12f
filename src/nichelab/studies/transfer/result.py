"""The transfer study's result: typed data only (numbers, words, figure-ready views, weights)."""
from __future__ import annotations

import math
from dataclasses import field
from typing import ClassVar

import numpy as np

from ..base import SeededResult
from .config import CONDITION_INFO, TransferConfig

__all__ = ["TransferResult"]


class TransferResult(SeededResult):
    """Everything the transfer study measured (the layout of ``results.json``).

    Attributes
    ----------
        Seeds of every cell.
    init_offset : int
        Re-initialised blocks of seed s start from init seed ``init_offset + s``.
    margin : float
        The findings' margin (fraction).
    tasks : dict
        ``target`` and ``sources``: task text, label, image source, kind (similar/dissimilar),
        classes, train/test counts, original size and image shape.
    summary : list of str
        The short answer in words.
    architectures : list of dict
        Per model: ``model``, ``blocks``, ``cuts``, ``baseB_accuracy_on_B``,
        ``baseA_accuracy_on_A``, ``curves`` (per condition and source: mean, std and per-seed
        accuracy on B per cut), ``cells`` (every cell's accuracy stats, seeds, order seeds,
        frozen parameters, final training loss), ``cka`` (per row and seed, biased and
        debiased, and their means over seeds), ``effects`` (the paper's effects here),
        ``findings`` (the answers in words, by question), ``timings``.
    views : dict
        Figure-ready numbers: ``tasks`` (example images), ``transfer`` (per model), ``cost``.
    params : dict of str -> (S, ...) array
        Every network's final weights (weights file): ``"<model>/baseB/<param>"``,
        ``"<model>/baseA/<source>/<param>"``, ``"<model>/<condition>/n<k>[/<source>]/<param>"``.
    """

    study: ClassVar[str] = "transfer"
    config: TransferConfig
    init_offset: int = 0
    margin: float = 0.0
    tasks: dict
    summary: list[str]
    architectures: list[dict]

    # ---- data out ---------------------------------------------------------------------------
    def weights(self) -> dict:
        """Every network's final weights, seeds stacked on axis 0, plus the seed list."""
        return {"seeds": np.asarray(self.seeds, dtype=np.int64), **self.params}

    @classmethod
    def from_dict(cls, data: dict, weights: dict | None = None) -> "TransferResult":
        weights = dict(weights or {})
        weights.pop("seeds", None)
        # the stored config holds the values quick set: rebuild it without applying quick again
        # (it would replace explicit values that equal the defaults), then restore the flag
        config = dict(data.get("config") or {})
        quick = bool(config.pop("quick", False))
        res = super().from_dict({**data, "config": {**config, "quick": False}}, {})
        res.config.quick = quick
        res.params = weights
        res.architectures = _nan_in_lists(res.architectures)
        res.views = _nan_in_lists(res.views)
        return res

    @property
    def labels(self) -> dict:
        """Readable name of each source task, keyed by its text."""
        return {s["task"]: s["label"] for s in self.tasks["sources"]}

    def tables(self) -> dict:
        """Every table of the report, long format.

        ``base_networks`` (model, network, task, mean, std), ``accuracy`` (model, condition,
        source, n, mean, std: test accuracy on B per cell), ``cka`` (model, comparison, layer,
        linear, linear_debiased: means over seeds), ``effects`` (model, effect, paper, here,
        shows), ``cells`` (model, condition, source, n, seed, accuracy: every seed of every
        cell and base network on B).
        """
        import pandas as pd
        base, acc, cka, eff, cells = [], [], [], [], []
        for a in self.architectures:
            m = a["model"]
            b = a["baseB_accuracy_on_B"]
            base.append({"model": m, "network": "baseB", "task": self.tasks["target"]["task"],
                         "mean": b["mean"], "std": b["std"]})
            for s, st in a["baseA_accuracy_on_A"].items():
                base.append({"model": m, "network": "baseA", "task": s, "mean": st["mean"], "std": st["std"]})
            for c in a["curves"]:
                for n, mu, sd in zip(c["n"], c["mean"], c["std"]):
                    acc.append({"model": m, "condition": c["condition"], "source": c["source"], "n": n,
                                "mean": mu, "std": sd})
            k = a["cka"]
            for row in k["linear_mean"]:
                for j, layer in enumerate(k["layers"]):
                    cka.append({"model": m, "comparison": row, "layer": layer, "linear": k["linear_mean"][row][j],
                                "linear_debiased": k["linear_debiased_mean"][row][j]})
            eff += [{"model": m, "effect": e["name"], "paper": e["paper"], "here": e["here"], "shows": e["shows"]}
                    for e in a["effects"]]
            for c in a["cells"]:
                st = c.get("accuracy")
                if st is None:
                    continue
                cells += [{"model": m, "condition": c["condition"], "source": c["source"], "n": c["n"],
                           "seed": s, "accuracy": v} for s, v in zip(self.seeds, st["values"])]
        return {"base_networks": pd.DataFrame(base), "accuracy": pd.DataFrame(acc), "cka": pd.DataFrame(cka),
                "effects": pd.DataFrame(eff), "cells": pd.DataFrame(cells)}

    def curve(self, arch: int, condition: str, source: str | None = None) -> dict:
        """The curve record of ``condition`` (``source`` for AnB / AnB+) of architecture ``arch``."""
        if CONDITION_INFO[condition][0] != "A":
            source = None
        return next(c for c in self.architectures[arch]["curves"]
                    if c["condition"] == condition and c["source"] == source)

    def summary_text(self) -> str:
        """The short answer in words."""
        return " ".join(self.summary)


def _nan_in_lists(obj):
    """``None`` inside lists back to NaN (JSON's null); ``None`` as a dict value stays None."""
    if isinstance(obj, dict):
        return {k: (v if v is None else _nan_in_lists(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [math.nan if v is None else _nan_in_lists(v) for v in obj]
    return obj
