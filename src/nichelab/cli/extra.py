"""Commands that are not studies (registered on the root app by :func:`register`)."""
from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the non-study commands to ``app``."""
