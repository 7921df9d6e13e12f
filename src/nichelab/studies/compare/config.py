"""Settings of ``nichelab compare A B``."""
from __future__ import annotations

from dataclasses import dataclass

from ...errors import NichelabError, check_positive_int
from ..convergence.config import DISTANCES, MEASURE_LABELS, MEASURES, _fraction, check_measures

__all__ = ["CompareConfig", "CONV_REDUCE", "parse_layer_pairs", "MEASURES", "MEASURE_LABELS", "DISTANCES"]

#: How conv outputs (n, C, H, W) become (n, units): spatial mean or max per channel, or every position.
CONV_REDUCE = ("mean", "max", "flatten")


def parse_layer_pairs(items) -> list[tuple[str, str]]:
    """``["L1", "L2=block.1", "L3,L4"]`` -> ``[("L1", "L1"), ("L2", "block.1"), ("L3", "L3"), ("L4", "L4")]``.

    Each item names a layer of A and B (the same name in both) or ``A_LAYER=B_LAYER``; items may
    hold several comma-separated entries.

    Raises
    ------
    NichelabError
        An empty name.
    """
    out: list[tuple[str, str]] = []
    for item in items or ():
        for entry in str(item).split(","):
            entry = entry.strip()
            if not entry:
                continue
            a, eq, b = entry.partition("=")
            a, b = a.strip(), (b.strip() if eq else a.strip())
            if not a or not b:
                raise NichelabError(f"--layers entries must be LAYER or A_LAYER=B_LAYER; got {entry!r}")
            if (a, b) not in out:
                out.append((a, b))
    return out


@dataclass
class CompareConfig:
    """Compare two networks on the same inputs: layers-by-layers similarity and unit matching.

    Attributes
    ----------
    a, b : str
        A run folder (optionally ``FOLDER#SEED``) or a model file (``.pt2``, ``.pt``,
        ``package.module:factory``); see :mod:`nichelab.studies.compare.sources`.
    data : str, optional
        Dataset (built-in name or path); default: the dataset the run(s) trained on.
    measure : str, default "linear_cka"
        Measure of the layers-by-layers heatmap (one of ``MEASURES``; ``cka`` and ``procrustes``
        are aliases).
    debiased : bool, default False
        Debiased HSIC for CKA measures.
    layers : tuple of str, default ()
        Layers whose units are matched: ``"L1"`` (same name in A and B) or ``"L1=block.0"``;
        default: every layer name the two models share (or, with none shared and equal counts,
        the layers paired in order). They are added to the heatmap if not there already.
    seed_a, seed_b : int, optional
        Seed of a run folder (by value); default its first seed. Same as ``FOLDER#SEED``.
    weights_a, weights_b : str, optional
        ``.safetensors`` weights for a ``package.module:factory`` model.
    trust_pickle : bool, default False
        Allow loading a non-TorchScript ``.pt`` pickle (runs arbitrary code: trusted files only).
    max_samples : int, default 2000
        At most this many samples (a seeded random subset when the data has more).
    sample_seed : int, default 0
        Seed of that subset and of the half/half split for the linear-combination test.
    conv_reduce : {"mean", "max", "flatten"}, default "mean"
        Conv outputs: spatial mean or max per channel, or every position as a unit.
    threshold_high, threshold_low, majority, subspace_high : float
        As in :class:`nichelab.studies.convergence.ConvergenceConfig`.
    threads : int or None, default 1
        BLAS threads during the analysis.
    """

    a: str
    b: str
    data: str | None = None
    measure: str = "linear_cka"
    debiased: bool = False
    layers: tuple[str, ...] = ()
    seed_a: int | None = None
    seed_b: int | None = None
    weights_a: str | None = None
    weights_b: str | None = None
    trust_pickle: bool = False
    max_samples: int = 2000
    sample_seed: int = 0
    conv_reduce: str = "mean"
    threshold_high: float = 0.9
    threshold_low: float = 0.5
    majority: float = 0.5
    subspace_high: float = 0.8
    threads: int | None = 1

    def __post_init__(self) -> None:
        for name in ("a", "b"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                raise NichelabError(f"{name.upper()} must be a run folder or a model file; got {getattr(self, name)!r}")
        if "," in str(self.measure):
            raise NichelabError(f"--measure takes one measure (one of {', '.join(MEASURES)}); got {self.measure!r}")
        self.measure = check_measures([self.measure], "--measure")[0]
        if self.debiased and self.measure not in ("linear_cka", "rbf_cka"):
            raise NichelabError(f"--debiased applies to linear_cka and rbf_cka only; got --measure {self.measure!r}")
        self.layers = tuple(self.layers or ())
        parse_layer_pairs(self.layers)
        check_positive_int("--max-samples", self.max_samples, minimum=4)
        check_positive_int("--sample-seed", self.sample_seed, minimum=0)
        for name in ("seed_a", "seed_b"):
            if getattr(self, name) is not None:
                check_positive_int(f"--{name.replace('_', '-')}", getattr(self, name), minimum=0)
        if self.threads is not None:
            check_positive_int("--threads", self.threads)
        if self.conv_reduce not in CONV_REDUCE:
            raise NichelabError(f"--conv-reduce must be one of {', '.join(CONV_REDUCE)}; got {self.conv_reduce!r}")
        self.threshold_high = _fraction("--threshold-high", self.threshold_high, -1.0)
        self.threshold_low = _fraction("--threshold-low", self.threshold_low, -1.0)
        if self.threshold_low > self.threshold_high:
            raise NichelabError(f"--threshold-low must be <= --threshold-high; got {self.threshold_low} "
                                f"and {self.threshold_high}")
        self.majority = _fraction("--majority", self.majority, 0.0, 1.0, open_lo=True)
        self.subspace_high = _fraction("--subspace-high", self.subspace_high)

    @property
    def layer_pairs(self) -> list[tuple[str, str]]:
        """``layers`` as (layer of A, layer of B) pairs."""
        return parse_layer_pairs(self.layers)
