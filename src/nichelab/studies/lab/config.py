"""Settings of the multiclass-lab study (defaults reproduce the lab; REFERENCES.md)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ...errors import NichelabError, check_positive_int
from ...nn.init import INIT_SCHEMES
from ...train.config import TrainConfig

__all__ = ["LabConfig", "OUTCOMES"]

#: Outcome of one seed, in the order they are checked.
OUTCOMES = ("distinct", "duplicate", "dead", "other")


@dataclass
class LabConfig:
    """The multiclass lab: Dense(hidden, ReLU) 'L1' -> Dense(4) 'L2', Adam 0.01, 200 epochs, batch 32.

    Attributes
    ----------
    seeds : int, default 100
        Number of seeds trained at once (seeds ``first_seed .. first_seed + seeds - 1``).
    first_seed : int, default 0
    hidden : int, default 2
        Hidden ReLU units in L1.
    epochs : int, default 200
    lr : float, default 0.01
    batch_size : int, default 32
    optimizer : {"adam", "sgd"}, default "adam"
    init : {"glorot", "torch"}, default "glorot"
        ``glorot`` is Keras' default (the lab's); ``torch`` is PyTorch's default Linear init.
    samples : int, default 100
        Points drawn from the lab's four blobs (``make_blobs``, random_state 30).
    show_seed : int, optional
        The seed drawn in detail; defaults to ``first_seed``.
    snapshot_epochs : tuple of int, default (0, 1, 5, 20, 50, 200)
        Moments of training drawn for the shown seed; epochs beyond ``epochs`` are dropped and
        the final epoch is always added.
    """

    seeds: int = 100
    first_seed: int = 0
    hidden: int = 2
    epochs: int = 200
    lr: float = 0.01
    batch_size: int = 32
    optimizer: str = "adam"
    init: str = "glorot"
    samples: int = 100
    show_seed: int | None = None
    snapshot_epochs: tuple[int, ...] = field(default=(0, 1, 5, 20, 50, 200))

    def __post_init__(self) -> None:
        check_positive_int("--seeds", self.seeds)
        check_positive_int("--hidden", self.hidden)
        check_positive_int("--samples", self.samples, minimum=4)
        check_positive_int("--first-seed", self.first_seed, minimum=0)
        if self.init not in INIT_SCHEMES[:2]:
            raise NichelabError(f"--init must be one of glorot, torch; got {self.init!r}")
        self.train_config()  # validates epochs, lr, batch size, optimizer
        self.snapshot_epochs = tuple(sorted({e for e in self.snapshot_epochs if 0 <= e <= self.epochs} | {self.epochs}))
        if self.show_seed is None:
            self.show_seed = self.first_seed
        if not self.first_seed <= self.show_seed < self.first_seed + self.seeds:
            raise NichelabError(
                f"--show-seed must be one of the trained seeds {self.first_seed}..{self.first_seed + self.seeds - 1}; "
                f"got {self.show_seed}"
            )

    @property
    def seed_list(self) -> list[int]:
        """The trained seeds."""
        return list(range(self.first_seed, self.first_seed + self.seeds))

    @property
    def model_spec(self) -> str:
        """The model spec, e.g. ``"mlp 2"``."""
        return f"mlp {self.hidden}"

    def train_config(self) -> TrainConfig:
        """The training settings (snapshots at ``snapshot_epochs`` up to ``epochs``)."""
        return TrainConfig(epochs=self.epochs, lr=self.lr, batch_size=self.batch_size,
                           optimizer=self.optimizer, init=self.init,
                           snapshot_epochs=self.snapshot_epochs)
