"""``nichelab run transfer``."""
from __future__ import annotations

from typing import List, Optional

import typer

from . import run_app
from .common import EpochsOption, OutOption, OutPath, SeedsOption


@run_app.command("transfer")
def transfer(
    ctx: typer.Context,
    source: Optional[List[str]] = typer.Option(
        None, "--source", help="Source task A; repeat for several pairs. digits:0-4, digits:0,2,4, parts, "
        "parts:face,house, faces. Same image source as the target = similar pair, another = dissimilar. "
        "Default: digits:0-4 and parts.", show_default=False),
    target: str = typer.Option("digits:5-9", help="Target task B (same syntax as --source)."),
    target_fraction: float = typer.Option(1.0, help="Share of B's training set used, in (0, 1]; "
                                          "small shares are where transfer matters most."),
    model: Optional[List[str]] = typer.Option(
        None, "--model", help="Architecture (repeatable). "
        "Default: 'mlp 64-64-64' and 'cnn 16-32 fc=64'.", show_default=False),
    seeds: int = SeedsOption(3, "Seeds per cell; all cells with the same frozen layers train at once."),
    first_seed: int = typer.Option(0, help="First seed; seeds are first-seed .. first-seed + seeds - 1."),
    epochs: int = EpochsOption(20),
    lr: float = typer.Option(0.002, help="Learning rate."),
    batch_size: int = typer.Option(64, help="Minibatch size."),
    optimizer: str = typer.Option("adam", help="adam or sgd."),
    init: str = typer.Option("glorot", help="glorot or torch."),
    test_fraction: float = typer.Option(0.3, help="Share of every task held out for testing."),
    split_seed: int = typer.Option(0, help="Seed of the splits, the target subsample and the parts images."),
    size: Optional[int] = typer.Option(None, help="Common image side in pixels (default: the target's own, "
                                       "8 for digits)."),
    margin: float = typer.Option(0.02, help="Accuracy difference (fraction; 0.02 = 2 points) below which the "
                                 "findings call conditions equal; larger ones must also exceed twice their "
                                 "standard error over seeds."),
    threads: int = typer.Option(1, help="Torch threads while training (1 is fastest for these small models)."),
    quick: bool = typer.Option(False, "--quick", help="A fast small setting: 2 seeds, 8 epochs, small models "
                               "(explicit options still apply on top)."),
    out: OutPath = OutOption,
) -> None:
    """Which layers are general, which specific? Layer-by-layer transfer (Yosinski et al. 2014).

    Trains baseA on each source task and baseB on the target; for every cut n builds BnB, AnB
    (first n layers copied, frozen), their fine-tuned versions BnB+, AnB+, and a control with the
    first n layers random and frozen; reports test accuracy on B for every cell and seed, linear
    CKA between baseA's and baseB's layers, and which of the paper's effects show.
    """
    from ..studies import transfer as study
    from ..runs.runner import execute

    given = {k for k in ctx.params if getattr(ctx.get_parameter_source(k), "name", "DEFAULT") != "DEFAULT"}
    kw = dict(target=target, target_fraction=target_fraction, seeds=seeds, first_seed=first_seed,
              epochs=epochs, lr=lr, batch_size=batch_size, optimizer=optimizer, init=init,
              test_fraction=test_fraction, split_seed=split_seed, size=size, margin=margin, threads=threads)
    if source:
        kw["sources"] = tuple(source)
    if model:
        kw["models"] = tuple(model)
    if quick:
        cfg = study.TransferConfig.quick(**{k: v for k, v in kw.items()
                                            if k in given or k in ("sources", "models")})
    else:
        cfg = study.TransferConfig(**kw)
    execute("transfer", study.run, cfg, out)
