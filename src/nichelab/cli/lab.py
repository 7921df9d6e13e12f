"""``nichelab run lab``."""
from __future__ import annotations

from typing import Optional

import typer

from . import run_app
from .common import EpochsOption, OutOption, OutPath, SeedsOption


@run_app.command("lab")
def lab(
    seeds: int = SeedsOption(100),
    first_seed: int = typer.Option(0, help="First seed; seeds are first-seed .. first-seed + seeds - 1."),
    hidden: int = typer.Option(2, help="Hidden ReLU units in layer L1."),
    epochs: int = EpochsOption(200),
    lr: float = typer.Option(0.01, help="Learning rate."),
    batch_size: int = typer.Option(32, help="Minibatch size."),
    optimizer: str = typer.Option("adam", help="adam or sgd."),
    init: str = typer.Option("glorot", help="glorot (Keras' default, the lab's) or torch (PyTorch's default Linear init)."),
    samples: int = typer.Option(100, help="Points drawn from the lab's four blobs (make_blobs, random_state 30)."),
    show_seed: Optional[int] = typer.Option(None, help="Seed drawn in detail (default: the first seed)."),
    out: OutPath = OutOption,
) -> None:
    """The multiclass lab: what each of the 2 ReLU hidden units learns, over many seeds.

    Trains Dense(2, ReLU) -> Dense(4) on the lab's four blobs with Adam (lr 0.01, 200 epochs,
    batch 32) for every seed at once, then reports each unit's class split, how often the units
    find distinct niches, duplicate each other or die, and why.
    """
    from ..studies import lab as study
    from ..runs.runner import execute

    cfg = study.LabConfig(seeds=seeds, first_seed=first_seed, hidden=hidden, epochs=epochs, lr=lr,
                          batch_size=batch_size, optimizer=optimizer, init=init, samples=samples,
                          show_seed=show_seed)
    execute("lab", study.run, cfg, out)
