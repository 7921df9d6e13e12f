"""``nichelab run convergence``."""
from __future__ import annotations

import typer

from . import run_app
from .common import EpochsOption, OutOption, OutPath, SeedsOption


@run_app.command("convergence")
def convergence(
    model: str = typer.Option("mlp 64-64-64-64", "--model",
                              help="Architecture, e.g. 'mlp 64-64-64-64' or 'cnn 8-16 fc=32'; every block is compared, "
                                   "the output (logits) included."),
    dataset: str = typer.Option("digits", "--dataset",
                                help="Built-in dataset (digits, blobs, faces, parts) or a .npz/.csv file or image folder."),
    seeds: int = SeedsOption(5, "Number of seeds (networks) trained at once and compared pairwise; at least 2."),
    first_seed: int = typer.Option(0, help="First seed; seeds are first-seed .. first-seed + seeds - 1."),
    epochs: int = EpochsOption(40),
    lr: float = typer.Option(0.001, help="Learning rate."),
    batch_size: int = typer.Option(32, help="Minibatch size."),
    optimizer: str = typer.Option("adam", help="adam or sgd."),
    init: str = typer.Option("glorot", help="glorot (Keras' default) or torch (PyTorch's default Linear init)."),
    test_fraction: float = typer.Option(0.3, help="Share of every class held out; all measurements use it."),
    split_seed: int = typer.Option(0, help="Seed of the train/test split (the same for every network)."),
    measures: str = typer.Option(
        "linear_cka,rbf_cka,cca,svcca,pwcca,procrustes_distance", "--measures",
        help="Comma-separated layer-similarity measures: linear_cka, rbf_cka, cca, svcca, pwcca, "
             "procrustes_distance, rsa (slow). linear_cka is always included."),
    debiased: bool = typer.Option(False, "--debiased", help="Debiased HSIC for the CKA measures (Song et al. 2012)."),
    threshold_high: float = typer.Option(0.9, help="Matched correlation at which a unit 'has a counterpart'."),
    threshold_low: float = typer.Option(0.5, help="Matched correlation below which a unit has 'no counterpart'."),
    out: OutPath = OutOption,
) -> None:
    """Do networks from different seeds learn the same units, or only the same subspace?

    Trains several seeds of one network on digits (default 5 seeds of mlp 64-64-64-64, 40 epochs)
    and, on held-out samples, reports per layer: how well each unit matches a unit of another seed
    (Li et al. 2015), CKA / SVCCA / PWCCA between all layers of all seed pairs, how often each
    measure finds the corresponding layer of another seed (Kornblith et al. 2019, table 2), and a
    verdict in words computed from the numbers.
    """
    from ..studies import convergence as study
    from ..runs.runner import execute

    cfg = study.ConvergenceConfig(model=model, dataset=dataset, seeds=seeds, first_seed=first_seed, epochs=epochs,
                                  lr=lr, batch_size=batch_size, optimizer=optimizer, init=init,
                                  test_fraction=test_fraction, split_seed=split_seed, measures=measures,
                                  debiased=debiased, threshold_high=threshold_high, threshold_low=threshold_low)
    execute("convergence", study.run, cfg, out)
