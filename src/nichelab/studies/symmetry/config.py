"""Settings of the symmetry study and the list of initial conditions it compares."""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

from ...errors import NichelabError, check_positive_int, suggest
from ...train.config import TrainConfig

__all__ = ["DATASETS", "Condition", "SymmetryConfig"]

DATASETS = ("blobs", "digits")


@dataclass(frozen=True)
class Condition:
    """One way to start (and train) the network.

    Attributes
    ----------
    name : str
        Key used in results.json, e.g. ``"symmetric+eps=1e-06"``.
    label : str
        Words for the report.
    init : {"random", "symmetric", "zeros", "alone"}
        ``alone``: a one-unit network made of the unit the symmetric network copies (its incoming
        weights, bias and outgoing weights), i.e. the symmetric network's starting function.
    eps : float
        Size of the Gaussian perturbation added after a symmetric initialisation (0 = none).
    dropout : float
        Dropout probability after the hidden layer while training.
    hidden : int or None
        Hidden units; None = the dataset's width (1 for the one-unit reference).
    optimizer : dict
        Overrides of the training settings (optimizer checks), empty for the main optimizer.
    """

    name: str
    label: str
    init: str
    eps: float = 0.0
    dropout: float = 0.0
    hidden: int | None = None
    optimizer: dict = field(default_factory=dict, compare=False)


def _eps_name(eps: float) -> str:
    return f"symmetric+eps={eps:.0e}"


@dataclass
class SymmetryConfig:
    """Identical units under gradient descent: what keeps them identical and what breaks the tie.

    Attributes
    ----------
    seeds : int, default 5
        Seeds per condition (``first_seed .. first_seed + seeds - 1``); a seed fixes the random
        weights (which unit 0 copies), the sample order, the dropout masks and the perturbation.
    first_seed : int, default 0
    data : tuple of str, default ("blobs", "digits")
        Datasets: the lab's four blobs (100 points) and scikit-learn's digits (1797 images).
    blobs_hidden : int, default 4
        Hidden ReLU units for the blobs (at least 2).
    digits_hidden : int, default 32
        Hidden ReLU units for the digits.
    blobs_epochs : int, default 200
        The lab's 200 epochs (800 steps).
    digits_epochs : int, default 15
        15 epochs (855 steps): every tie-breaker has split within 2 epochs.
    eps : tuple of float, default (1e-8, 1e-7, ..., 1e-2)
        Perturbation sizes: standard deviation of the Gaussian noise added to every weight and
        bias after the symmetric initialisation.
    dropout : float, default 0.1
        Dropout probability of the "symmetric + dropout" condition.
    split_tol : float, default 0.01
        Units count as split (distinct) when their incoming vectors are further apart than
        ``split_tol`` times the typical initial norm of an incoming vector (the mean norm over the
        units of the randomly initialised network of the same seed).
    lr : float, default 0.01
    batch_size : int, default 32
    optimizer : {"adam", "sgd"}, default "adam"
        The lab's Adam. The blobs also run the symmetric network with SGD, SGD with momentum and
        Adam with weight decay to show which optimizers keep the tie.
    dtype : {"float64", "float32"}, default "float64"
        float64 so that perturbations of 1e-8 are not rounded away (float32 resolves about 6e-8
        of a weight's size).
    outgoing : {"split", "copy"}, default "split"
        How the copies share the copied unit's outgoing weights (see
        :func:`nichelab.nn.init.make_symmetric`). ``split`` (each copy sends 1/H of them) starts
        the symmetric network as exactly the one-unit network of the copied unit. ``copy`` makes
        the output H times larger; on digits the copied unit was then pushed silent on every image
        within the first epoch in most seeds, after which nothing can break the tie.
    """

    seeds: int = 5
    first_seed: int = 0
    data: tuple[str, ...] = DATASETS
    blobs_hidden: int = 4
    digits_hidden: int = 32
    blobs_epochs: int = 200
    digits_epochs: int = 15
    eps: tuple[float, ...] = (1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2)
    dropout: float = 0.1
    split_tol: float = 0.01
    lr: float = 0.01
    batch_size: int = 32
    optimizer: str = "adam"
    dtype: str = "float64"
    outgoing: str = "split"

    def __post_init__(self) -> None:
        check_positive_int("--seeds", self.seeds)
        check_positive_int("--first-seed", self.first_seed, minimum=0)
        check_positive_int("--blobs-hidden", self.blobs_hidden, minimum=2)
        check_positive_int("--digits-hidden", self.digits_hidden, minimum=2)
        check_positive_int("--blobs-epochs", self.blobs_epochs)
        check_positive_int("--digits-epochs", self.digits_epochs)
        data = tuple(self.data) if not isinstance(self.data, str) else (self.data,)
        if not data:
            raise NichelabError(f"--data must name at least one of {', '.join(DATASETS)}; got nothing")
        for d in data:
            if d not in DATASETS:
                raise NichelabError(f"--data must be among {', '.join(DATASETS)}; got {d!r}{suggest(d, DATASETS)}")
        self.data = tuple(d for d in DATASETS if d in data)
        eps = tuple(self.eps) if not isinstance(self.eps, numbers.Real) else (self.eps,)
        for e in eps:
            if isinstance(e, bool) or not isinstance(e, numbers.Real) or not math.isfinite(e) or e <= 0:
                raise NichelabError(f"--eps must be positive numbers (perturbation sizes, e.g. 1e-8,1e-4); got {e!r}")
        self.eps = tuple(sorted({float(e) for e in eps}))
        if not (isinstance(self.dropout, numbers.Real) and 0 < self.dropout < 1):
            raise NichelabError(f"--dropout must be a probability in (0, 1); got {self.dropout!r}")
        if not (isinstance(self.split_tol, numbers.Real) and math.isfinite(self.split_tol) and self.split_tol > 0):
            raise NichelabError(f"--split-tol must be a positive number; got {self.split_tol!r}")
        if self.outgoing not in ("split", "copy"):
            raise NichelabError(f"--outgoing must be 'split' or 'copy'; got {self.outgoing!r}")
        self.train_config("blobs")   # validates lr, batch size, optimizer, dtype

    @property
    def seed_list(self) -> list[int]:
        """The seeds of every condition."""
        return list(range(self.first_seed, self.first_seed + self.seeds))

    def hidden(self, dataset: str) -> int:
        """Hidden units for ``dataset``."""
        return self.blobs_hidden if dataset == "blobs" else self.digits_hidden

    def epochs(self, dataset: str) -> int:
        """Training epochs for ``dataset``."""
        return self.blobs_epochs if dataset == "blobs" else self.digits_epochs

    def train_config(self, dataset: str, **overrides) -> TrainConfig:
        """Training settings for ``dataset`` (every epoch snapshotted), with optional overrides."""
        kw = dict(epochs=self.epochs(dataset), lr=self.lr, batch_size=self.batch_size, optimizer=self.optimizer,
                  dtype=self.dtype, snapshot_epochs=tuple(range(self.epochs(dataset) + 1)))
        kw.update(overrides)
        return TrainConfig(**kw)

    def conditions(self, dataset: str) -> list[Condition]:
        """The conditions run on ``dataset``, in report order."""
        H = self.hidden(dataset)
        out = [Condition("random", f"random init ({H} units)", "random"),
               Condition("symmetric", f"symmetric init ({H} identical units)", "symmetric"),
               Condition("symmetric+dropout", f"symmetric + dropout p={self.dropout:g}", "symmetric",
                         dropout=self.dropout)]
        out += [Condition(_eps_name(e), f"symmetric + noise eps={e:.0e}", "symmetric", eps=e) for e in self.eps]
        out += [Condition("zeros", "all-zero init", "zeros"),
                Condition("one unit", "one hidden unit (the copied unit alone)", "alone", hidden=1)]
        if dataset == "blobs":
            out += [Condition("symmetric, sgd", "symmetric, SGD lr 0.1", "symmetric",
                              optimizer=dict(optimizer="sgd", lr=0.1)),
                    Condition("symmetric, sgd+momentum", "symmetric, SGD lr 0.05 + momentum 0.9", "symmetric",
                              optimizer=dict(optimizer="sgd", lr=0.05, momentum=0.9)),
                    Condition("symmetric, adam+weight decay", "symmetric, Adam + weight decay 1e-3", "symmetric",
                              optimizer=dict(optimizer="adam", lr=self.lr, weight_decay=1e-3))]
        return out
