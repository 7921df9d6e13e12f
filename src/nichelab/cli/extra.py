"""Commands that are not studies (registered on the root app by :func:`register`)."""
from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the non-study commands to ``app``."""
    app.command("export")(export)


def export(run: str = typer.Argument(..., help="A run folder written by 'nichelab run' (or analyze/compare)."),
           format: str = typer.Option("png", "--format", help="png, svg or pdf."),
           out: str = typer.Option(None, "--out", help="Folder for the files (default RUN/figures).")) -> None:
    """Write every chart of a run's report as a static file (png, svg or pdf), for papers and slides."""
    from ..runs.runner import export_figures
    files = export_figures(run, format, out)
    typer.echo(f"wrote {len(files)} figure{'s' if len(files) != 1 else ''} to {files[0].parent if files else out or run}")
    for f in files:
        typer.echo(f"  {f.name}")
