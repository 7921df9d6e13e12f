"""``nichelab run width``."""
from __future__ import annotations

from typing import Optional

import typer

from ..errors import check_positive_int
from . import run_app
from .common import OutOption, OutPath, SeedsOption
from .symmetry import parse_list


@run_app.command("width")
def width(
    seeds: int = SeedsOption(5, "Seeds per width, all trained at once."),
    first_seed: int = typer.Option(0, help="First seed; seeds are first-seed .. first-seed + seeds - 1."),
    widths: str = typer.Option("1,2,4,8,16,32,64,128", help="Hidden widths, comma-separated integers >= 1."),
    data: str = typer.Option("blobs,digits", help="Datasets, comma-separated: blobs (the lab's), digits."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Training epochs for every dataset "
                                         "(default: 200 on blobs, 30 on digits)."),
    eval_samples: int = typer.Option(1000, help="Fresh blob points the blob networks are measured on."),
    dup_threshold: float = typer.Option(0.95, help="Correlation at which two units count as near-duplicates."),
    ablation_cost: float = typer.Option(0.005, help="A unit is frivolous when removing it costs less accuracy "
                                        "than this (fraction)."),
    lr: float = typer.Option(0.01, help="Learning rate."),
    batch_size: int = typer.Option(32, help="Minibatch size."),
    optimizer: str = typer.Option("adam", help="adam or sgd."),
    init: str = typer.Option("glorot", help="glorot (Keras' default) or torch (PyTorch's default)."),
    out: OutPath = OutOption,
) -> None:
    """More units than needed: do units keep distinct niches, or do redundant, dead and frivolous units appear?

    Trains one-hidden-layer ReLU networks of every width (several seeds each, all at once) on the
    lab's blobs and on digits, and reports accuracy, dead units, near-duplicate pairs, the distinct
    class splits the units implement, the participation ratio and single-unit ablation costs.
    """
    from ..studies import width as study
    from ..runs.runner import execute

    if epochs is not None:
        check_positive_int("--epochs", epochs)
    cfg = study.WidthConfig(
        seeds=seeds, first_seed=first_seed, widths=tuple(parse_list("--widths", widths, int, "1,2,4,8")),
        data=tuple(t.strip() for t in data.split(",") if t.strip()),
        blobs_epochs=epochs if epochs is not None else 200, digits_epochs=epochs if epochs is not None else 30,
        eval_samples=eval_samples, dup_threshold=dup_threshold, ablation_cost=ablation_cost, lr=lr,
        batch_size=batch_size, optimizer=optimizer, init=init)
    execute("width", study.run, cfg, out)
