"""Run folders: writing a study's run atomically, the index of runs, and reading a run back."""
from __future__ import annotations

__all__ = ["execute", "load_run", "write_run"]


def __getattr__(name):
    if name in ("execute", "write_run"):
        from . import runner
        return getattr(runner, name)
    if name == "load_run":
        from .load import load_run
        return load_run
    raise AttributeError(name)
