"""``nichelab run symmetry``."""
from __future__ import annotations

from typing import Optional

import typer

from ..errors import NichelabError, check_positive_int
from . import run_app
from .common import OutOption, OutPath, SeedsOption


def parse_list(option: str, text: str, kind=float, example: str = "1e-8,1e-4") -> list:
    """Split ``"a,b,c"`` into numbers of ``kind``; a bad item raises NichelabError naming ``option``."""
    items = [t.strip() for t in str(text).split(",") if t.strip()]
    if not items:
        raise NichelabError(f"{option} must be a comma-separated list, e.g. {example}; got {text!r}")
    try:
        return [kind(t) for t in items]
    except ValueError:
        raise NichelabError(f"{option} must be a comma-separated list of numbers, e.g. {example}; got {text!r}") from None


@run_app.command("symmetry")
def symmetry(
    seeds: int = SeedsOption(5, "Seeds per condition, all trained at once."),
    first_seed: int = typer.Option(0, help="First seed; seeds are first-seed .. first-seed + seeds - 1."),
    data: str = typer.Option("blobs,digits", help="Datasets, comma-separated: blobs (the lab's), digits."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Training epochs for every dataset "
                                         "(default: 200 on blobs, 15 on digits)."),
    blobs_hidden: int = typer.Option(4, help="Hidden ReLU units on the blobs (>= 2)."),
    digits_hidden: int = typer.Option(32, help="Hidden ReLU units on the digits (>= 2)."),
    eps: str = typer.Option("1e-8,1e-7,1e-6,1e-5,1e-4,1e-3,1e-2",
                            help="Perturbation sizes (std of the noise added to every weight), comma-separated, > 0."),
    dropout: float = typer.Option(0.1, help="Dropout probability of the symmetric + dropout condition."),
    split_tol: float = typer.Option(0.01, help="Units are distinct when further apart than this times the typical "
                                    "initial norm of a unit's incoming weights."),
    lr: float = typer.Option(0.01, help="Learning rate."),
    batch_size: int = typer.Option(32, help="Minibatch size."),
    optimizer: str = typer.Option("adam", help="adam or sgd."),
    outgoing: str = typer.Option("split", help="split (each copy sends 1/H of the copied unit's outgoing weights) "
                                 "or copy (full copies)."),
    out: OutPath = OutOption,
) -> None:
    """Why do units differ at all? Identical units under gradient descent, and what breaks the tie.

    Trains networks whose hidden units all start as copies of one unit (plus random, dropout,
    perturbed and all-zero starts) on the lab's blobs and on digits, and reports the distance
    between units at every step, the accuracy against a one-unit network, and how the time until
    units split grows with log(1/eps).
    """
    from ..studies import symmetry as study
    from ..runs.runner import execute

    if epochs is not None:
        check_positive_int("--epochs", epochs)
    cfg = study.SymmetryConfig(
        seeds=seeds, first_seed=first_seed, data=tuple(t.strip() for t in data.split(",") if t.strip()),
        blobs_hidden=blobs_hidden, digits_hidden=digits_hidden,
        blobs_epochs=epochs if epochs is not None else 200, digits_epochs=epochs if epochs is not None else 15,
        eps=tuple(parse_list("--eps", eps)), dropout=dropout, split_tol=split_tol, lr=lr, batch_size=batch_size,
        optimizer=optimizer, outgoing=outgoing)
    execute("symmetry", study.run, cfg, out)
