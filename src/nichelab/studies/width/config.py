"""Settings of the width study (more units than the task needs)."""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from ...errors import NichelabError, check_positive_int, suggest
from ...train.config import TrainConfig

__all__ = ["DATASETS", "WidthConfig"]

DATASETS = ("blobs", "digits")


@dataclass
class WidthConfig:
    """Networks of growing hidden width on the same task: distinct niches, or redundancy?

    Attributes
    ----------
    seeds : int, default 5
        Seeds per width (``first_seed .. first_seed + seeds - 1``), trained at once.
    first_seed : int, default 0
    widths : tuple of int, default (1, 2, 4, 8, 16, 32, 64, 128)
        Hidden ReLU units of the one hidden layer ``L1``.
    data : tuple of str, default ("blobs", "digits")
    blobs_epochs : int, default 200
        The lab's training (Adam 0.01, batch 32) on its 100 points.
    digits_epochs : int, default 30
    eval_samples : int, default 1000
        Fresh points drawn from the lab's blobs (``random_state`` 1) to measure the blob networks
        on; the digits are measured on a held-out quarter of the images (stratified, fixed split).
    dup_threshold : float, default 0.95
        Two live units are near-duplicates when their activations correlate at least this much
        (Pearson r over the evaluation data).
    ablation_cost : float, default 0.005
        A unit is *frivolous* when zeroing it alone costs less than this much accuracy.
    lr, batch_size, optimizer, init
        Training settings (the lab's by default: Adam, 0.01, 32, Glorot).
    """

    seeds: int = 5
    first_seed: int = 0
    widths: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128)
    data: tuple[str, ...] = DATASETS
    blobs_epochs: int = 200
    digits_epochs: int = 30
    eval_samples: int = 1000
    dup_threshold: float = 0.95
    ablation_cost: float = 0.005
    lr: float = 0.01
    batch_size: int = 32
    optimizer: str = "adam"
    init: str = "glorot"

    def __post_init__(self) -> None:
        check_positive_int("--seeds", self.seeds)
        check_positive_int("--first-seed", self.first_seed, minimum=0)
        check_positive_int("--blobs-epochs", self.blobs_epochs)
        check_positive_int("--digits-epochs", self.digits_epochs)
        check_positive_int("--eval-samples", self.eval_samples, minimum=4)
        widths = (self.widths,) if isinstance(self.widths, numbers.Integral) else tuple(self.widths)
        if not widths:
            raise NichelabError("--widths must list at least one width, e.g. 1,2,4; got nothing")
        for w in widths:
            if isinstance(w, bool) or not isinstance(w, numbers.Integral) or w < 1:
                raise NichelabError(f"--widths must be integers >= 1 (hidden units); got {w!r}")
            if w > 4096:
                raise NichelabError(f"--widths must be at most 4096 hidden units; got {w}")
        self.widths = tuple(sorted({int(w) for w in widths}))
        data = (self.data,) if isinstance(self.data, str) else tuple(self.data)
        if not data:
            raise NichelabError(f"--data must name at least one of {', '.join(DATASETS)}; got nothing")
        for d in data:
            if d not in DATASETS:
                raise NichelabError(f"--data must be among {', '.join(DATASETS)}; got {d!r}{suggest(d, DATASETS)}")
        self.data = tuple(d for d in DATASETS if d in data)
        if not (isinstance(self.dup_threshold, numbers.Real) and 0 < self.dup_threshold <= 1):
            raise NichelabError(f"--dup-threshold must be a correlation in (0, 1]; got {self.dup_threshold!r}")
        if not (isinstance(self.ablation_cost, numbers.Real) and math.isfinite(self.ablation_cost)
                and 0 < self.ablation_cost < 1):
            raise NichelabError(f"--ablation-cost must be an accuracy fraction in (0, 1), e.g. 0.005; "
                                f"got {self.ablation_cost!r}")
        if self.init not in ("glorot", "torch"):
            raise NichelabError(f"--init must be one of glorot, torch; got {self.init!r}")
        self.train_config("blobs")   # validates lr, batch size, optimizer

    @property
    def seed_list(self) -> list[int]:
        """The seeds trained at every width."""
        return list(range(self.first_seed, self.first_seed + self.seeds))

    def epochs(self, dataset: str) -> int:
        """Training epochs for ``dataset``."""
        return self.blobs_epochs if dataset == "blobs" else self.digits_epochs

    def train_config(self, dataset: str) -> TrainConfig:
        """Training settings for ``dataset``."""
        return TrainConfig(epochs=self.epochs(dataset), lr=self.lr, batch_size=self.batch_size,
                           optimizer=self.optimizer, init=self.init)
