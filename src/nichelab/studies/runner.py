"""Run a study and write its run folder: report.html, results.json, weights.safetensors.

The folder is written atomically (see :mod:`nichelab.store`); the index of runs is updated last.
"""
from __future__ import annotations

import datetime as _dt
import os
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
from rich.console import Console

from ..report.html import render_html
from ..report.jsonio import dumps
from ..report.provenance import versions
from ..report.terminal import print_summary, progress_bar
from ..store import append_index, default_out, prepare_out, run_folder

__all__ = ["execute", "write_run"]


def write_run(result, folder: Path, extra: dict, started: float | None = None) -> None:
    """Write ``result``'s HTML report, weights (if it has any) and JSON into ``folder``.

    ``results.json`` is written last, once, with the writing time and (given ``started``, a
    ``time.perf_counter()`` value) the total time in ``extra["timings"]``.
    """
    t1 = time.perf_counter()
    (folder / "report.html").write_text(render_html(_with_footer(result.to_report(), extra)), encoding="utf-8")
    weights = result.weights() if hasattr(result, "weights") else None
    if weights:
        from safetensors.numpy import save_file
        path = folder / "weights.safetensors"
        save_file({k: np.ascontiguousarray(v) for k, v in weights.items()}, str(path),
                  metadata={"study": result.study, "nichelab": extra["versions"].get("nichelab", "")})
        os.chmod(path, 0o666 & ~_umask())  # safetensors writes 0600
    timings = extra.setdefault("timings", {})
    timings["writing_s"] = time.perf_counter() - t1
    if started is not None:
        timings["total_s"] = time.perf_counter() - started
    data = result.to_json()
    data.update(extra)
    (folder / "results.json").write_text(dumps(data), encoding="utf-8")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _with_footer(report, extra: dict):
    v = extra["versions"]
    report.footer = (f"nichelab {v.get('nichelab')} · torch {v.get('torch')} · numpy {v.get('numpy')} · "
                     f"{extra['created']} · study ran {extra['timings'].get('study_s', 0):.1f} s · command: {extra['command']}")
    return report


def execute(study: str, run: Callable, config, out: str | Path | None = None, *,
            console: Console | None = None) -> Path:
    """Run ``run(config, progress=...)`` with a progress bar, write the run folder and print the summary.

    Parameters
    ----------
    study : str
        Study name (used for the default folder ``runs/<study>-<timestamp>``).
    run : callable
        The study's ``run`` function, returning a result with ``to_json``, ``to_report``,
        ``summary_table`` and optionally ``weights``.
    config : dataclass
    out : path, optional
    console : rich Console, optional (stderr by default)

    Returns
    -------
    Path
        The finished run folder.

    Raises
    ------
    NichelabError
        An unwritable or non-empty ``out`` (checked before any training).
    """
    console = console or Console(stderr=True)
    out = prepare_out(out if out is not None else default_out(study))
    t0 = time.perf_counter()
    with progress_bar(console) as progress:
        result = run(config, progress=progress)
    t_run = time.perf_counter() - t0
    extra = {"versions": versions(), "created": _dt.datetime.now().isoformat(timespec="seconds"),
             "command": " ".join(["nichelab"] + sys.argv[1:]),
             "timings": {**getattr(result, "timings", {}), "study_s": t_run}}
    with run_folder(out) as tmp:
        write_run(result, tmp, extra, started=t0)
    append_index(out, {"study": study, "created": extra["created"], "command": extra["command"]})
    print_summary(console, result.summary_table(), str(out), time.perf_counter() - t0)
    return out
