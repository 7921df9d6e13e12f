"""Settings of ``nichelab compare A B``."""
from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import Literal

from ...errors import NichelabError
from ...options import Options, option
from ..base import Study
from ..convergence.agreement import AgreementOptions
from ...metrics.registry import CKA_MEASURES, MEASURE_CHOICES, canonical, measures_help

__all__ = ["CompareConfig", "CONV_REDUCE", "parse_layer_pairs", "STUDY"]

#: How conv outputs (n, C, H, W) become (n, units): spatial mean or max per channel, or every position.
CONV_REDUCE = ("mean", "max", "flatten")


def parse_layer_pairs(items) -> list[tuple[str, str]]:
    """``["L1", "L2=block.1", "L3,L4"]`` -> ``[("L1", "L1"), ("L2", "block.1"), ("L3", "L3"), ("L4", "L4")]``.

    Each item names a layer of A and B (the same name in both) or ``A_LAYER=B_LAYER``; items may
    hold several comma-separated entries.

    Raises
    ------
    NichelabError
        An empty name (about field ``layers``).
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
                raise NichelabError.for_field("layers", "entries must be LAYER or A_LAYER=B_LAYER", entry)
            if (a, b) not in out:
                out.append((a, b))
    return out


@dataclass
class CompareConfig(AgreementOptions, Options):
    """Compare two networks on the same inputs: layers-by-layers similarity and unit matching.

    ``a`` and ``b`` are run folders (``FOLDER#SEED``), model files (``.pt2``, ``.pt``,
    ``package.module:factory``) or, in the library, ``torch.nn.Module`` objects; ``data`` is a
    dataset name or path or, in the library, an array of inputs or an ``(X, y)`` tuple. The
    thresholds are those of :class:`~nichelab.studies.convergence.agreement.AgreementOptions`.

    Example
    -------
    >>> CompareConfig(a=model_a, b=model_b, data=(X, y))          # doctest: +SKIP
    """

    _: KW_ONLY
    a: str = option(help="Network A: a run folder (RUN or RUN#SEED) or a model file (.pt2, .pt, "
                         "package.module:factory); in the library also an nn.Module.", objects=True)
    b: str = option(help="Network B, as A.", objects=True)
    data: str | None = option(None, help="Inputs both networks see: a built-in dataset (digits, digits-images, "
                                         "blobs, ...) or a .npz/.csv file; default: the run's dataset. In the "
                                         "library also an array of inputs or an (X, y) tuple.", objects=True)
    measure: Literal[MEASURE_CHOICES] = option(
        "linear_cka", help=f"Measure of the layers-by-layers heatmap: {measures_help()}.")
    debiased: bool = option(False, help=f"Debiased HSIC for {' / '.join(CKA_MEASURES)}.")
    layers: tuple[str, ...] = option((), min_items=0,
                                     help="Layers whose units are matched, comma-separated: NAME (same in A and "
                                          "B) or A_NAME=B_NAME. Default: the layer names A and B share.")
    seed_a: int | None = option(None, help="Seed of run folder A (default: its first); same as A#SEED.", ge=0)
    seed_b: int | None = option(None, help="Seed of run folder B (default: its first); same as B#SEED.", ge=0)
    weights_a: str | None = option(None, help=".safetensors weights for a factory model A.")
    weights_b: str | None = option(None, help=".safetensors weights for a factory model B.")
    trust_pickle: bool = option(False, help="Allow pickled .pt models (runs arbitrary code: trusted files only).")
    max_samples: int = option(2000, help="Use at most this many samples (seeded random subset).", ge=4)
    sample_seed: int = option(0, help="Seed of the subset and of the half/half split.", ge=0)
    conv_reduce: Literal[CONV_REDUCE] = option(
        "mean", help="Conv outputs: mean or max over space per channel, or flatten (every position a unit).")

    def check(self) -> None:
        self.measure = canonical([self.measure])[0]
        if self.debiased and self.measure not in CKA_MEASURES:
            raise self.field_error("debiased", f"applies to {' and '.join(CKA_MEASURES)} only (measure is "
                                   f"{self.measure!r})", self.debiased)
        parse_layer_pairs(self.layers)
        self.check_thresholds()

    @property
    def layer_pairs(self) -> list[tuple[str, str]]:
        """``layers`` as (layer of A, layer of B) pairs."""
        return parse_layer_pairs(self.layers)


STUDY = Study(
    "compare", CompareConfig,
    question="Compare two networks on the same data: same units, or only the same subspace?",
    description="Writes a report folder (report.html, results.json) with the layers-by-layers similarity heatmap "
                "and the unit matching (Li et al. 2015) of the chosen layers. A and B are run folders written by "
                "`nichelab run` (pick a seed with RUN#SEED or the seed-a / seed-b options; default the first seed) or "
                "model files. Example: nichelab compare runs/conv#0 runs/conv#1",
    command="top", arguments=("a", "b"))
