"""Read a run folder back into its study's Result."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import NichelabError

__all__ = ["load_run", "read_results"]


def read_results(folder: str | Path) -> dict:
    """The parsed ``results.json`` of a run folder.

    Raises
    ------
    NichelabError
        The folder or its ``results.json`` is missing or not valid JSON.
    """
    path = Path(folder) / "results.json"
    if not path.is_file():
        raise NichelabError(f"run folder {str(folder)!r} has no results.json (is it a folder written by nichelab run?)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NichelabError(f"{str(path)!r} is not readable JSON: {exc}") from None


def load_run(folder: str | Path):
    """The Result of a finished run, rebuilt from its ``results.json`` and ``weights.safetensors``.

    Parameters
    ----------
    folder : str or Path
        A run folder written by ``nichelab run`` (or :func:`nichelab.runs.execute`).

    Returns
    -------
    Result
        The study's result class, with the numbers of the run (floats exactly as written).

    Raises
    ------
    NichelabError
        Not a run folder, an unknown study, or a schema version this nichelab does not read.

    Example
    -------
    >>> res = nichelab.load_run("runs/lab-20261202-101500")      # doctest: +SKIP
    >>> res.tables()["seeds"].head()                              # doctest: +SKIP
    """
    from ..studies import STUDIES
    data = read_results(folder)
    study = STUDIES[str(data.get("study"))]
    weights = {}
    wpath = Path(folder) / "weights.safetensors"
    if wpath.is_file():
        from safetensors.numpy import load_file
        weights = load_file(str(wpath))
    return study.Result.from_dict(data, weights)
