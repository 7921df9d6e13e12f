"""Settings of the multiclass-lab study (defaults reproduce the lab; REFERENCES.md)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ...options import Options, option
from ..base import Study
from ..common import SeedOptions, TrainOptions

__all__ = ["LabConfig", "OUTCOMES", "DIVERGED", "ALL_OUTCOMES", "STUDY"]

#: Outcome of one trained seed, in the order they are checked.
OUTCOMES = ("distinct", "duplicate", "dead", "other")
#: Outcome of a seed whose training blew up (:mod:`nichelab.train.divergence`); left out of the others.
DIVERGED = "diverged"
ALL_OUTCOMES = OUTCOMES + (DIVERGED,)


@dataclass
class LabConfig(TrainOptions, SeedOptions, Options):
    """The multiclass lab: Dense(hidden, ReLU) 'L1' -> Dense(4) 'L2', Adam 0.01, 200 epochs, batch 32.

    Every field is declared once below (type, default, help, rule); ``nichelab run lab`` shows
    them as flags. Seeds are ``first_seed .. first_seed + seeds - 1``.
    """

    seeds: int = option(100, help="Number of seeds, all trained at once.", ge=1, le=10_000_000)
    hidden: int = option(2, help="Hidden ReLU units in layer L1.", ge=1, le=4096)
    init: Literal["glorot", "torch"] = option(
        "glorot", help="glorot (Keras' default, the lab's) or torch (PyTorch's default Linear init).")
    samples: int = option(100, help="Points drawn from the lab's four blobs (make_blobs, random_state 30).",
                          ge=4, le=10_000_000)
    show_seed: int | None = option(None, help="Seed drawn in detail (default: the first seed that ends distinct after its units' splits "
                                      "changed during training, else the first seed); one of the trained seeds.",
                                  ge=0, le=2**32 - 1)
    exclusion_restarts: int = option(
        200, ge=0, le=100_000,
        help="Niche exclusion: restarts of unit 1 next to a frozen trained unit 0 (2 hidden units only; 0 skips it).")
    snapshot_epochs: tuple[int, ...] = option(
        (0, 1, 5, 20, 50, 200), ge=0, cli=False,
        help="Moments of training drawn for the shown seed (epochs beyond --epochs are dropped; the last is added).")

    def check(self) -> None:
        snaps = {e for e in self.snapshot_epochs if e <= self.epochs} | {self.epochs}
        self.snapshot_epochs = tuple(sorted(snaps))
        if self.show_seed is None:
            # not a field: the run may replace it by a seed whose splits change during training
            self._auto_show = True
            self.show_seed = self.first_seed
        if not self.first_seed <= self.show_seed < self.first_seed + self.seeds:
            raise self.field_error("show_seed", f"must be one of the trained seeds {self.first_seed}.."
                                   f"{self.first_seed + self.seeds - 1}", self.show_seed)

    @property
    def model_spec(self) -> str:
        """The model spec, e.g. ``"mlp 2"``."""
        return f"mlp {self.hidden}"


STUDY = Study(
    "lab", LabConfig,
    question="The multiclass lab: what each ReLU hidden unit learns, over many seeds.",
    description="Trains Dense(2, ReLU) -> Dense(4) on the lab's four blobs with Adam (lr 0.01, 200 epochs, "
                "batch 32) for every seed at once, then reports each unit's class split, how often the units "
                "find distinct niches, duplicate each other or die, and why.")
