"""Training settings shared by the one-seed loop and the many-seed ensemble."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch

from ..errors import NichelabError, check_positive_int, suggest

__all__ = ["TrainConfig", "epoch_orders", "make_optimizer", "OPTIMIZERS", "DTYPES", "threads"]

OPTIMIZERS = ("adam", "sgd")
DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass
class TrainConfig:
    """How to train (the multiclass lab's settings by default).

    Attributes
    ----------
    epochs : int, default 200
        Passes over the training data; 0 leaves the initial weights.
    lr : float, default 0.01
        Learning rate.
    batch_size : int, default 32
        Minibatch size; the last batch of an epoch holds the remainder.
    optimizer : {"adam", "sgd"}, default "adam"
        Adam uses Keras' epsilon 1e-7 and betas (0.9, 0.999).
    momentum : float, default 0.0
        SGD momentum.
    weight_decay : float, default 0.0
        L2 penalty coefficient (PyTorch's ``weight_decay``).
    init : {"glorot", "torch", "zeros"}, default "glorot"
        Initialisation scheme (Keras' default is glorot).
    snapshot_epochs : tuple of int, default ()
        Epochs after which to keep a copy of the weights (0 = the initial weights).
    dtype : {"float32", "float64"}, default "float32"
        Precision of weights and data while training (float64 resolves perturbations far below
        float32's 6e-8 relative resolution, e.g. in the symmetry study).
    """

    epochs: int = 200
    lr: float = 0.01
    batch_size: int = 32
    optimizer: str = "adam"
    momentum: float = 0.0
    weight_decay: float = 0.0
    init: str = "glorot"
    snapshot_epochs: tuple[int, ...] = field(default_factory=tuple)
    dtype: str = "float32"

    def __post_init__(self) -> None:
        check_positive_int("epochs", self.epochs, minimum=0)
        check_positive_int("batch_size", self.batch_size, minimum=1)
        if not (isinstance(self.lr, (int, float)) and self.lr > 0 and np.isfinite(self.lr)):
            raise NichelabError.for_field("lr", "must be a positive number", self.lr)
        if self.optimizer not in OPTIMIZERS:
            raise NichelabError(
                f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {self.optimizer!r}"
                + suggest(self.optimizer, OPTIMIZERS), field="optimizer"
            )
        if self.momentum < 0 or self.weight_decay < 0:
            raise NichelabError("momentum and weight_decay must be >= 0; got "
                                f"momentum={self.momentum}, weight_decay={self.weight_decay}")
        if self.dtype not in DTYPES:
            raise NichelabError(f"dtype must be one of {', '.join(DTYPES)}; got {self.dtype!r}")
        self.snapshot_epochs = tuple(sorted({int(e) for e in self.snapshot_epochs if 0 <= int(e) <= self.epochs}))


    @property
    def torch_dtype(self) -> torch.dtype:
        """``torch.float32`` or ``torch.float64``."""
        return DTYPES[self.dtype]


def epoch_orders(seed: int, n_samples: int, epochs: int) -> np.ndarray:
    """The sample order of every epoch for one seed: (epochs, n_samples) int64.

    Both the one-seed loop and the ensemble use it, so a seed sees the same minibatches in
    both. Drawn from ``np.random.default_rng([seed, 1])`` (independent of the init stream).
    """
    rng = np.random.default_rng([int(seed), 1])
    return rng.permuted(np.tile(np.arange(n_samples), (max(epochs, 0), 1)), axis=1)


def make_optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    """The optimizer of ``cfg`` over ``params``; element-wise, so stacked seeds stay independent."""
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, betas=(0.9, 0.999), eps=1e-7,
                                weight_decay=cfg.weight_decay)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


@contextmanager
def threads(n: int | None) -> Iterator[None]:
    """Run the body with ``n`` torch intra-op threads (None: leave as is), restoring the count after.

    Small tensor operations gain little from splitting over threads, and on a busy machine every
    parallel region can wait a whole scheduler time slice for a descheduled thread: measured on 2
    busy cores, 1000 lab networks trained in 4 s with one thread and in over 100 s with two, and the
    width study's census ran 5 times faster. The trainer's fast path and the symmetry and width
    studies therefore run single-threaded.
    """
    before = torch.get_num_threads()
    if n is not None and n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
