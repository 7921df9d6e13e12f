"""The one exception type nichelab raises for bad input, and helpers that build it."""
from __future__ import annotations

import difflib
from typing import Iterable

__all__ = ["NichelabError", "suggest", "check_positive_int"]


class NichelabError(ValueError):
    """Bad input or a failed step, with a message naming the argument, the rule and what came in.

    The CLI turns it into one line on stderr and exit code 2, never a traceback.
    It subclasses ``ValueError`` so library users may catch either.
    """


def suggest(name: str, choices: Iterable[str], n: int = 3) -> str:
    """Return ``" (did you mean 'a', 'b'?)"`` for the closest names to ``name``, or ``""``."""
    close = difflib.get_close_matches(str(name), list(choices), n=n, cutoff=0.4)
    if not close:
        return ""
    return " (did you mean " + ", ".join(repr(c) for c in close) + "?)"


def check_positive_int(name: str, value, minimum: int = 1) -> int:
    """Return ``value`` as int if it is an integer >= ``minimum``; else raise NichelabError.

    Raises
    ------
    NichelabError
        ``"{name} must be an integer >= {minimum}; got {value!r}"``.
    """
    if isinstance(value, bool) or not isinstance(value, (int,)) and not (
        hasattr(value, "__index__")
    ):
        raise NichelabError(f"{name} must be an integer >= {minimum}; got {value!r}")
    value = int(value)
    if value < minimum:
        raise NichelabError(f"{name} must be an integer >= {minimum}; got {value}")
    return value
