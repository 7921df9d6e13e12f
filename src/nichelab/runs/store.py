"""Run folders, written atomically, and the index of runs beside them.

A run is written into a hidden temporary folder next to its destination and renamed into
place only when every file is complete, so an interrupted or failed run never leaves a folder
that looks complete. Each finished run appends one line to ``index.jsonl`` in its parent folder.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import NichelabError

__all__ = ["RunFinishedInterrupt", "default_out", "prepare_out", "run_folder", "append_index", "read_index"]


class RunFinishedInterrupt(KeyboardInterrupt):
    """An interrupt that arrived after the run folder was complete (``folder`` holds the run)."""

    def __init__(self, folder: Path):
        super().__init__(str(folder))
        self.folder = folder


def default_out(study: str, root: str | Path = "runs") -> Path:
    """A new folder ``runs/<study>-<YYYYmmdd-HHMMSS>[-N]``, reserved at once.

    The folder is created (empty) with an atomic ``mkdir``, so two runs started in the same
    second get different folders (``-1``, ``-2`` ...). :func:`run_folder` fills it atomically.
    """
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NichelabError(f"--out: cannot create the default run folder under {str(root)!r}: "
                            f"{exc.strerror or exc}") from None
    for i in range(10_000):
        path = root / (f"{study}-{stamp}" + (f"-{i}" if i else ""))
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
        except OSError as exc:
            raise NichelabError(f"--out: cannot create the default run folder {str(path)!r}: "
                                f"{exc.strerror or exc}") from None
    raise NichelabError(f"--out: no free run folder name under {str(root)!r} for {study}-{stamp}")


def prepare_out(out: str | Path) -> Path:
    """Check that ``out`` can be created before any work starts.

    Raises
    ------
    NichelabError
        ``out`` exists and is not an empty folder, or its parent cannot be created or written.
    """
    if not str(out).strip():
        raise NichelabError("--out must be a folder path; got an empty string ''")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NichelabError(f"--out must be a folder; {str(out)!r} is an existing file")
    if out.exists() and any(out.iterdir()):
        raise NichelabError(f"--out must be a new or empty folder; {str(out)!r} already exists and is not empty")
    blocker = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise NichelabError(f"--out must be a folder nichelab can create; {str(blocker)!r} in its path is a file")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        probe = tempfile.mkdtemp(prefix=f".{out.name}.check-", dir=out.parent)
        os.rmdir(probe)
    except OSError as exc:
        raise NichelabError(f"--out must be a folder nichelab can write; cannot write to {str(out)!r}: "
                            f"{exc.strerror or exc}") from None
    return out


@contextmanager
def run_folder(out: str | Path) -> Iterator[Path]:
    """Yield a temporary folder to write a run into; on success rename it to ``out``.

    On any exception (including KeyboardInterrupt) the temporary folder is removed and the
    exception propagates; ``out`` is never left half-written.
    """
    out = prepare_out(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; a run folder gets ordinary permissions
    try:
        yield tmp
        if out.exists():
            out.rmdir()  # empty (checked above)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def append_index(out: Path, entry: dict) -> None:
    """Append ``entry`` (with the run's folder name) as one JSON line to ``out.parent/index.jsonl``."""
    line = json.dumps({"folder": Path(out).name, **entry}, default=str)
    with open(Path(out).parent / "index.jsonl", "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def read_index(root: str | Path = "runs") -> list[dict]:
    """The entries of ``root/index.jsonl`` whose folders still exist, oldest first."""
    path = Path(root) / "index.jsonl"
    if not path.exists():
        return []
    entries = [json.loads(l) for l in path.read_text().splitlines() if l.strip()]
    return [e for e in entries if (Path(root) / e["folder"]).is_dir()]
