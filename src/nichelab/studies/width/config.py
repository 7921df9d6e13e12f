"""Settings of the width study (more units than the task needs)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ...options import Options, option
from ..base import Study
from ..common import SeedOptions, TrainOptions

__all__ = ["DATASETS", "DEFAULT_EPOCHS", "EVAL_RANDOM_STATE", "DIGITS_TEST_FRACTION", "N_SPLITS_4", "WidthConfig",
           "STUDY"]

#: Datasets the study trains on, in report order.
DATASETS = ("blobs", "digits")
#: Training epochs per dataset when ``epochs`` is not given (the lab's 200 on its blobs).
DEFAULT_EPOCHS = {"blobs": 200, "digits": 30}
#: ``make_blobs`` random state of the blobs' evaluation points (the training points use the lab's 30).
EVAL_RANDOM_STATE = 1
#: Ways to cut 4 classes into two non-empty groups: (2**4 - 2) / 2.
N_SPLITS_4 = 7
#: Held-out share of the digits (stratified split, random state 0).
DIGITS_TEST_FRACTION = 0.25


@dataclass
class WidthConfig(TrainOptions, SeedOptions, Options):
    """Networks of growing hidden width on the same task: distinct niches, or redundancy?

    Every field is declared once below (type, default, help, rule); ``nichelab run width`` shows
    them as flags. Each width trains ``seeds`` networks (``first_seed .. first_seed + seeds - 1``)
    at once; training is the lab's (Adam 0.01, batch 32, Glorot) unless changed.
    """

    seeds: int = option(5, help="Seeds per width, all trained at once.", ge=1, le=10_000_000)
    widths: tuple[int, ...] = option((1, 2, 4, 8, 16, 32, 64, 128), ge=1, le=4096,
                                     help="Hidden widths, comma-separated integers >= 1.")
    data: tuple[Literal["blobs", "digits"], ...] = option(
        DATASETS, help="Datasets, comma-separated: blobs (the lab's), digits.")
    epochs: int | None = option(None, ge=1, le=1_000_000,
                                help="Training epochs for every dataset (default: 200 on blobs, 30 on digits).")
    eval_samples: int = option(1000, help="Fresh blob points the blob networks are measured on.",
                               ge=4, le=10_000_000)
    dup_threshold: float = option(0.95, help="Correlation at which two units count as near-duplicates.",
                                  gt=0, le=1)
    ablation_cost: float = option(0.005, help="A unit is frivolous when removing it costs less accuracy "
                                  "than this (fraction).", gt=0, lt=1)

    def check(self) -> None:
        self.widths = tuple(sorted(set(self.widths)))
        self.data = tuple(d for d in DATASETS if d in self.data)

    def epochs_for(self, dataset: str) -> int:
        """Training epochs on ``dataset``: ``epochs``, or the dataset's default when it is None."""
        return self.epochs if self.epochs is not None else DEFAULT_EPOCHS[dataset]


STUDY = Study(
    "width", WidthConfig,
    question="More units than needed: do units keep distinct niches, or do redundant, dead and frivolous "
             "units appear?",
    description="Trains one-hidden-layer ReLU networks of every width (several seeds each, all at once) on the "
                "lab's blobs and on digits, and reports accuracy, dead units, near-duplicate pairs, the distinct "
                "class splits the units implement, the participation ratio and single-unit ablation costs.")
