"""Settings of the symmetry study and the list of initial conditions it compares."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ...options import Options, option
from ..base import Study
from ..common import SeedOptions

__all__ = ["DATASETS", "DEFAULT_EPOCHS", "Condition", "SymmetryConfig", "STUDY"]

DATASETS = ("blobs", "digits")
#: Training epochs per dataset when ``epochs`` is not given: the lab's 200 epochs (800 steps) on
#: the blobs; 15 epochs (855 steps) on the digits, where every tie-breaker has split within 2.
DEFAULT_EPOCHS = {"blobs": 200, "digits": 15}


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
    tied : bool
        The units share one parameter vector (:func:`nichelab.nn.tied.tie_units`): identical by
        construction on any hardware, where separate copies can be split by rounding.
    """

    name: str
    label: str
    init: str
    eps: float = 0.0
    dropout: float = 0.0
    hidden: int | None = None
    optimizer: dict = field(default_factory=dict, compare=False)
    tied: bool = False


def eps_name(eps: float) -> str:
    """The condition name of perturbation size ``eps``: ``1e-6 -> "symmetric+eps=1e-06"``."""
    return f"symmetric+eps={eps:.0e}"


@dataclass
class SymmetryConfig(SeedOptions, Options):
    """Identical units under gradient descent: what keeps them identical and what breaks the tie.

    Every field is declared once below (type, default, help, rule); ``nichelab run symmetry``
    shows them as flags. A seed fixes the random weights (which unit the copies copy), the sample
    order, the dropout masks and the perturbation. The blobs also run the symmetric network with
    SGD, SGD with momentum and Adam with weight decay, to show which optimizers keep the tie.
    ``dtype="float64"`` keeps perturbations of 1e-8 from being rounded away (float32 resolves
    about 6e-8 of a weight's size). Separate copies can also be split by rounding alone (when the
    matrix-multiply routine sums identical rows in different orders, which depends on the CPU and
    the precision); the ``tied`` condition shares one parameter vector among the units, so they are
    identical by construction, and the study reports per condition which of the two happened. ``outgoing="copy"`` makes the output H times larger; on digits
    the copied unit was then pushed silent on every image within the first epoch in most seeds,
    after which nothing can break the tie.
    """

    seeds: int = option(5, help="Seeds per condition, all trained at once.", ge=1, le=10_000_000)
    data: tuple[Literal["blobs", "digits"], ...] = option(
        DATASETS, help="Datasets, comma-separated: blobs (the lab's), digits.")
    epochs: int | None = option(
        None, help="Training epochs for every dataset (default: 200 on blobs, 15 on digits).", ge=1, le=1_000_000)
    blobs_hidden: int = option(4, help="Hidden ReLU units on the blobs (>= 2).", ge=2, le=4096)
    digits_hidden: int = option(32, help="Hidden ReLU units on the digits (>= 2).", ge=2, le=4096)
    eps: tuple[float, ...] = option((1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2), gt=0,
                                    help="Perturbation sizes (std of the noise added to every weight), "
                                         "comma-separated, > 0.")
    dropout: float = option(0.1, help="Dropout probability of the symmetric + dropout condition.", gt=0, lt=1)
    split_tol: float = option(0.01, gt=0, help="Units are distinct when further apart than this times the typical "
                                              "initial norm of a unit's incoming weights.")
    lr: float = option(0.01, help="Learning rate.", gt=0)
    batch_size: int = option(32, help="Minibatch size.", ge=1, le=10_000_000)
    optimizer: Literal["adam", "sgd"] = option("adam", help="adam or sgd.")
    dtype: Literal["float64", "float32"] = option(
        "float64", help="Precision of training: float64 resolves perturbations of 1e-8 (float32 only about 6e-8).")
    outgoing: Literal["split", "copy"] = option(
        "split", help="split (each copy sends 1/H of the copied unit's outgoing weights) or copy (full copies).")

    def check(self) -> None:
        self.data = tuple(d for d in DATASETS if d in self.data)      # each once, in the order of DATASETS
        self.eps = tuple(sorted(set(self.eps)))

    def hidden_for(self, dataset: str) -> int:
        """Hidden units for ``dataset``."""
        return self.blobs_hidden if dataset == "blobs" else self.digits_hidden

    def epochs_for(self, dataset: str) -> int:
        """Training epochs for ``dataset`` (``epochs``, else the dataset's default)."""
        return self.epochs if self.epochs is not None else DEFAULT_EPOCHS[dataset]

    def train_config(self, dataset: str, **overrides):
        """The :class:`nichelab.train.config.TrainConfig` for ``dataset`` (every epoch snapshotted; imports torch)."""
        from ...train.config import TrainConfig
        epochs = self.epochs_for(dataset)
        kw = dict(epochs=epochs, lr=self.lr, batch_size=self.batch_size, optimizer=self.optimizer,
                  dtype=self.dtype, snapshot_epochs=tuple(range(epochs + 1)))
        kw.update(overrides)
        return TrainConfig(**kw)

    def conditions(self, dataset: str) -> list[Condition]:
        """The conditions run on ``dataset``, in report order."""
        H = self.hidden_for(dataset)
        out = [Condition("random", f"random init ({H} units)", "random"),
               Condition("symmetric", f"symmetric init ({H} identical units)", "symmetric"),
               Condition("tied", f"tied ({H} units sharing one weight vector)", "symmetric", tied=True),
               Condition("symmetric+dropout", f"symmetric + dropout p={self.dropout:g}", "symmetric",
                         dropout=self.dropout)]
        out += [Condition(eps_name(e), f"symmetric + noise eps={e:.0e}", "symmetric", eps=e) for e in self.eps]
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


STUDY = Study(
    "symmetry", SymmetryConfig,
    question="Why do units differ at all? Identical units under gradient descent, and what breaks the tie.",
    description="Trains networks whose hidden units all start as copies of one unit (plus random, dropout, "
                "perturbed and all-zero starts) on the lab's blobs and on digits, and reports the distance between "
                "units at every step, the accuracy against a one-unit network, and how the time until units split "
                "grows with log(1/eps).")
