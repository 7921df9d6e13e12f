"""Run a study and write its run folder: report.html, glossary.html, results.json, weights.safetensors.

The folder is written atomically (see :mod:`nichelab.runs.store`); the index of runs is updated last.
"""
from __future__ import annotations

import datetime as _dt
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from ..errors import NichelabError
from .jsonio import dumps
from .provenance import versions
from .store import RunFinishedInterrupt, append_index, default_out, prepare_out, run_folder

__all__ = ["execute", "write_run", "shell_command"]


def shell_command(argv: list[str] | None = None) -> str:
    """The command line as it can be pasted back into a shell (``--model 'mlp 64-32'`` keeps its quotes)."""
    return shlex.join(["nichelab"] + list(sys.argv[1:] if argv is None else argv))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _footer(result) -> str:
    v, p = result.provenance.get("versions", {}), result.provenance
    return (f"nichelab {v.get('nichelab')} · torch {v.get('torch')} · numpy {v.get('numpy')} · "
            f"{p.get('created')} · study ran {result.timings.get('study_s', 0):.1f} s · command: {p.get('command')}")


def write_run(result, folder: Path, *, started: float | None = None, progress=None) -> None:
    """Write ``result``'s HTML report, the glossary page, weights (if any) and ``results.json`` into ``folder``.

    ``results.json`` is written last, once, with the writing time and (given ``started``, a
    ``time.perf_counter()`` value) the total time in ``result.timings``.
    """
    from ..reporting import render_page
    t1 = time.perf_counter()
    step = progress or (lambda *a: None)
    step("report", 0, 3)
    (folder / "report.html").write_text(render_page(result, _footer(result)), encoding="utf-8")
    from ..reporting.glossary import FILENAME, render_glossary
    (folder / FILENAME).write_text(render_glossary(), encoding="utf-8")   # the pages link to it
    step("report", 1, 3)
    weights = result.weights()
    if weights:
        from safetensors.numpy import save_file
        path = folder / "weights.safetensors"
        save_file({k: np.ascontiguousarray(v) for k, v in weights.items()}, str(path),
                  metadata={"study": result.study, "nichelab": result.provenance.get("versions", {}).get("nichelab", "")})
        os.chmod(path, 0o666 & ~_umask())  # safetensors writes 0600
    step("report", 2, 3)
    result.timings["writing_s"] = time.perf_counter() - t1
    if started is not None:
        result.timings["total_s"] = time.perf_counter() - started
    (folder / "results.json").write_text(dumps(result.to_dict()), encoding="utf-8")
    step("report", 3, 3)


def execute(study, config, out: str | Path | None = None, *, console=None, argv: list[str] | None = None) -> Path:
    """Run ``study`` on ``config`` with a progress bar, write the run folder and print the summary.

    Parameters
    ----------
    study : Study or str
        A registered study (or its name).
    config : the study's Config
    out : path, optional
        The run folder to create; default a new ``runs/<study>-<timestamp>[-N]``.
    console : rich Console, optional (stderr by default)
    argv : list of str, optional
        The command-line arguments to record (default ``sys.argv[1:]``).

    Returns
    -------
    Path
        The finished run folder.

    Raises
    ------
    NichelabError
        An unwritable or non-empty ``out`` (checked before any training), or a failed write.
    """
    from rich.console import Console
    from ..reporting import summary_table
    from ..reporting.terminal import print_summary, progress_bar
    from ..studies import STUDIES
    study = STUDIES[study] if isinstance(study, str) else study
    console = console or Console(stderr=True)
    reserved = out is None
    out = default_out(study.name) if reserved else prepare_out(out)
    try:
        t0 = time.perf_counter()
        with progress_bar(console) as progress:
            result = study.run(config, progress=progress)
            result.timings["study_s"] = time.perf_counter() - t0
            result.provenance = {"versions": versions(), "command": shell_command(argv),
                                 "created": _dt.datetime.now().isoformat(timespec="seconds")}
            try:
                with run_folder(out) as tmp:
                    write_run(result, tmp, started=t0, progress=progress)
            except OSError as exc:
                raise NichelabError(f"writing the run folder {str(out)!r} failed: {exc.strerror or exc}; "
                                    "nothing was left behind") from None
    except BaseException:
        if reserved and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        raise
    try:
        append_index(out, {"study": study.name, "created": result.provenance["created"],
                           "command": result.provenance["command"]})
        print_summary(console, summary_table(result), str(out), time.perf_counter() - t0)
    except KeyboardInterrupt:
        raise RunFinishedInterrupt(out) from None
    return out
