"""Commands generated from the study registry: each option comes from its config field, once.

For a study, every config field declared with :func:`nichelab.options.option` (and ``cli=True``)
becomes a flag with the field's type (``Literal`` -> a choice), default and help; tuples are
typed as comma-separated values. ``--out`` is added to every study. Values go to the config
unchanged, so the rules live in one place (the config); a :class:`NichelabError` about a field
is shown with the flag the user typed.
"""
from __future__ import annotations

import inspect
from typing import Optional

import typer

from ..errors import NichelabError
from ..options import OptionSpec, option_specs

__all__ = ["study_command", "cli_options", "OUT_HELP"]

OUT_HELP = "Run folder to create (default: a new runs/<study>-<timestamp>)."



def cli_options(config_cls) -> list[OptionSpec]:
    """The options of ``config_cls`` that appear on the command line."""
    return [s for s in option_specs(config_cls) if s.cli]


def _annotation(spec: OptionSpec):
    """Text for every option but booleans: the config parses and checks it, so a bad value gets the
    same one-line message (flag, rule, value received) whether it came from Python or the shell."""
    tp = bool if spec.kind == "bool" and not spec.sequence else str
    return Optional[tp] if spec.optional or spec.sequence or tp is str else tp


def _metavar(spec: OptionSpec) -> str:
    """What ``--help`` shows for the value: ``<int>``, ``<float>``, ``<adam|sgd>``, ``<int,...>``."""
    base = "|".join(map(str, spec.choices)) if spec.kind == "choice" else spec.kind
    return f"<{base},...>" if spec.sequence else f"<{base}>"


def _default(spec: OptionSpec):
    if spec.sequence and spec.default is not None:
        return ",".join(str(v) for v in spec.default)
    return spec.default


def _parameter(spec: OptionSpec, positional: bool) -> inspect.Parameter:
    default = _default(spec)
    if positional:
        marker = typer.Argument(... if default is None else default, help=spec.help, show_default=False)
    elif spec.kind == "bool":
        flag = spec.flag
        marker = typer.Option(default, f"{flag}/--no-{flag[2:]}", help=spec.help)
    else:
        marker = typer.Option(default, spec.flag, help=spec.help, show_default=default is not None,
                              metavar=_metavar(spec))
    return inspect.Parameter(spec.name, inspect.Parameter.KEYWORD_ONLY, default=marker,
                             annotation=_annotation(spec))


def _help(study) -> str:
    text = study.question
    if study.description:
        text += "\n\n" + study.description
    return text


def study_command(study):
    """A Typer command function for ``study`` (options generated from ``study.Config``)."""
    specs = cli_options(study.Config)
    flags = {s.name: s.flag for s in specs}

    def command(**values) -> None:
        from ..runs.runner import execute
        out = values.pop("out", None)
        try:
            config = study.Config(**values)
            execute(study, config, out)
        except NichelabError as exc:
            if exc.field in flags:
                raise exc.with_flag(flags[exc.field]) from None
            raise

    params = [_parameter(s, s.name in study.arguments) for s in specs]
    params.sort(key=lambda p: not isinstance(p.default, typer.models.ArgumentInfo))
    params.append(inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, annotation=Optional[str],
                                    default=typer.Option(None, "--out", help=OUT_HELP, show_default=False)))
    command.__signature__ = inspect.Signature(params)
    command.__name__ = study.name
    command.__doc__ = _help(study)
    return command
