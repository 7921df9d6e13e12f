"""The ``nichelab`` command line: ``nichelab run STUDY``, ``nichelab analyze``, ``nichelab compare``.

The CLI only parses arguments and calls studies. Bad input (a :class:`NichelabError`) becomes
one line on stderr and exit code 2; an interrupt leaves no run folder and exits with 130.
"""
from __future__ import annotations

import typer
from typer.core import TyperGroup

try:  # typer >= 0.20 vendors click
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover
    from click import exceptions as click_exceptions

from ..errors import NichelabError

__all__ = ["app", "run_app", "main"]


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
        except KeyboardInterrupt:
            typer.echo("interrupted: no run folder was written", err=True)
            raise typer.Exit(130) from None


app = typer.Typer(cls=_Group, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Measure what the hidden units of a neural network learn.")
run_app = typer.Typer(cls=_Group, no_args_is_help=True, add_completion=False,
                      help="Run a built-in study and write its report (report.html, results.json, weights).")
app.add_typer(run_app, name="run")

from . import lab as _lab  # noqa: E402,F401  (registers `nichelab run lab`)
from . import analyze as _analyze  # noqa: E402,F401  (registers `nichelab analyze`)
from . import transfer as _transfer  # noqa: E402,F401  (registers `nichelab run transfer`)
from . import convergence as _convergence  # noqa: E402,F401  (registers `nichelab run convergence`)
from . import compare as _compare  # noqa: E402,F401  (registers `nichelab compare`)
from . import symmetry as _symmetry  # noqa: E402,F401  (registers `nichelab run symmetry`)
from . import width as _width  # noqa: E402,F401  (registers `nichelab run width`)
from . import hierarchy as _hierarchy  # noqa: E402,F401  (registers `nichelab run hierarchy`)


def _terminate(signum, frame):
    raise KeyboardInterrupt  # run folders clean up on the way out, as for Ctrl-C


def main() -> None:
    """Entry point of the ``nichelab`` console script (SIGTERM is handled like Ctrl-C)."""
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    app(prog_name="nichelab")
