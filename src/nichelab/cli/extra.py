"""Commands that are not studies (registered on the root app by :func:`register`)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

__all__ = ["register", "sweep", "tour_command"]

SWEEP_HELP = """Run a study once per cell of a grid of settings, every cell with the same seeds.

Writes one sweep folder: a run folder per cell (as `nichelab run` writes it) under cells/, the
index cells.csv (each cell's options and headline numbers) and report.html (outcome shares and
accuracy over the grid, with 95% intervals). Re-running the same command with the same --out
skips finished cells. Without --grid, `nichelab sweep lab` runs hidden 1-6 x init glorot/torch x
optimizer adam/sgd with 1000 seeds per cell.

Example: nichelab sweep lab --grid lr=0.001,0.01,0.1 --grid hidden=2,4 --seeds 500
"""


def sweep(
    study: str = typer.Argument(..., help="The study to sweep: one that trains seeds (e.g. lab, width).", show_default=False),
    grid: Optional[List[str]] = typer.Option(
        None, "--grid", help="NAME=V1,V2,...: a setting of the study and its values (repeat for more "
                             "settings; cells are every combination).", show_default=False),
    seeds: Optional[int] = typer.Option(None, "--seeds", help="Seeds per cell (default: 1000 for the lab's "
                                        "default sweep, else the study's default).", show_default=False),
    first_seed: int = typer.Option(0, "--first-seed", help="First seed of every cell."),
    backend: str = typer.Option("local", "--backend", metavar="<local|ray>",
                                help="local: a process pool on this machine; ray: Ray tasks "
                                     "(pip install 'nichelab[ray]')."),
    address: Optional[str] = typer.Option(None, "--address", help="Ray cluster to join (as printed by "
                                          "`ray start --head`); default: start a local Ray.", show_default=False),
    chunk: int = typer.Option(5000, "--chunk", help="Seeds per task for large seed counts (lab); rounded up to a "
                              "multiple of 256."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Processes (local) or CPUs of a local Ray "
                                          "(default: the cores).", show_default=False),
    out: Optional[Path] = typer.Option(None, "--out", help="Sweep folder (default: a new runs/sweep-<study>-"
                                       "<timestamp>); an existing one of the same sweep is resumed.",
                                       show_default=False),
) -> None:
    from ..errors import NichelabError
    from ..options import INT_MAX
    from ..runs.sweep import run_sweep
    if seeds is not None and not 1 <= seeds <= INT_MAX:
        raise NichelabError(f"--seeds must be an integer >= 1; got {seeds}")
    say = lambda line: typer.echo(line, err=True)  # noqa: E731
    try:
        outcome = run_sweep(study, grid or None, seeds, first_seed=first_seed, backend=backend, address=address,
                            chunk=chunk, out=out, workers=workers, progress=say)
    except KeyboardInterrupt:
        say("interrupted: finished cells are kept; run the same command with the same --out to resume")
        raise typer.Exit(130) from None
    say(f"{len(outcome.done)} cells run, {len(outcome.skipped)} already finished, {len(outcome.failed)} failed "
        f"in {outcome.seconds:.1f} s")
    say(f"index: {outcome.folder / 'cells.csv'}")
    say(f"report: {outcome.folder / 'report.html'}")
    if outcome.failed:
        say("some cells failed (see the report); run the same command with the same --out to retry them")
        raise typer.Exit(1)


sweep.__doc__ = SWEEP_HELP


def register(app: typer.Typer) -> None:
    """Add the non-study commands to ``app`` (``nichelab sweep``, ``tour``, ``export``)."""
    app.command("sweep", help=SWEEP_HELP)(sweep)
    app.command("tour", help=TOUR_HELP)(tour_command())
    app.command("export")(export)


def export(run: str = typer.Argument(..., metavar="RUN", help="A run folder written by 'nichelab run' (or analyze/compare)."),
           format: str = typer.Option("png", "--format", metavar="<png|svg|pdf>", help="File format."),
           out: str = typer.Option(None, "--out", metavar="<folder>", show_default=False,
                                   help="A new or empty folder for the files (default RUN/figures, "
                                        "whose files are replaced).")) -> None:
    """Write every chart of a run's report as a static file (png, svg or pdf), for papers and slides."""
    from ..errors import NichelabError
    from ..reporting.charts import FORMATS
    from ..runs.runner import export_figures
    from ..runs.store import prepare_out
    if format not in FORMATS:
        raise NichelabError(f"--format must be one of {', '.join(FORMATS)}; got {format!r}")
    if out is not None:
        prepare_out(out)  # like `run --out`: never overwrite a folder that holds something
    files = export_figures(run, format, out)
    typer.echo(f"wrote {len(files)} figure{'s' if len(files) != 1 else ''} to {files[0].parent if files else out or run}")
    for f in files:
        typer.echo(f"  {f.name}")


TOUR_HELP = """Answer the learner's questions in one command: why hidden units specialise, why they do not
converge on the same thing, whether seeds learn the same units, edges -> parts -> objects, and
whether layers are general or domain-specific.

Runs five studies (lab, symmetry, convergence, hierarchy, transfer) in quick settings (under three
minutes on 2 cores) and writes one folder: report.html (each question, the measured answer, one
figure, a link to the full report), glossary.html, tour.json and each study's full run folder.

Example: nichelab tour --out my-tour
"""


def tour_command():
    """The ``nichelab tour`` command: its options come from :class:`nichelab.runs.tour.TourConfig`'s fields."""
    import inspect
    from ..errors import NichelabError
    from ..runs.tour import TourConfig
    from .generate import _parameter, cli_options
    specs = cli_options(TourConfig)
    flags = {s.name: s.flag for s in specs}

    def tour(**values) -> None:
        from ..runs.tour import run_tour
        out = values.pop("out", None)
        try:
            run_tour(TourConfig(**values), out)
        except NichelabError as exc:
            if exc.field in flags:
                raise exc.with_flag(flags[exc.field]) from None
            raise

    params = [_parameter(s, False) for s in specs]
    params.append(inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[str],
                                    default=typer.Option(None, "--out", show_default=False,
                                                         help="Tour folder to create (default: a new "
                                                              "runs/tour-<timestamp>).")))
    tour.__signature__ = inspect.Signature(params)
    tour.__doc__ = TOUR_HELP
    return tour
