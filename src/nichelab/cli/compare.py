"""``nichelab compare A B``."""
from __future__ import annotations

from typing import List, Optional

import typer

from . import app
from .common import OutOption, OutPath


@app.command("compare")
def compare(
    a: str = typer.Argument(..., help="Network A: a run folder (RUN or RUN#SEED) or a model file (.pt2, .pt, "
                                      "package.module:factory).", show_default=False),
    b: str = typer.Argument(..., help="Network B, as A.", show_default=False),
    data: Optional[str] = typer.Option(None, "--data", help="Inputs both networks see: a built-in dataset (digits, "
                                       "digits-images, blobs, ...) or a .npz/.csv file; default: the run's dataset."),
    measure: str = typer.Option("linear_cka", "--measure", help="Measure of the layers-by-layers heatmap: linear_cka, "
                                "rbf_cka, cca, svcca, pwcca, procrustes_distance, rsa."),
    debiased: bool = typer.Option(False, "--debiased", help="Debiased HSIC for linear_cka / rbf_cka."),
    layers: Optional[List[str]] = typer.Option(None, "--layers", help="Layers whose units are matched: NAME (same in A "
                                               "and B) or A_NAME=B_NAME; repeat or comma-separate. Default: the layer "
                                               "names A and B share.", show_default=False),
    seed_a: Optional[int] = typer.Option(None, "--seed-a", help="Seed of run folder A (default: its first); same as A#SEED."),
    seed_b: Optional[int] = typer.Option(None, "--seed-b", help="Seed of run folder B (default: its first); same as B#SEED."),
    weights_a: Optional[str] = typer.Option(None, "--weights-a", help=".safetensors weights for a factory model A."),
    weights_b: Optional[str] = typer.Option(None, "--weights-b", help=".safetensors weights for a factory model B."),
    trust_pickle: bool = typer.Option(False, "--trust-pickle", help="Allow pickled .pt models (runs arbitrary code: "
                                      "trusted files only)."),
    max_samples: int = typer.Option(2000, "--max-samples", help="Use at most this many samples (seeded random subset)."),
    sample_seed: int = typer.Option(0, "--sample-seed", help="Seed of the subset and of the half/half split."),
    conv_reduce: str = typer.Option("mean", "--conv-reduce", help="Conv outputs: mean or max over space per channel, "
                                    "or flatten (every position a unit)."),
    threshold_high: float = typer.Option(0.9, help="Matched correlation at which a unit 'has a counterpart'."),
    threshold_low: float = typer.Option(0.5, help="Matched correlation below which a unit has 'no counterpart'."),
    out: OutPath = OutOption,
) -> None:
    """Compare two networks on the same data: same units, or only the same subspace?

    Writes a report folder (report.html, results.json) with the layers-by-layers similarity heatmap
    and the unit matching (Li et al. 2015) of the chosen layers. A and B are run folders written by
    `nichelab run` (pick a seed with RUN#SEED or --seed-a/--seed-b; default the first seed) or
    model files. Example: nichelab compare runs/conv#0 runs/conv#1 --layers L1,L2
    """
    from ..studies import compare as study
    from ..runs.runner import execute

    cfg = study.CompareConfig(a=a, b=b, data=data, measure=measure, debiased=debiased, layers=tuple(layers or ()),
                              seed_a=seed_a, seed_b=seed_b, weights_a=weights_a, weights_b=weights_b,
                              trust_pickle=trust_pickle, max_samples=max_samples, sample_seed=sample_seed,
                              conv_reduce=conv_reduce, threshold_high=threshold_high, threshold_low=threshold_low)
    execute("compare", study.run, cfg, out)
