"""Built-in studies and their registry.

:data:`STUDIES` maps each study's name to its :class:`~nichelab.studies.base.Study`. A study is
found, with no registration line anywhere else, by its folder ``nichelab/studies/<name>/``
holding a ``config.py`` that declares ``STUDY``. Listing studies imports only their configs (no
torch); a study's code is imported when it first runs.

Example
-------
>>> from nichelab.studies import STUDIES
>>> study = STUDIES["lab"]
>>> result = study.run(study.Config(seeds=10, epochs=20))   # doctest: +SKIP
"""
from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path

from .base import Result, Study

__all__ = ["STUDIES", "Study", "Result", "get_study"]


class _Registry(Mapping):
    """Name -> Study, discovered from the study folders on first use."""

    def __init__(self) -> None:
        self._studies: dict[str, Study] | None = None

    def _load(self) -> dict[str, Study]:
        if self._studies is None:
            found = {}
            for folder in sorted(Path(__file__).parent.iterdir()):
                if (folder / "config.py").is_file():
                    study = getattr(importlib.import_module(f"{__name__}.{folder.name}.config"), "STUDY", None)
                    if study is not None:
                        found[study.name] = study
            self._studies = found
        return self._studies

    def __getitem__(self, name: str) -> Study:
        studies = self._load()
        if name not in studies:
            from ..errors import NichelabError, suggest
            raise NichelabError(f"study must be one of {', '.join(studies)}; got {name!r}{suggest(name, studies)}")
        return studies[name]

    def __iter__(self):
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def __repr__(self) -> str:
        return f"STUDIES({', '.join(self._load())})"


#: Every built-in study by name.
STUDIES = _Registry()


def get_study(name: str) -> Study:
    """The study called ``name`` (NichelabError with close matches when unknown)."""
    return STUDIES[name]
