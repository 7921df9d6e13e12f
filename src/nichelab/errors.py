"""The one exception type nichelab raises for bad input, and helpers that build it."""
from __future__ import annotations

import difflib
from typing import Iterable

__all__ = ["NichelabError", "suggest", "check_positive_int"]


class NichelabError(ValueError):
    """Bad input or a failed step, with a message naming the argument, the rule and what came in.

    The CLI turns it into one line on stderr and exit code 2, never a traceback.
    It subclasses ``ValueError`` so library users may catch either.

    Parameters
    ----------
    message : str
        The whole message; when ``field`` is given it starts with the field's name.
    field : str, optional
        The config field the message is about (e.g. ``"first_seed"``); the CLI shows it as the
        flag the user typed (``--first-seed``).
    """

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field

    @classmethod
    def about(cls, field: str, message: str) -> "NichelabError":
        """``message`` (which starts with ``field``), remembering ``field``."""
        return cls(message, field=field)

    @classmethod
    def for_field(cls, field: str, rule: str, value) -> "NichelabError":
        """``"{field} {rule}; got {value!r}"``, remembering ``field``."""
        return cls(f"{field} {rule}; got {value!r}", field=field)

    def with_flag(self, flag: str) -> "NichelabError":
        """The same error with its leading field name replaced by ``flag`` (for the CLI)."""
        text = str(self)
        if self.field and text.startswith(self.field):
            text = flag + text[len(self.field):]
        return NichelabError(text, field=self.field)

    def renamed(self, field: str) -> "NichelabError":
        """The same error about ``field`` instead (a helper's argument that is a config's field of
        another name, e.g. ``model`` -> ``models``); a message without a field gets ``field: `` first."""
        text = str(self)
        if self.field and text.startswith(self.field):
            return NichelabError(field + text[len(self.field):], field=field)
        return NichelabError(f"{field}: {text}", field=field)


def suggest(name: str, choices: Iterable[str], n: int = 3) -> str:
    """Return ``" (did you mean 'a', 'b'?)"`` for the closest names to ``name``, or ``""``."""
    close = difflib.get_close_matches(str(name), list(choices), n=n, cutoff=0.4)
    if not close:
        return ""
    return " (did you mean " + ", ".join(repr(c) for c in close) + "?)"


def check_positive_int(name: str, value, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``value`` as int if it is an integer in ``[minimum, maximum]``; else raise NichelabError.

    Raises
    ------
    NichelabError
        ``"{name} must be an integer >= {minimum}; got {value!r}"`` (field ``name``).
    """
    rule = f"must be an integer >= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise NichelabError.for_field(name, rule, value)
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        raise NichelabError.for_field(name, rule, value)
    return value
