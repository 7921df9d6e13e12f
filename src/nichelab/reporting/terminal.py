"""Terminal output: a progress bar while a study runs and a summary table at the end (rich)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from .model import Table

__all__ = ["progress_bar", "print_summary"]


@contextmanager
def progress_bar(console: Console) -> Iterator:
    """Yield a ``progress(stage, done, total)`` callback that drives one bar per stage.

    The bars start with the first update, so a run that stops at once (bad input) prints nothing
    before its one error line.
    """
    prog: Progress | None = None
    tasks: dict[str, int] = {}

    def update(stage: str, done: int, total: int) -> None:
        nonlocal prog
        if prog is None:
            prog = Progress(TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=console, transient=False)
            prog.start()
        if stage not in tasks:
            tasks[stage] = prog.add_task(stage, total=total)
        prog.update(tasks[stage], completed=done, total=total)
    try:
        yield update
    finally:
        if prog is not None:
            prog.stop()


def print_summary(console: Console, table: Table, out_path: str, seconds: float) -> None:
    """Print the study's summary table, the total time and the report's path."""
    rt = RichTable(title=table.caption or None)
    for col in table.columns:
        rt.add_column(col, overflow="fold")  # wrap long cells within 80 columns, never cut them
    for row in table.rows:
        rt.add_row(*[str(c) for c in row])
    console.print(rt)
    console.print(f"finished in {seconds:.1f} s")
    console.print(f"report: {out_path}/report.html")
