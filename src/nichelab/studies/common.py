"""Options shared by several studies, declared once (seeds, training settings).

A study's config inherits the groups it needs and may re-declare a field to change its default
or help (the rule stays the one declared here unless it re-declares that too).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..options import option

__all__ = ["SeedOptions", "OptimizerOptions", "TrainOptions", "OPTIMIZERS", "INITS"]

OPTIMIZERS = ("adam", "sgd")
INITS = ("glorot", "torch")


@dataclass
class SeedOptions:
    """``seeds`` and ``first_seed``: the trained seeds are ``first_seed .. first_seed + seeds - 1``."""

    seeds: int = option(5, help="Number of seeds, all trained at once.", ge=1, le=10_000_000)
    first_seed: int = option(0, help="First seed; seeds are first-seed .. first-seed + seeds - 1.",
                             ge=0, le=2**32 - 1 - 10_000_000)

    @property
    def seed_list(self) -> list[int]:
        """The trained seeds."""
        return list(range(self.first_seed, self.first_seed + self.seeds))


@dataclass
class OptimizerOptions:
    """How each step updates the weights: learning rate, batch size, optimizer."""

    lr: float = option(0.01, help="Learning rate.", gt=0)
    batch_size: int = option(32, help="Minibatch size.", ge=1, le=10_000_000)
    optimizer: Literal["adam", "sgd"] = option("adam", help="adam or sgd.")


@dataclass
class TrainOptions(OptimizerOptions):
    """How networks are trained: epochs, the optimizer settings, initialisation."""

    epochs: int = option(200, help="Training epochs (passes over the data).", ge=1, le=1_000_000)
    init: Literal["glorot", "torch"] = option(
        "glorot", help="glorot (Keras' default) or torch (PyTorch's default Linear init).")

    def train_config(self, **overrides):
        """The :class:`nichelab.train.config.TrainConfig` of these settings (imports torch)."""
        from ..train.config import TrainConfig
        kw = dict(epochs=self.epochs, lr=self.lr, batch_size=self.batch_size, optimizer=self.optimizer,
                  init=self.init)
        if hasattr(self, "snapshot_epochs"):
            kw["snapshot_epochs"] = self.snapshot_epochs
        kw.update(overrides)
        return TrainConfig(**kw)
