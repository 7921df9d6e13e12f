"""Sweeps: a study run once per cell of a grid of settings, every cell with the same seeds.

A sweep folder holds::

    sweep.json       what was asked (study, grid, seeds, cells) and, at the end, the findings
    cells/<cell>/    one run folder per cell, exactly as ``nichelab run`` writes it
    cells.csv        the index: each cell's options, status (done/failed, with the error) and
                     headline numbers (outcome counts and shares with 95% intervals, accuracy)
    report.html      the sweep report (outcome shares and accuracy over the grid, findings)

Cells are written atomically (:func:`nichelab.runs.store.run_folder`), so re-running the same
sweep into the same folder skips finished cells and retries failed or interrupted ones.
"""
from __future__ import annotations

import datetime as _dt
import itertools
import json
import math
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..errors import NichelabError, suggest
from ..options import flag_of, option_specs
from .store import append_index, default_out, prepare_out, run_folder

if TYPE_CHECKING:  # pragma: no cover
    import pandas

__all__ = ["DEFAULT_GRIDS", "sweepable", "parse_grid", "plan_cells", "run_sweep", "SweepOutcome", "headline", "read_cells"]

#: The sweep ``nichelab sweep lab`` runs without --grid (and its seeds per cell).
DEFAULT_GRIDS = {"lab": ({"hidden": ("1", "2", "3", "4", "5", "6"), "init": ("glorot", "torch"),
                          "optimizer": ("adam", "sgd")}, 1000)}
#: Fields set by --seeds (every cell trains the same seed list).
SEED_FIELDS = ("seeds", "first_seed")
SCHEMA = 1


def sweepable(study) -> bool:
    """A study can be swept when its Config trains seeds (has ``seeds`` and ``first_seed``)."""
    names = {s.name for s in option_specs(study.Config)}
    return all(f in names for f in SEED_FIELDS)


def _study(study):
    from ..studies import STUDIES
    ok = [name for name, s in STUDIES.items() if sweepable(s)]
    if isinstance(study, str):
        if study not in list(STUDIES):
            raise NichelabError(f"STUDY must be a study that trains seeds ({', '.join(ok)}); got {study!r}"
                                f"{suggest(study, ok)}")
        study = STUDIES[study]
    if not sweepable(study):
        raise NichelabError(f"STUDY must be a study that trains seeds ({', '.join(ok)}), since every cell of "
                            f"a sweep trains the same seeds; got {study.name!r}, which has no --seeds")
    return study


def parse_grid(study, items) -> dict[str, tuple[str, ...]]:
    """Read ``--grid NAME=V1,V2`` items into ``{field: (values as typed)}``, checking the names.

    Parameters
    ----------
    study : Study or str
    items : iterable of str, or dict of str -> sequence
        ``"lr=0.01,0.1"`` strings (a tuple option lists its values separated by ``;``, each value
        comma-separated), or an already split dict.

    Returns
    -------
    dict of str -> tuple of str
        In the order given.

    Raises
    ------
    NichelabError
        Not ``NAME=VALUES``; a name that is not a command-line option of the study's Config (with
        close matches); ``seeds``/``first_seed`` (set by --seeds); a name given twice; no values or
        a value listed twice.
    """
    study = _study(study)
    specs = {s.name: s for s in option_specs(study.Config) if s.cli}
    names = {s.flag[2:].replace("-", "_"): s.name for s in specs.values()}
    pairs = list(items.items()) if isinstance(items, dict) else [_split(i) for i in items]
    grid: dict[str, tuple[str, ...]] = {}
    for name, values in pairs:
        key = names.get(str(name).strip().lstrip("-").replace("-", "_"), str(name).strip())
        if key in SEED_FIELDS:
            raise NichelabError(f"--grid {name}: every cell trains the same seeds; set them with --seeds "
                                f"and --first-seed, not a grid")
        if key not in specs:
            allowed = [k for k in specs if k not in SEED_FIELDS]
            raise NichelabError(f"--grid NAME must be an option of {study.name} ({', '.join(allowed)}); "
                                f"got {name!r}{suggest(str(name), allowed)}")
        if key in grid:
            raise NichelabError(f"--grid {key} is given twice; list all its values once: {key}=V1,V2")
        if isinstance(values, str):
            sep = ";" if specs[key].sequence else ","
            values = [v.strip() for v in values.split(sep)]
        values = tuple(str(v) if not isinstance(v, (tuple, list)) else ",".join(map(str, v)) for v in values)
        if not values or any(v == "" for v in values):
            raise NichelabError(f"--grid {key} must list values, comma-separated (e.g. {key}=V1,V2); "
                                f"got {','.join(values)!r}")
        dup = next((v for v in values if values.count(v) > 1), None)
        if dup is not None:
            raise NichelabError(f"--grid {key} must list each value once; got {dup!r} twice")
        grid[key] = values
    return grid


def _split(item: str) -> tuple[str, str]:
    name, eq, values = str(item).partition("=")
    if not eq or not name.strip():
        raise NichelabError(f"--grid must be NAME=V1,V2 (e.g. hidden=2,4); got {item!r}")
    return name.strip(), values


def _value(spec, text: str):
    """A grid value as the Config takes it (the Config checks the rule)."""
    low = text.strip().lower()
    if spec.optional and low in ("none", "null", ""):
        return None
    if spec.kind == "bool":
        if low in ("true", "yes", "1", "on"):
            return True
        if low in ("false", "no", "0", "off"):
            return False
        raise NichelabError.for_field(spec.name, "must be true or false", text)
    return text


@dataclass
class Cell:
    """One cell: its grid values (as typed), its Config, and its folder name."""

    values: dict
    config: object
    folder: str
    varying: tuple = ()

    @property
    def label(self) -> str:
        """``"hidden=2, init=torch"``: the values of the fields with more than one value."""
        shown = {k: v for k, v in self.values.items() if k in self.varying} or self.values
        return ", ".join(f"{k}={v}" for k, v in shown.items()) or "all defaults"


def _folder_name(values: dict) -> str:
    parts = [f"{k}-{v}" for k, v in values.items()]
    name = "_".join(parts) or "cell"
    return re.sub(r"[^A-Za-z0-9.=_+-]", "-", name)


def plan_cells(study, grid: dict, seeds: int, first_seed: int = 0) -> list[Cell]:
    """Every cell of ``grid`` (cartesian product, last field varying fastest), its Config built.

    Parameters
    ----------
    study : Study or str
    grid : dict of str -> tuple of str
        From :func:`parse_grid`.
    seeds : int
        Seeds per cell.
    first_seed : int, default 0

    Returns
    -------
    list of Cell
        In grid order; ``Cell.folder`` is the cell's folder name under ``cells/``.

    Raises
    ------
    NichelabError
        A cell whose settings the study's Config rejects, naming the cell and the rule (raised
        before anything runs).
    """
    study = _study(study)
    specs = {s.name: s for s in option_specs(study.Config)}
    cells, seen = [], set()
    for combo in itertools.product(*grid.values()):
        values = dict(zip(grid, combo))
        kwargs = {k: _value(specs[k], v) for k, v in values.items()}
        try:
            config = study.Config(**kwargs, seeds=seeds, first_seed=first_seed)
        except NichelabError as exc:
            if exc.field in SEED_FIELDS:
                raise exc.with_flag(flag_of(exc.field)) from None
            where = ", ".join(f"{k}={v}" for k, v in values.items())
            raise NichelabError(f"--grid cell {where}: {exc}", field=exc.field) from None
        except TypeError as exc:  # a Config without seeds / first_seed
            raise NichelabError(f"sweep: study {study.name} cannot be swept over seeds: {exc}") from None
        name = _folder_name(values)
        if name in seen:
            raise NichelabError(f"--grid values must differ after spaces and symbols are replaced; "
                                f"two cells would both be named {name!r}")
        seen.add(name)
        cells.append(Cell(values, config, name, tuple(k for k, v in grid.items() if len(v) > 1)))
    return cells


# ---- headline numbers -------------------------------------------------------------------------
def _mean_ci(values: list[float]) -> tuple[float, float, float]:
    """Mean and its normal-approximation 95% interval (mean +- 1.96 standard errors)."""
    vals = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not vals:
        return math.nan, math.nan, math.nan
    n = len(vals)
    m = sum(vals) / n
    sd = math.sqrt(sum((v - m) ** 2 for v in vals) / (n - 1)) if n > 1 else 0.0
    half = 1.959963984540054 * sd / math.sqrt(n)
    return m, m - half, m + half


def headline(data: dict) -> dict:
    """The headline numbers of one run, from its ``results.json`` content.

    Outcome counts (``n_<outcome>``), shares and their Wilson 95% intervals when the summary has
    ``outcome_counts`` (the lab); the mean per-seed accuracy and its 95% interval when the run
    has per-seed accuracies; otherwise the summary's top-level numbers.
    """
    from ..studies.text import wilson_interval
    row: dict = {}
    summary = data.get("summary") if isinstance(data.get("summary"), dict) else {}
    counts = summary.get("outcome_counts")
    n = len(data.get("seeds") or [])
    row["n_seeds"] = n
    if isinstance(counts, dict):
        total = sum(counts.values())
        for o, k in counts.items():
            lo, hi = wilson_interval(k, total)
            row.update({f"n_{o}": int(k), f"share_{o}": k / total if total else math.nan,
                        f"share_{o}_lo": lo, f"share_{o}_hi": hi})
    else:
        for k, v in summary.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                row[k] = v
    accs = [r.get("accuracy") for r in data.get("per_seed") or [] if isinstance(r, dict)]
    if accs:
        row["accuracy_mean"], row["accuracy_lo"], row["accuracy_hi"] = _mean_ci(accs)
    return row


# ---- the sweep --------------------------------------------------------------------------------
@dataclass
class SweepOutcome:
    """What a sweep left: its folder, and the cells done, skipped (already done) and failed."""

    folder: Path
    done: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: dict = field(default_factory=dict)
    seconds: float = 0.0


def _spec(study, grid: dict, seeds: int, first_seed: int) -> dict:
    return {"study": study.name, "grid": {k: list(v) for k, v in grid.items()}, "seeds": seeds,
            "first_seed": first_seed}


def _prepare(out, study, spec: dict) -> Path:
    """Create the sweep folder, or reopen the same sweep's folder to resume it."""
    if out is None:
        out = default_out(f"sweep-{study.name}")
    out = Path(out)
    meta = out / "sweep.json"
    if meta.is_file():
        old = json.loads(meta.read_text(encoding="utf-8"))
        if {k: old.get(k) for k in spec} != spec:
            raise NichelabError(f"--out {str(out)!r} holds a different sweep ({old.get('study')} over "
                                f"{old.get('grid')}, {old.get('seeds')} seeds from {old.get('first_seed')}); "
                                "give a new folder, or the same study, grid and seeds to resume it")
        for partial in (out / "cells").glob(".*.partial-*"):  # left by a killed sweep
            shutil.rmtree(partial, ignore_errors=True)
        return out
    out = prepare_out(out)
    (out / "cells").mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps({**spec, "schema": SCHEMA,
                                "created": _dt.datetime.now().isoformat(timespec="seconds")}, indent=1),
                    encoding="utf-8")
    return out


def _write_files(dest: Path, files: dict) -> None:
    with run_folder(dest) as tmp:
        for name, data in files.items():
            (tmp / name).write_bytes(data)


def run_sweep(study, grid=None, seeds: int | None = None, *, first_seed: int = 0, backend: str = "local",
              address: str | None = None, chunk: int | None = 5000, out=None, workers: int | None = None,
              progress: Callable[[str], None] | None = None) -> SweepOutcome:
    """Run ``study`` once per cell of ``grid`` and write the sweep folder.

    Parameters
    ----------
    study : Study or str
    grid : dict of str -> values, or list of ``"NAME=V1,V2"``, optional
        The settings to sweep (cartesian product). None or empty: the study's default sweep
        (:data:`DEFAULT_GRIDS`; the lab's is hidden 1-6 x init glorot/torch x optimizer adam/sgd).
    seeds : int, optional
        Seeds per cell (every cell trains ``first_seed .. first_seed + seeds - 1``). Default: the
        default sweep's (1000 for the lab) or the study's own default.
    first_seed : int, default 0
    backend : {"local", "ray"}, default "local"
    address : str, optional
        A Ray cluster to join (``--backend ray`` only).
    chunk : int or None, default 5000
        Seeds per task for studies that can train seed chunks (the lab); rounded up to a multiple
        of 256. None: every cell is one task.
    out : path, optional
        The sweep folder (default a new ``runs/sweep-<study>-<timestamp>``). An existing sweep
        folder of the same study, grid and seeds is resumed: finished cells are skipped.
    workers : int, optional
        Processes (local) or CPUs of a locally started Ray; default the cores.
    progress : callable (line: str) -> None, optional
        Called with one line per finished or failed cell.

    Returns
    -------
    SweepOutcome

    Raises
    ------
    NichelabError
        A bad grid, a cell the study's Config rejects, a bad backend/address/chunk/workers, an
        ``out`` holding something else -- all before anything runs; Ray missing (with the
        install hint).
    """
    from .sweep_backends import Job, import_ray, run_local, run_ray
    from .sweep_report import write_report
    from .sweep_tasks import cell_command, chunk_api, chunk_bounds
    t0 = time.perf_counter()
    study = _study(study)
    if backend not in ("local", "ray"):
        raise NichelabError(f"--backend must be local or ray; got {backend!r}")
    if address and backend != "ray":
        raise NichelabError(f"--address is for --backend ray; got --address {address!r} with --backend {backend}")
    for name, v in (("chunk", chunk), ("workers", workers)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise NichelabError(f"--{name} must be an integer >= 1; got {v!r}")
    default_grid, default_seeds = DEFAULT_GRIDS.get(study.name, (None, None))
    if not grid:
        if default_grid is None:
            raise NichelabError(f"--grid is required for {study.name} (a default sweep exists for "
                                f"{', '.join(DEFAULT_GRIDS)}); e.g. --grid epochs=50,100")
        grid = default_grid
    grid = parse_grid(study, grid)
    if seeds is None:
        seeds = default_seeds or next((s.default for s in option_specs(study.Config) if s.name == "seeds"), 1)
    cells = plan_cells(study, grid, seeds, first_seed)
    if backend == "ray":
        import_ray()
    spec = _spec(study, grid, seeds, first_seed)
    out = _prepare(out, study, spec)
    say = progress or (lambda line: None)
    result = SweepOutcome(out)
    chunked = chunk_api(study) is not None
    jobs = []
    for i, cell in enumerate(cells):
        if (out / "cells" / cell.folder / "results.json").is_file():
            result.skipped.append(cell.folder)
            continue
        jobs.append(Job(i, cell.folder, cell.config, cell_command(study, cell.config, list(grid)),
                        chunk_bounds(seeds, chunk, chunked)))
    if result.skipped:
        say(f"resuming: {len(result.skipped)} of {len(cells)} cells already finished, {len(jobs)} to run")

    def on_done(job, files, error) -> None:
        n = len(result.done) + len(result.failed) + 1
        if error is None:
            try:
                _write_files(out / "cells" / job.name, files)
                append_index(out / "cells" / job.name, {"study": study.name, "command": job.command,
                                                         "created": _dt.datetime.now().isoformat(timespec="seconds")})
            except OSError as exc:
                error = f"writing the run folder failed: {exc.strerror or exc}"
        if error is None:
            result.done.append(job.name)
            say(f"[{n}/{len(jobs)}] {cells[job.index].label}: done ({time.perf_counter() - t0:.0f} s)")
        else:
            result.failed[job.name] = error
            say(f"[{n}/{len(jobs)}] {cells[job.index].label}: FAILED: {error}")

    try:
        if jobs:
            if backend == "ray":
                run_ray(study.name, jobs, on_done, workers=workers, address=address)
            else:
                run_local(study.name, jobs, on_done, workers=workers)
    finally:
        rows = _index_rows(out, cells, grid, result)
        _write_index(out, rows)
    result.seconds = time.perf_counter() - t0
    write_report(out, study.name, spec, rows, result.seconds)
    return result


def _index_rows(out: Path, cells: list[Cell], grid: dict, result: SweepOutcome) -> list[dict]:
    rows = []
    for cell in cells:
        row = {"cell": cell.label, "folder": f"cells/{cell.folder}"}
        row.update({k: ",".join(map(str, v)) if isinstance(v, tuple) else v
                    for k, v in ((k, getattr(cell.config, k)) for k in grid)})
        path = out / "cells" / cell.folder / "results.json"
        if path.is_file():
            row.update(status="done", error="")
            row.update(headline(json.loads(path.read_text(encoding="utf-8"))))
        else:
            row.update(status="failed" if cell.folder in result.failed else "not run",
                       error=result.failed.get(cell.folder, "interrupted before this cell finished"))
        rows.append(row)
    return rows


def _write_index(out: Path, rows: list[dict]) -> None:
    import pandas as pd
    tmp = out / ".cells.csv.tmp"
    pd.DataFrame(rows).to_csv(tmp, index=False)
    tmp.replace(out / "cells.csv")


def read_cells(folder) -> "pandas.DataFrame":
    """The index of a sweep folder (``cells.csv``) as a pandas DataFrame."""
    import pandas as pd
    path = Path(folder) / "cells.csv"
    if not path.is_file():
        raise NichelabError(f"folder must be a sweep folder with cells.csv; {str(folder)!r} has none")
    return pd.read_csv(path, keep_default_na=False, na_values=[""])
