"""Options shared by every study command."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

__all__ = ["OutOption", "SeedsOption", "EpochsOption"]

OutOption = typer.Option(None, "--out", help="Run folder to create (default: runs/<study>-<timestamp>).",
                         show_default=False)


def SeedsOption(default: int, text: str = "Number of seeds, all trained at once."):
    """The ``--seeds`` option with a study-specific default."""
    return typer.Option(default, "--seeds", help=text)


def EpochsOption(default: int):
    """The ``--epochs`` option with a study-specific default."""
    return typer.Option(default, "--epochs", help="Training epochs (passes over the data).")


OutPath = Optional[Path]
