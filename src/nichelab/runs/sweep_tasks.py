"""The work a sweep sends to its workers: train a part of a cell's seeds, finish a cell.

Module-level functions of plain arguments, so a process pool or Ray can ship them. A study whose
pipeline module defines ``run_chunk(config, seeds)`` and ``merge_chunks(config, chunks)`` (the
lab does) can be trained in chunks of seeds; any other study runs each cell whole.

A finished cell comes back as the bytes of its run folder's files (written by
:func:`nichelab.runs.runner.write_run` into a scratch folder on the worker), so a cell trained on
another machine of a Ray cluster lands in the sweep folder on the machine that started the sweep.
"""
from __future__ import annotations

import datetime as _dt
import importlib
import shlex
import tempfile
import time
from pathlib import Path

__all__ = ["ALIGN", "chunk_api", "chunk_bounds", "run_part", "finish_cell", "run_cell", "cell_command"]

#: Chunks start at multiples of this many seeds of their cell and hold at least this many (the
#: last chunk takes the rest). Every seed then sits in the same lane of the vectorised training
#: kernels (at most 32 floats wide) as when the cell is trained whole, so chunked and whole runs
#: give bit-identical numbers.
ALIGN = 256


def chunk_api(study):
    """``(run_chunk, merge_chunks)`` of ``study``'s pipeline module, or None if it has no chunk hook."""
    runner = study.runner
    if not isinstance(runner, str):
        return None
    module = importlib.import_module(runner.partition(":")[0])
    run_chunk, merge = getattr(module, "run_chunk", None), getattr(module, "merge_chunks", None)
    return (run_chunk, merge) if callable(run_chunk) and callable(merge) else None


def chunk_bounds(n_seeds: int, chunk: int | None, chunked: bool = True) -> list[tuple[int, int]]:
    """Split seed positions ``0 .. n_seeds - 1`` into chunks of about ``chunk`` seeds.

    Parameters
    ----------
    n_seeds : int
    chunk : int or None
        Wanted seeds per chunk; rounded up to a multiple of :data:`ALIGN`. None: one chunk.
    chunked : bool, default True
        False for a study without a chunk hook: always one chunk.

    Returns
    -------
    list of (start, stop)
        Consecutive half-open ranges covering ``0 .. n_seeds``; every range but the last starts at
        a multiple of ALIGN and has a multiple of ALIGN seeds; the last holds at least ALIGN seeds
        (a smaller remainder joins the range before it).

    Examples
    --------
    >>> chunk_bounds(1000, 300)
    [(0, 512), (512, 1000)]
    """
    if not chunked or chunk is None or n_seeds <= chunk:
        return [(0, n_seeds)]
    size = -(-chunk // ALIGN) * ALIGN
    starts = list(range(0, n_seeds, size))
    if len(starts) > 1 and n_seeds - starts[-1] < ALIGN:
        starts.pop()
    return [(a, b) for a, b in zip(starts, starts[1:] + [n_seeds])]


def _study(name: str):
    from ..studies import STUDIES
    return STUDIES[name]


def run_part(study_name: str, config, start: int, stop: int):
    """Train and measure seeds ``config.seed_list[start:stop]`` with the study's ``run_chunk``."""
    run_chunk, _ = chunk_api(_study(study_name))
    return run_chunk(config, config.seed_list[start:stop])


def cell_command(study, config, fields: list[str]) -> str:
    """The ``nichelab run`` command that runs this cell alone (the grid's fields and the seeds)."""
    from ..options import option_specs
    flags = {s.name: s for s in option_specs(study.Config)}
    argv = ["nichelab"] + (["run"] if study.command == "run" else []) + [study.name]
    for name in list(fields) + ["seeds", "first_seed"]:
        spec, value = flags.get(name), getattr(config, name, None)
        if spec is None or value is None:
            continue
        if spec.kind == "bool":
            argv.append(spec.flag if value else f"--no-{spec.flag[2:]}")
        else:
            argv += [spec.flag, ",".join(map(str, value)) if spec.sequence else str(value)]
    return shlex.join(argv)


def finish_cell(study_name: str, config, parts: list, command: str, seconds: float = 0.0) -> dict:
    """Merge a cell's parts, write its run folder into scratch space and return the files.

    Parameters
    ----------
    study_name : str
    config : the study's Config
    parts : list
        The :func:`run_part` results of the cell, in seed order (or one finished Result).
    command : str
        The equivalent ``nichelab run`` command, recorded as the run's command.
    seconds : float
        Time already spent training the parts elsewhere (added to the run's ``study_s``).

    Returns
    -------
    dict of str -> bytes
        File name -> contents of the run folder (report.html, results.json, weights.safetensors).
    """
    from .provenance import versions
    from .runner import write_run
    study = _study(study_name)
    t0 = time.perf_counter()
    if len(parts) == 1 and isinstance(parts[0], study.Result):
        result = parts[0]
    else:
        seconds += sum(sum(getattr(p, "timings", {}).values()) for p in parts)
        result = chunk_api(study)[1](config, list(parts))
    result.timings["study_s"] = seconds + time.perf_counter() - t0
    result.provenance = {"versions": versions(), "command": command,
                         "created": _dt.datetime.now().isoformat(timespec="seconds")}
    with tempfile.TemporaryDirectory(prefix="nichelab-cell-") as tmp:
        write_run(result, Path(tmp), started=time.perf_counter() - result.timings["study_s"])
        return {p.name: p.read_bytes() for p in Path(tmp).iterdir()}


def run_cell(study_name: str, config, command: str) -> dict:
    """Run a whole cell (all its seeds at once) and return its run folder's files (:func:`finish_cell`)."""
    t0 = time.perf_counter()
    result = _study(study_name).run(config)
    return finish_cell(study_name, config, [result], command, time.perf_counter() - t0)
