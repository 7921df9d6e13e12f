"""Settings of the convergence study (Li et al. 2015; Kornblith et al. 2019; REFERENCES.md,
"Across networks and layers")."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ...options import Options, option
from ..base import Study
from ..common import SeedOptions, TrainOptions
from .agreement import AgreementOptions
from .measures import DEFAULT_MEASURES, MEASURE_CHOICES, canonical, measures_help

__all__ = ["ConvergenceConfig", "STUDY"]

Measure = Literal[MEASURE_CHOICES]


@dataclass
class ConvergenceConfig(TrainOptions, SeedOptions, AgreementOptions, Options):
    """Several seeds of one network on one dataset, compared unit by unit and layer by layer.

    Every field is declared once below (type, default, help, rule); ``nichelab run convergence``
    shows them as flags. Seeds are ``first_seed .. first_seed + seeds - 1``; the thresholds are
    those of :class:`~nichelab.studies.convergence.agreement.AgreementOptions`.
    """

    model: str = option("mlp 64-64-64-64", help="Architecture, e.g. 'mlp 64-64-64-64' or 'cnn 8-16 fc=32'; every "
                                                 "block is compared, the output (logits) included.")
    dataset: str = option("digits", help="Built-in dataset (digits, blobs, faces, parts) or a .npz/.csv file or "
                                         "image folder.")
    seeds: int = option(5, help="Number of seeds (networks) trained at once and compared pairwise; at least 2.",
                        ge=2, le=10_000)
    epochs: int = option(40, help="Training epochs (passes over the data).", ge=1, le=1_000_000)
    lr: float = option(0.001, help="Learning rate.", gt=0)
    test_fraction: float = option(0.3, help="Share of every class held out; all measurements use it.", gt=0, lt=1)
    split_seed: int = option(0, help="Seed of the train/test split (the same for every network).", ge=0)
    measures: tuple[Measure, ...] = option(
        DEFAULT_MEASURES, help=f"Comma-separated layer-similarity measures: {measures_help()}. "
                               "linear_cka is always included.")
    debiased: bool = option(False, help="Debiased HSIC for the CKA measures (Song et al. 2012).")

    def check(self) -> None:
        self.check_thresholds()
        measures = canonical(self.measures)
        if "linear_cka" not in measures:
            measures = ("linear_cka",) + measures  # the verdict and heatmaps need it
        self.measures = measures

    @classmethod
    def quick(cls, **overrides) -> "ConvergenceConfig":
        """A small setting for tests and a first look: 3 seeds, 8 epochs, 16-unit layers."""
        base = dict(seeds=3, epochs=8, model="mlp 16-16", lr=0.003, batch_size=64)
        base.update(overrides)
        return cls(**base)

    def train_config(self, **overrides):
        """Training settings; the initial weights are kept (snapshot 0) as the untrained baseline."""
        return super().train_config(snapshot_epochs=(0,), **overrides)


STUDY = Study(
    "convergence", ConvergenceConfig,
    question="Do networks from different seeds learn the same units, or only the same subspace?",
    description="Trains several seeds of one network on digits (default 5 seeds of mlp 64-64-64-64, 40 epochs) "
                "and, on held-out samples, reports per layer: how well each unit matches a unit of another seed "
                "(Li et al. 2015), CKA / SVCCA / PWCCA between all layers of all seed pairs, how often each "
                "measure finds the corresponding layer of another seed (Kornblith et al. 2019, table 2), and a "
                "verdict in words computed from the numbers.")
