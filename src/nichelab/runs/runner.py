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

__all__ = ["execute", "write_run", "shell_command", "export_figures"]


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


def _warm_report(study: str) -> None:
    """Import the study's page module (Altair, Jinja2), then build the Vega bundle in the background.

    The imports run here, in the calling thread: importing the same modules from two threads at
    once can hand one of them a partly initialised module. Only the bundle (seconds the first time
    on a machine, a file read afterwards; vl-convert releases the GIL) runs in a daemon thread
    while the study trains. Failures are ignored here; writing the report surfaces them.
    """
    import importlib
    import threading
    try:
        from ..reporting import page_module
        from ..reporting.charts import vega_bundle
        importlib.import_module("vl_convert")  # imported here, not in the thread
        page_module(study)
    except Exception:  # noqa: BLE001 - the real error surfaces when the page is written
        return

    def bundle() -> None:
        try:
            vega_bundle()
        except Exception:  # noqa: BLE001
            pass
    threading.Thread(target=bundle, name="nichelab-vega-bundle", daemon=True).start()


def write_run(result, folder: Path, *, started: float | None = None, progress=None, report=None) -> None:
    """Write ``result``'s HTML report, the glossary page, weights (if any) and ``results.json`` into ``folder``.

    ``results.json`` is written last, once, with the writing time and (given ``started``, a
    ``time.perf_counter()`` value) the total time in ``result.timings``. ``report``: the result's
    report if the caller already built it (``build_report(result)``), so it is not built twice.
    """
    from ..reporting import render_page
    t1 = time.perf_counter()
    step = progress or (lambda *a: None)
    step("report", 0, 3)
    if report is None:
        page = render_page(result, _footer(result))
    else:
        from ..reporting.html import render_html
        report.footer = _footer(result)
        page = render_html(report)
    (folder / "report.html").write_text(page, encoding="utf-8")
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
    _warm_report(study.name)
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


def export_figures(folder: str | Path, fmt: str = "png", out: str | Path | None = None) -> list[Path]:
    """Write every figure of a finished run's report as a static file (for papers and slides).

    Interactive charts are rendered by vl-convert (no browser) in their initial state (the shown
    seed, the last epoch); static PNG figures are copied as PNG whatever ``fmt``.

    Parameters
    ----------
    folder : str or Path
        A run folder (``nichelab run ...``).
    fmt : {"png", "svg", "pdf"}, default "png"
    out : str or Path, optional
        Folder to write into (created); default ``<folder>/figures``.

    Returns
    -------
    list of Path
        The files written, in page order (``<chart name>.<fmt>``, ``figure-<section>-<k>.png``).

    Raises
    ------
    NichelabError
        Not a run folder; an unknown ``fmt``; an unwritable ``out``.
    """
    from ..reporting import build_report
    from ..reporting.charts import FORMATS, export_chart
    from ..reporting.model import Chart
    from .load import load_run
    if fmt not in FORMATS:
        raise NichelabError(f"--format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    result = load_run(folder)
    report = build_report(result)
    dest = Path(out) if out is not None else Path(folder) / "figures"
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NichelabError(f"--out must be a folder that can be created; got {str(dest)!r} "
                            f"({exc.strerror or exc})") from None
    written = []
    for i, section in enumerate(report.sections, start=1):
        for k, f in enumerate(section.figures, start=1):
            if isinstance(f, Chart):
                written.append(export_chart(f, dest / f.name, fmt))
            else:
                path = dest / f"figure-{i}-{k}.png"
                path.write_bytes(f.png)
                written.append(path)
    return written
