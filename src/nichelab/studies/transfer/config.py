"""Settings of the transfer study (Yosinski et al. 2014 at small scale; REFERENCES.md, "Transfer")."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...data.tasks import parse_task
from ...errors import NichelabError, check_positive_int
from ...nn.init import INIT_SCHEMES
from ...nn.spec import parse_spec
from ...train.config import TrainConfig

__all__ = ["TransferConfig", "INIT_OFFSET"]

#: The fresh (re-initialised) layers of every transfer cell of seed s start from init seed
#: ``INIT_OFFSET + s``: the same values in every condition and cut (a paired design), and
#: independent of the base networks' initialisation (seed s).
INIT_OFFSET = 100_000


@dataclass
class TransferConfig:
    """The layer-by-layer transfer experiment on a target task B, from one or more source tasks A.

    Attributes
    ----------
    sources : tuple of str, default ("digits:0-4", "parts")
        Source tasks A (see :func:`nichelab.data.tasks.parse_task`). A source from the target's
        own image source makes a *similar* pair (it must not share a class with the target);
        another source makes a *dissimilar* pair.
    target : str, default "digits:5-9"
        Target task B.
    target_fraction : float, default 1.0
        Share of B's training set used (stratified), in (0, 1]. Small shares are where
        transfer matters most; B's test set is always whole.
    models : tuple of str, default ("mlp 64-64-64", "cnn 16-32 fc=64")
        Architectures (``nichelab.nn`` specs); each has blocks L1..LL and cuts n = 1..L-1.
    seeds : int, default 3
        Seeds per cell; all cells sharing a set of frozen blocks train at once.
    first_seed : int, default 0
    epochs : int, default 20
        Epochs of every training (base networks and transfer cells alike).
    lr : float, default 0.002
    batch_size : int, default 64
    optimizer : {"adam", "sgd"}, default "adam"
    init : {"glorot", "torch"}, default "glorot"
    test_fraction : float, default 0.3
        Share of every task held out for testing (stratified).
    split_seed : int, default 0
        Seed of the train/test splits, of the target subsample and of the parts images.
    size : int, optional
        Common image side for all tasks (default: the target's own, 8 for digits).
    parts_per_class : int, default 300
        Images per class generated when a task uses the parts images.
    margin : float, default 0.02
        Accuracy difference (as a fraction, 0.02 = 2 percentage points) below which the
        findings call two conditions equal.
    threads : int or None, default 1
        Torch intra-op threads while the study runs (restored afterwards); one thread is
        fastest for these small models (see benchmarks/bench_transfer.py). None keeps
        torch's setting.
    """

    sources: tuple[str, ...] = ("digits:0-4", "parts")
    target: str = "digits:5-9"
    target_fraction: float = 1.0
    models: tuple[str, ...] = ("mlp 64-64-64", "cnn 16-32 fc=64")
    seeds: int = 3
    first_seed: int = 0
    epochs: int = 20
    lr: float = 0.002
    batch_size: int = 64
    optimizer: str = "adam"
    init: str = "glorot"
    test_fraction: float = 0.3
    split_seed: int = 0
    size: int | None = None
    parts_per_class: int = 300
    margin: float = 0.02
    threads: int | None = 1

    def __post_init__(self) -> None:
        self.sources = (self.sources,) if isinstance(self.sources, str) else tuple(self.sources)
        self.models = (self.models,) if isinstance(self.models, str) else tuple(self.models)
        check_positive_int("--seeds", self.seeds)
        check_positive_int("--first-seed", self.first_seed, minimum=0)
        check_positive_int("--split-seed", self.split_seed, minimum=0)
        check_positive_int("--parts-per-class", self.parts_per_class, minimum=2)
        if self.threads is not None:
            check_positive_int("--threads", self.threads)
        if self.size is not None:
            check_positive_int("--size", self.size, minimum=4)
        if self.init not in INIT_SCHEMES[:2]:
            raise NichelabError(f"--init must be one of glorot, torch; got {self.init!r}")
        if not self.models:
            raise NichelabError("--model must name at least one architecture; got none")
        for m in self.models:
            spec = parse_spec(m)
            if len(spec.widths) + len(spec.fc) < 2:
                raise NichelabError(f"--model {m!r} needs at least 2 hidden layers so that there are cuts "
                                    f"between blocks to compare (e.g. 'mlp 64-64-64')")
        if len({str(parse_spec(m)) for m in self.models}) != len(self.models):
            raise NichelabError(f"--model architectures must differ; got {list(self.models)}")
        if not (isinstance(self.margin, (int, float)) and np.isfinite(self.margin) and 0 <= self.margin < 1):
            raise NichelabError(f"--margin must be a number in [0, 1) (a fraction: 0.02 = 2 points); got {self.margin!r}")
        if not self.sources:
            raise NichelabError("--source must name at least one source task; got none")
        for s in self.sources:
            parse_task(s)
        parse_task(self.target)
        frac = self.target_fraction
        if not (isinstance(frac, (int, float)) and np.isfinite(frac) and 0 < frac <= 1):
            raise NichelabError(f"--target-fraction must be a number in (0, 1]; got {frac!r}")
        if not (isinstance(self.test_fraction, (int, float)) and 0 < self.test_fraction < 1):
            raise NichelabError(f"--test-fraction must be a number in (0, 1); got {self.test_fraction!r}")
        self.train_config()  # validates epochs, lr, batch size, optimizer

    @classmethod
    def quick(cls, **overrides) -> "TransferConfig":
        """A small setting for tests and a first look: 2 seeds, 8 epochs, small MLP and CNN."""
        base = dict(seeds=2, epochs=8, models=("mlp 16-16-16", "cnn 4-8 fc=16"), parts_per_class=60,
                    batch_size=64, lr=0.003)
        base.update(overrides)
        return cls(**base)

    @property
    def seed_list(self) -> list[int]:
        """The seeds of every cell."""
        return list(range(self.first_seed, self.first_seed + self.seeds))

    def train_config(self) -> TrainConfig:
        """The training settings shared by base networks and transfer cells."""
        return TrainConfig(epochs=self.epochs, lr=self.lr, batch_size=self.batch_size,
                           optimizer=self.optimizer, init=self.init)
