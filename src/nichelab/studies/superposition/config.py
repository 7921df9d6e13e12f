"""Settings of the superposition study: Elhage et al. (2022)'s toy model (REFERENCES.md, "Superposition")."""
from __future__ import annotations

from dataclasses import dataclass

from ...options import Options, option
from ..base import Study
from ..common import SeedOptions

__all__ = ["SuperpositionConfig", "STUDY"]


@dataclass
class SuperpositionConfig(SeedOptions, Options):
    """n sparse features squeezed through m hidden dimensions: x' = ReLU(WᵀW x + b).

    Feature i is 0 with probability ``sparsity``, else uniform in [0, 1], and matters with
    importance ``importance**i`` in the reconstruction loss. Every sparsity level and seed is a
    separate model; all train at once.
    """

    seeds: int = option(3, help="Seeds per sparsity level, all trained at once.", ge=1, le=1000)
    features: int = option(20, help="Input features n (the paper's 20).", ge=2, le=1000)
    hidden: int = option(5, help="Hidden dimensions m (the paper's 5).", ge=1, le=1000)
    sparsity: tuple[float, ...] = option(
        (0.0, 0.7, 0.9, 0.97, 0.99), ge=0, lt=1,
        help="Probabilities S that a feature is 0 in a sample, comma-separated; one model per level and seed.")
    importance: float = option(0.7, help="Feature i counts importance**i in the loss (the paper's 0.7).",
                               gt=0, le=1)
    steps: int = option(4000, help="Training steps (AdamW).", ge=0, le=10_000_000)
    batch_size: int = option(1024, help="Samples per step, drawn fresh each step.", ge=1, le=1_000_000)
    lr: float = option(1e-3, help="AdamW learning rate.", gt=0)
    threshold: float = option(0.5, help="A feature counts as represented when its weight norm ||W_i|| exceeds this.",
                              gt=0)

    def check(self) -> None:
        self.sparsity = tuple(sorted(set(self.sparsity)))


STUDY = Study(
    "superposition", SuperpositionConfig,
    question="Superposition: do hidden dimensions each carry one feature, or several at once?",
    description="Trains Elhage et al. (2022)'s toy model (20 sparse features, 5 hidden dimensions) at several "
                "sparsity levels and measures how many features the dimensions represent and how many share "
                "a direction (polysemantic dimensions).")
