"""Where a sweep's cells run: a local process pool (default) or Ray (``--backend ray``).

Both take the same jobs (one per cell: its config, its seed chunks) and report each finished
cell as the files of its run folder, or its error, through ``on_done(job, files, error)``. The
sweep writes the folders; backends only compute. ``import ray`` happens only in
:func:`run_ray`.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Callable

from ..errors import NichelabError
from .sweep_tasks import finish_cell, run_cell, run_part

__all__ = ["Job", "run_local", "run_ray", "import_ray", "default_workers", "RAY_HINT"]

RAY_HINT = "pip install 'nichelab[ray]'"
#: Times Ray re-runs a task whose worker process died (lost node, killed process).
RAY_RETRIES = 3

OnDone = Callable[["Job", "dict | None", "str | None"], None]


@dataclass
class Job:
    """One cell of a sweep: ``bounds`` are its seed chunks (positions in ``config.seed_list``)."""

    index: int
    name: str
    config: object
    command: str
    bounds: list


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _worker_init() -> None:
    """In a pool worker: Ctrl-C is the parent's to handle (it shuts the pool down), so ignore it.

    Workers start with SIGINT blocked (see :func:`_no_sigint`); a Ctrl-C that arrived while this
    process was starting is discarded when it is ignored and then unblocked.
    """
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    from ..reporting.style import _die_with_parent
    _die_with_parent()
    import torch
    torch.set_num_threads(1)


@contextlib.contextmanager
def _no_sigint():
    """Block SIGINT in this thread while it starts worker processes (they inherit the mask).

    A Ctrl-C meanwhile stays pending and is delivered here when the block ends.
    """
    import signal
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not POSIX
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _stop(pool) -> None:
    """Ctrl-C: cancel queued cells and end the workers now (they ignore SIGINT)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        try:
            p.terminate()
        except (OSError, ValueError, AttributeError):  # pragma: no cover - already gone
            pass
    for p in procs:
        try:
            p.join(5)
        except (OSError, ValueError, AssertionError, AttributeError):  # pragma: no cover
            pass


# ---- local ------------------------------------------------------------------------------------
def run_local(study: str, jobs: list[Job], on_done: OnDone, workers: int | None = None) -> None:
    """Run ``jobs`` in a pool of ``workers`` processes (default: the cores); 1 runs them here.

    Parameters
    ----------
    study : str
    jobs : list of Job
    on_done : callable (job, files, error) -> None
        Called in this process for each cell: its run folder's files, or its error in one line.
    workers : int, optional

    Each chunk of a cell is a task; a cell with one chunk is trained and written by one task, a
    chunked cell is merged and written by a task submitted when its last chunk is done.
    """
    workers = workers or default_workers()
    if workers == 1:
        for job in jobs:
            try:
                if len(job.bounds) == 1:
                    files = run_cell(study, job.config, job.command)
                else:
                    parts = [run_part(study, job.config, a, b) for a, b in job.bounds]
                    files = finish_cell(study, job.config, parts, job.command)
            except Exception as exc:  # a failed cell is reported, the sweep goes on
                on_done(job, None, _error(exc))
                continue
            on_done(job, files, None)
        return
    import multiprocessing as mp
    pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_worker_init)
    try:
        _run_pool(pool, study, jobs, on_done)
    except BaseException:  # Ctrl-C: do not wait for running cells
        _stop(pool)
        raise
    pool.shutdown(wait=True)


def _submit(pool, fn, *args):
    """``pool.submit``, which may start a worker process: with SIGINT blocked meanwhile."""
    with _no_sigint():
        return pool.submit(fn, *args)


def _run_pool(pool, study: str, jobs: list[Job], on_done: OnDone) -> None:
    pending: dict = {}
    parts: dict = {}
    failed: set = set()
    for job in jobs:
        if len(job.bounds) == 1:
            pending[_submit(pool, run_cell, study, job.config, job.command)] = (job, None)
        else:
            parts[job.index] = [None] * len(job.bounds)
            for k, (a, b) in enumerate(job.bounds):
                pending[_submit(pool, run_part, study, job.config, a, b)] = (job, k)
    while pending:
        done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
        for fut in done:
            job, k = pending.pop(fut)
            if job.index in failed:
                continue
            try:
                value = fut.result()
            except Exception as exc:  # the study's error (or a worker that died): the cell failed
                failed.add(job.index)
                on_done(job, None, _error(exc))
                continue
            if k is None:
                on_done(job, value, None)
                continue
            parts[job.index][k] = value
            if all(p is not None for p in parts[job.index]):
                got = parts.pop(job.index)
                pending[_submit(pool, finish_cell, study, job.config, got, job.command)] = (job, None)


# ---- Ray --------------------------------------------------------------------------------------
def import_ray():
    """The ``ray`` module, or a NichelabError with the install hint."""
    try:
        import ray
    except ImportError:
        raise NichelabError(f"--backend ray needs Ray, which is not installed; install it with: {RAY_HINT}") from None
    return ray


def _finish_parts(study: str, config, command: str, *parts) -> dict:
    """Ray task: the parts arrive as separate arguments so Ray resolves them before the call."""
    return finish_cell(study, config, list(parts), command)


def _ray_error(ray, exc: BaseException) -> str:
    cause = getattr(exc, "cause", None)
    if isinstance(exc, ray.exceptions.RayTaskError) and cause is not None:
        return _error(cause)
    if isinstance(exc, (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError)):
        return f"{type(exc).__name__}: the worker was lost {RAY_RETRIES + 1} times"
    return _error(exc)


def run_ray(study: str, jobs: list[Job], on_done: OnDone, workers: int | None = None,
            address: str | None = None) -> None:
    """Run ``jobs`` as Ray tasks: a cell, or each chunk of a chunked cell, is one task.

    Parameters
    ----------
    study : str
    jobs : list of Job
    on_done : callable (job, files, error) -> None
    workers : int, optional
        CPUs of the local Ray started when there is no ``address`` (default: the cores).
    address : str, optional
        An existing cluster (``ray start --head`` prints it; ``auto`` finds a local one). Without
        it, and when Ray is not already initialised in this process, a local Ray bound to
        127.0.0.1 is started (no dashboard, its files in a fresh temporary folder) and shut down
        at the end.

    Tasks whose worker dies are re-run up to 3 times (``max_retries``); an exception raised by
    the study itself is not retried but reported as the cell's error.

    Raises
    ------
    NichelabError
        Ray is not installed, or the cluster at ``address`` cannot be reached.
    """
    ray = import_ray()
    tmp, started = None, False
    if not ray.is_initialized():
        try:
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                tmp = tempfile.mkdtemp(prefix="nlray-", dir="/tmp" if os.path.isdir("/tmp") else None)
                ray.init(num_cpus=workers or default_workers(), include_dashboard=False, _temp_dir=tmp,
                         _node_ip_address="127.0.0.1", log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)
            raise NichelabError(f"--address: cannot start or join Ray at {address or 'a local node'!r}: "
                                f"{_error(exc)}") from None
        started = True
    try:
        _run_tasks(ray, study, jobs, on_done)
    finally:
        if started:
            ray.shutdown()
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)


def _run_tasks(ray, study: str, jobs: list[Job], on_done: OnDone) -> None:
    opts = dict(max_retries=RAY_RETRIES, retry_exceptions=False, num_cpus=1)
    cell, part, fin = (ray.remote(**opts)(f) for f in (run_cell, run_part, _finish_parts))
    refs = {}
    for job in jobs:
        if len(job.bounds) == 1:
            ref = cell.remote(study, job.config, job.command)
        else:
            chunks = [part.remote(study, job.config, a, b) for a, b in job.bounds]
            ref = fin.remote(study, job.config, job.command, *chunks)
        refs[ref] = job
    try:
        while refs:
            done, _ = ray.wait(list(refs), num_returns=1)
            job = refs.pop(done[0])
            try:
                files = ray.get(done[0])
            except ray.exceptions.RayError as exc:
                on_done(job, None, _ray_error(ray, exc))
                continue
            on_done(job, files, None)
    except BaseException:
        for ref in refs:
            ray.cancel(ref, force=True)
        raise
