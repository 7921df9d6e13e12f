"""``nichelab tour``: the learner's four questions, each answered by a real run of its study, on one page.

The tour runs five studies in small ("quick") settings, one after the other, and writes one folder:

    tour-<timestamp>/
        report.html      the tour page (question, measured answer, a figure, a link per study)
        glossary.html    every term the pages use
        tour.json        the settings, each study's folder, the answers shown, the timings
        lab/ symmetry/ convergence/ hierarchy/ transfer/
                         a full run folder per study, as ``nichelab run`` writes it

The answers on the page are the studies' own findings, computed from each run's numbers and
stored in its ``results.json``; the tour adds no claim of its own. Settings are chosen per
study to be the smallest that still answer its question, never to get a particular answer; the
page states them and that the full studies use more.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import NichelabError
from ..options import Options, option
from .store import append_index, default_out, prepare_out, run_folder

__all__ = ["TourConfig", "STEPS", "SCALES", "TINY", "TourOutcome", "study_configs", "run_tour"]

#: The tour's questions in page order: (study, the question in the learner's words).
STEPS: tuple[tuple[str, str], ...] = (
    ("lab", "Does each ReLU unit find its own niche?"),
    ("symmetry", "Why don't the units converge on the same thing?"),
    ("convergence", "Do different seeds learn the same units?"),
    ("hierarchy", "Edges, then parts, then objects?"),
    ("transfer", "Are hidden layers general or domain-specific?"),
)

#: Settings per scale: study -> options that replace the study's defaults. ``quick`` takes about
#: 40 s of CPU time, under 3 minutes of wall time on 2 busy cores (benchmarks/bench_tour.py);
#: ``full`` runs each study at its defaults (the lab with 1000 seeds), about 4 minutes on a quiet 2-core machine.
SCALES: dict[str, dict[str, dict]] = {
    "quick": {
        "lab": {"seeds": 200},
        "symmetry": {"data": ("digits",), "seeds": 3, "epochs": 3, "eps": (1e-6, 1e-3)},
        "convergence": {"seeds": 3, "epochs": 8, "model": "mlp 16-16", "lr": 0.003, "batch_size": 64},
        "hierarchy": {"seeds": 3, "epochs": 6, "per_class": 150, "featvis_steps": 50},
        "transfer": {"quick": True, "seeds": 4},
    },
    "full": {"lab": {"seeds": 1000}, "symmetry": {}, "convergence": {}, "hierarchy": {}, "transfer": {}},
}

#: A test-only scale: real runs, seconds each (the answers are too noisy to mean anything).
TINY: dict[str, dict] = {
    "lab": {"seeds": 12, "epochs": 20, "exclusion_restarts": 8},
    "symmetry": {"data": ("digits",), "seeds": 1, "epochs": 1, "eps": (1e-3,), "digits_hidden": 4},
    "convergence": {"seeds": 2, "epochs": 1, "model": "mlp 8-8", "batch_size": 128},
    "hierarchy": {"seeds": 1, "epochs": 1, "per_class": 12, "size": 16, "model": "cnn 2-4-4 fc=8",
                  "featvis_steps": 2, "probe_repeats": 1, "units_per_layer": 1, "top_k": 2},
    "transfer": {"quick": True, "seeds": 2, "epochs": 1, "models": ("mlp 8-8",), "parts_per_class": 12},
}


@dataclass
class TourConfig(Options):
    """Settings of ``nichelab tour`` (declared once; the CLI shows them as flags).

    Seeds of every study start at ``seed``.
    """

    seed: int = option(0, help="First seed of every study (each study trains seeds seed, seed+1, ...).",
                       ge=0, le=2**32 - 1 - 10_000_000)
    scale: Literal["quick", "full"] = option(
        "quick", help="quick: small settings, under 3 minutes on 2 cores; full: each study at its default "
                      "settings (the lab with 1000 seeds), about 4 minutes on a quiet 2-core machine.")


def study_configs(config: TourConfig, settings: dict | None = None) -> dict:
    """The Config of every study of the tour, in page order.

    Parameters
    ----------
    config : TourConfig
    settings : dict of str -> dict, optional
        Study -> options replacing its defaults (default: ``SCALES[config.scale]``).

    Returns
    -------
    dict of str -> (Config, dict)
        Study name -> (its validated Config, the options the tour set).
    """
    from ..studies import STUDIES
    settings = SCALES[config.scale] if settings is None else settings
    out = {}
    for name, _ in STEPS:
        given = dict(settings.get(name, {}))
        given["first_seed"] = config.seed
        out[name] = (STUDIES[name].Config(**given), given)
    return out


@dataclass
class TourOutcome:
    """What :func:`run_tour` wrote: the folder, the page, each study's folder and time."""

    folder: Path
    page: Path
    studies: dict = dataclasses.field(default_factory=dict)   # name -> {"folder", "seconds", "command"}
    seconds: float = 0.0


def _command(study, config, fields) -> str:
    from .sweep_tasks import cell_command
    return cell_command(study, config, [f for f in fields if f not in ("first_seed", "seeds")])


def _changed(study, config) -> dict:
    """The settings of ``config`` that differ from the study's defaults (what the tour changed)."""
    from ..options import option_specs
    base = study.Config()
    return {s.name: getattr(config, s.name) for s in option_specs(config)
            if s.cli and s.name != "first_seed" and getattr(config, s.name) != getattr(base, s.name)}


def run_tour(config: TourConfig | None = None, out: str | Path | None = None, *, settings: dict | None = None,
             console=None, argv: list[str] | None = None) -> TourOutcome:
    """Run the five studies of the tour and write the tour folder (atomically).

    Parameters
    ----------
    config : TourConfig, optional
        Default ``TourConfig()`` (quick scale, seed 0).
    out : str or Path, optional
        The tour folder to create (new or empty); default a new ``runs/tour-<timestamp>``.
    settings : dict of str -> dict, optional
        Study -> options replacing its defaults, instead of the scale's (tests use :data:`TINY`).
    console : rich Console, optional
        Where progress and the summary go (stderr by default).
    argv : list of str, optional
        The command-line arguments to record (default ``sys.argv[1:]``).

    Returns
    -------
    TourOutcome

    Raises
    ------
    NichelabError
        A non-empty or unwritable ``out`` (checked before any training); a bad setting.
    """
    from rich.console import Console
    from rich.markup import escape
    from ..reporting import build_report
    from ..reporting.glossary import FILENAME, render_glossary
    from ..reporting.html import render_html
    from ..reporting.pages.tour import page as tour_page
    from ..reporting.terminal import progress_bar
    from ..studies import STUDIES
    from .provenance import versions
    from .runner import shell_command, write_run

    config = TourConfig() if config is None else config
    configs = study_configs(config, settings)          # bad settings fail before any folder is made
    console = console or Console(stderr=True)
    reserved = out is None
    out = default_out("tour") if reserved else prepare_out(out)
    command = shell_command(argv)
    t0 = time.perf_counter()
    outcome = TourOutcome(folder=out, page=out / "report.html")
    results, reports = {}, {}
    try:
        with run_folder(out) as tmp:
            for i, (name, question) in enumerate(STEPS, start=1):
                study = STUDIES[name]
                cfg, given = configs[name]
                console.print(f"[bold]{escape(f'[{i}/{len(STEPS)}] {question}')}[/bold] ({name})")
                changed = _changed(study, cfg)       # before the run (which may pick the shown seed)
                t1 = time.perf_counter()
                with progress_bar(console) as progress:
                    result = study.run(cfg, progress=progress)
                    result.timings["study_s"] = time.perf_counter() - t1
                    sub = _command(study, cfg, given)
                    result.provenance = {"versions": versions(), "command": sub,
                                         "created": _dt.datetime.now().isoformat(timespec="seconds")}
                    (tmp / name).mkdir()
                    progress("report", 0, 3)
                    reports[name] = build_report(result)      # once: for its run folder and for the tour
                    write_run(result, tmp / name, started=t1, progress=progress, report=reports[name])
                results[name] = result
                outcome.studies[name] = {"folder": name, "seconds": time.perf_counter() - t1, "command": sub,
                                         "settings": changed}
            outcome.seconds = time.perf_counter() - t0
            info = {"scale": config.scale if settings is None else "custom", "seed": config.seed,
                    "command": command, "seconds": outcome.seconds, "versions": versions(),
                    "created": _dt.datetime.now().isoformat(timespec="seconds"), "studies": outcome.studies}
            report = tour_page(results, info, reports)
            info["answers"] = {s.title: list(map(str, s.findings)) for s in report.sections}
            (tmp / "report.html").write_text(render_html(report), encoding="utf-8")
            (tmp / FILENAME).write_text(render_glossary(), encoding="utf-8")
            (tmp / "tour.json").write_text(json.dumps(info, indent=1, default=_jsonable), encoding="utf-8")
    except BaseException as exc:
        if reserved and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        if isinstance(exc, OSError):
            raise NichelabError(f"the tour stopped on a file error ({exc.strerror or exc}); nothing was left "
                                f"in {str(out)!r}") from None
        raise
    append_index(out, {"study": "tour", "created": info["created"], "command": command})
    _print_summary(console, outcome)
    return outcome


def _jsonable(value):
    if isinstance(value, tuple):
        return list(value)
    return str(value)


def _print_summary(console, outcome: TourOutcome) -> None:
    """One row per question (fits 80 columns), the total time and the page's path."""
    from rich.table import Table as RichTable
    table = RichTable(title="nichelab tour")
    for col in ("#", "question", "study", "time", "full report"):
        table.add_column(col, overflow="fold")
    for i, (name, question) in enumerate(STEPS, start=1):
        s = outcome.studies[name]
        table.add_row(str(i), question, name, f"{s['seconds']:.0f} s", f"{s['folder']}/report.html")
    console.print(table)
    console.print(f"finished in {outcome.seconds:.1f} s")
    console.print(f"tour page: {outcome.page}")
