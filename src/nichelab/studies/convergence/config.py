"""Settings of the convergence study (Li et al. 2015; Kornblith et al. 2019; REFERENCES.md,
"Across networks and layers")."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...errors import NichelabError, check_positive_int, suggest
from ...nn.init import INIT_SCHEMES
from ...nn.spec import parse_spec
from ...train.config import TrainConfig

__all__ = ["ConvergenceConfig", "MEASURES", "MEASURE_LABELS", "DISTANCES", "DEFAULT_MEASURES", "check_measures"]

#: Layer-similarity measures the study can use (names of :func:`nichelab.metrics.cka_matrix`).
MEASURES = ("linear_cka", "rbf_cka", "cca", "svcca", "pwcca", "procrustes_distance", "rsa")
#: Measures where a smaller value means more similar.
DISTANCES = frozenset({"procrustes_distance"})
#: The measures computed by default (RSA is left out: it ranks every pair of samples anew for every
#: pair of layers, about 100 ms per pair at n = 540, i.e. a minute for the default run).
DEFAULT_MEASURES = ("linear_cka", "rbf_cka", "cca", "svcca", "pwcca", "procrustes_distance")
MEASURE_LABELS = {
    "linear_cka": "linear CKA", "rbf_cka": "RBF CKA", "cca": "CCA (mean ρ)", "svcca": "SVCCA",
    "pwcca": "PWCCA", "procrustes_distance": "Procrustes distance", "rsa": "RSA",
}
_ALIASES = {"cka": "linear_cka", "procrustes": "procrustes_distance"}


def check_measures(measures, option: str = "--measures") -> tuple[str, ...]:
    """Normalise measure names (``cka`` and ``procrustes`` are accepted as aliases); raise on unknown ones."""
    items = [measures] if isinstance(measures, str) else list(measures)
    names = [m.strip() for item in items for m in str(item).split(",") if m.strip()]
    out = []
    for name in names:
        name = _ALIASES.get(name, name)
        if name not in MEASURES:
            raise NichelabError(f"{option} must be among {', '.join(MEASURES)}; got {name!r}{suggest(name, MEASURES)}")
        if name not in out:
            out.append(name)
    if not out:
        raise NichelabError(f"{option} must name at least one measure; got {measures!r}")
    return tuple(out)


def _fraction(name: str, value, lo: float = 0.0, hi: float = 1.0, open_lo: bool = False,
              open_hi: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)
    ok = ok and (value > lo if open_lo else value >= lo) and (value < hi if open_hi else value <= hi)
    if not ok:
        raise NichelabError(f"{name} must be a number in {'(' if open_lo else '['}{lo:g}, {hi:g}"
                            f"{')' if open_hi else ']'}; got {value!r}")
    return float(value)


@dataclass
class ConvergenceConfig:
    """Several seeds of one network on one dataset, compared unit by unit and layer by layer.

    Attributes
    ----------
    model : str, default "mlp 64-64-64-64"
        Architecture (:func:`nichelab.nn.parse_spec`); every block L1..Ln is compared, the output
        block (logits) included. Conv blocks are averaged over space per channel.
    dataset : str, default "digits"
        A built-in dataset or a path (:func:`nichelab.data.loaders.load_dataset`); a cnn gets images.
    seeds : int, default 5
        Networks trained at once (seeds ``first_seed .. first_seed + seeds - 1``); at least 2.
    first_seed : int, default 0
    epochs : int, default 40
    lr : float, default 0.001
    batch_size : int, default 32
    optimizer : {"adam", "sgd"}, default "adam"
    init : {"glorot", "torch"}, default "glorot"
    test_fraction : float, default 0.3
        Share of every class held out; all similarity and matching is measured on it.
    split_seed : int, default 0
        Seed of the stratified train/test split (the same split for every seed).
    measures : tuple of str, default DEFAULT_MEASURES
        Layer-similarity measures for the heatmaps and the layer-identification test.
    debiased : bool, default False
        Debiased HSIC (Song et al. 2012) for the CKA measures.
    threshold_high : float, default 0.9
        A unit "has a counterpart" in another seed when its one-to-one matched correlation
        (Li et al. 2015) reaches this.
    threshold_low : float, default 0.5
        Below this a unit has "no counterpart".
    majority : float, default 0.5
        A layer holds "the same units" when at least this share of its live units has a
        counterpart (>= threshold_high).
    subspace_high : float, default 0.8
        A layer shares "the same subspace" when the mean linear CKA of that layer across seed
        pairs reaches this.
    threads : int or None, default 1
        BLAS threads during the analysis (None: leave as is). One thread is fastest for these
        small matrices and avoids slow-downs on a busy machine.
    """

    model: str = "mlp 64-64-64-64"
    dataset: str = "digits"
    seeds: int = 5
    first_seed: int = 0
    epochs: int = 40
    lr: float = 0.001
    batch_size: int = 32
    optimizer: str = "adam"
    init: str = "glorot"
    test_fraction: float = 0.3
    split_seed: int = 0
    measures: tuple[str, ...] = field(default=DEFAULT_MEASURES)
    debiased: bool = False
    threshold_high: float = 0.9
    threshold_low: float = 0.5
    majority: float = 0.5
    subspace_high: float = 0.8
    threads: int | None = 1

    def __post_init__(self) -> None:
        check_positive_int("--seeds", self.seeds, minimum=2)
        check_positive_int("--first-seed", self.first_seed, minimum=0)
        check_positive_int("--split-seed", self.split_seed, minimum=0)
        if self.threads is not None:
            check_positive_int("--threads", self.threads)
        self.model = str(parse_spec(self.model))
        if self.init not in INIT_SCHEMES[:2]:
            raise NichelabError(f"--init must be one of glorot, torch; got {self.init!r}")
        _fraction("--test-fraction", self.test_fraction, 0.0, 1.0, open_lo=True, open_hi=True)
        self.measures = check_measures(self.measures)
        if "linear_cka" not in self.measures:
            self.measures = ("linear_cka",) + self.measures  # the verdict and heatmaps need it
        self.threshold_high = _fraction("--threshold-high", self.threshold_high, -1.0)
        self.threshold_low = _fraction("--threshold-low", self.threshold_low, -1.0)
        if self.threshold_low > self.threshold_high:
            raise NichelabError(f"--threshold-low must be <= --threshold-high; got {self.threshold_low} "
                                f"and {self.threshold_high}")
        self.majority = _fraction("--majority", self.majority, 0.0, 1.0, open_lo=True)
        self.subspace_high = _fraction("--subspace-high", self.subspace_high)
        self.train_config()  # validates epochs, lr, batch size, optimizer

    @classmethod
    def quick(cls, **overrides) -> "ConvergenceConfig":
        """A small setting for tests and a first look: 3 seeds, 8 epochs, 16-unit layers."""
        base = dict(seeds=3, epochs=8, model="mlp 16-16", lr=0.003, batch_size=64)
        base.update(overrides)
        return cls(**base)

    @property
    def seed_list(self) -> list[int]:
        """The trained seeds."""
        return list(range(self.first_seed, self.first_seed + self.seeds))

    def train_config(self) -> TrainConfig:
        """Training settings; the initial weights are kept (snapshot 0) as the untrained baseline."""
        return TrainConfig(epochs=self.epochs, lr=self.lr, batch_size=self.batch_size,
                           optimizer=self.optimizer, init=self.init, snapshot_epochs=(0,))
