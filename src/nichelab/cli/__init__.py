"""The ``nichelab`` command line, generated from the study registry.

``nichelab run NAME`` for every study whose ``command`` is ``"run"``, ``nichelab NAME`` for the
others (``analyze``, ``compare``). The CLI only parses arguments and calls studies. Bad input (a
:class:`NichelabError`) becomes one line on stderr and exit code 2; an interrupt exits with 130.
"""
from __future__ import annotations

import typer
from typer.core import TyperGroup

try:  # typer >= 0.20 vendors click
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover
    from click import exceptions as click_exceptions

from ..errors import NichelabError
from ..runs.store import RunFinishedInterrupt

__all__ = ["app", "run_app", "main", "build_app"]


class _Group(TyperGroup):
    """A command group that turns NichelabError into a one-line message and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except NichelabError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        except click_exceptions.UsageError as exc:  # bad option types, unknown options
            if exc.ctx is None or exc.ctx.command is self:
                raise  # usage of this group itself: keep click's own help output
            hint = f" (see '{exc.ctx.command_path} --help')"
            typer.echo(f"error: {exc.format_message()}{hint}", err=True)
            raise typer.Exit(2) from None
        except RunFinishedInterrupt as exc:
            typer.echo(f"interrupted after the run finished: its folder is complete at {exc.folder}", err=True)
            raise typer.Exit(130) from None
        except KeyboardInterrupt:
            typer.echo("interrupted: no run folder was written", err=True)
            raise typer.Exit(130) from None


def _typer(help_text: str) -> typer.Typer:
    return typer.Typer(cls=_Group, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                       rich_markup_mode=None, help=help_text)


def build_app() -> tuple[typer.Typer, typer.Typer]:
    """The ``nichelab`` app and its ``run`` group, with a command per registered study."""
    from ..studies import STUDIES
    from .generate import study_command
    root = _typer("Measure what the hidden units of a neural network learn.")
    run = _typer("Run a built-in study and write its report (report.html, results.json, weights).")
    root.add_typer(run, name="run")
    for study in STUDIES.values():
        group = run if study.command == "run" else root
        group.command(study.name, help=study_command(study).__doc__)(study_command(study))
    from . import extra
    extra.register(root)
    return root, run


app, run_app = build_app()


def _terminate(signum, frame):
    raise KeyboardInterrupt  # run folders clean up on the way out, as for Ctrl-C


def main() -> None:
    """Entry point of the ``nichelab`` console script (SIGTERM is handled like Ctrl-C)."""
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    app(prog_name="nichelab")
