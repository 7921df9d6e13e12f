"""Options declared once: a config field carries its type, default, help text and constraint.

Every study's settings are a dataclass whose fields are made with :func:`option`. From that one
declaration come the validation (:func:`validate`, called by :class:`Options.__post_init__`),
the command-line flags (``nichelab.cli`` generates them) and the help text. Field names are the
library's names; the CLI shows them as flags (``first_seed`` -> ``--first-seed``).

Supported field types: ``int``, ``float``, ``str``, ``bool``, ``Literal[...]``, ``X | None``, and
``tuple[X, ...]`` of those (given on the command line as comma-separated values).

Example
-------
>>> from dataclasses import dataclass
>>> @dataclass
... class Demo(Options):
...     seeds: int = option(5, help="Seeds trained at once.", ge=1)
>>> Demo(seeds=0)                                  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
NichelabError: seeds must be an integer >= 1 and <= 2147483647; got 0
"""
from __future__ import annotations

import dataclasses
import math
import numbers
import types
import typing
from typing import Any, Literal, get_args, get_origin

from .errors import NichelabError, suggest

__all__ = ["option", "Options", "validate", "OptionSpec", "option_specs", "flag_of", "INT_MAX"]

#: Upper bound of every integer option unless it declares its own (fits a C int and any seed API).
INT_MAX = 2**31 - 1


def option(default: Any = dataclasses.MISSING, *, help: str, ge: float | None = None, le: float | None = None,
           gt: float | None = None, lt: float | None = None, cli: bool = True, flag: str | None = None,
           min_items: int = 1, objects: bool = False, default_factory: Any = dataclasses.MISSING) -> Any:
    """A dataclass field declared once: default, help, and constraint.

    Parameters
    ----------
    default : any
        Default value (tuples for sequences; never a mutable list).
    help : str
        One-line help shown by ``--help`` and in docs.
    ge, le, gt, lt : float, optional
        Bounds for numbers (and for each item of a tuple of numbers). Integers get ``le=INT_MAX``
        unless given.
    cli : bool, default True
        False for settings that exist in the library only (e.g. a model object).
    flag : str, optional
        The command-line flag (default ``--`` + the field name with ``-`` for ``_``).
    min_items : int, default 1
        Fewest items a tuple option may have.
    objects : bool, default False
        A ``str`` option that also accepts Python objects in the library (e.g. a model given as an
        ``nn.Module`` instead of a path); objects are passed through unchecked.
    default_factory : callable, optional
        As in :func:`dataclasses.field`.
    """
    meta = {"help": help, "ge": ge, "le": le, "gt": gt, "lt": lt, "cli": cli, "flag": flag,
            "min_items": min_items, "objects": objects}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata={"nichelab": meta})
    return dataclasses.field(default=default, metadata={"nichelab": meta})


@dataclasses.dataclass(frozen=True)
class OptionSpec:
    """One declared option, resolved: name, type, default, help, bounds, choices, flag."""

    name: str
    kind: str            # "int", "float", "str", "bool", "choice"
    default: Any
    help: str
    optional: bool
    sequence: bool
    choices: tuple = ()
    ge: float | None = None
    le: float | None = None
    gt: float | None = None
    lt: float | None = None
    cli: bool = True
    flag: str = ""
    min_items: int = 1
    objects: bool = False


def flag_of(name: str) -> str:
    """The command-line flag of field ``name``: ``first_seed`` -> ``--first-seed``."""
    return "--" + name.replace("_", "-")


def _resolve(tp) -> tuple[str, bool, bool, tuple]:
    """(kind, optional, sequence, choices) of a field type."""
    optional = sequence = False
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        optional = len(args) < len(get_args(tp))
        tp = args[0] if len(args) == 1 else Any
        origin = get_origin(tp)
    if origin is tuple:
        sequence, tp = True, get_args(tp)[0]
        origin = get_origin(tp)
    if origin is Literal:
        return "choice", optional, sequence, tuple(get_args(tp))
    kind = {int: "int", float: "float", str: "str", bool: "bool"}.get(tp, "any")
    return kind, optional, sequence, ()


def option_specs(cls) -> list[OptionSpec]:
    """The declared options of a config dataclass (class or instance), in field order."""
    cls = cls if isinstance(cls, type) else type(cls)
    cached = cls.__dict__.get("_option_specs")
    if cached is not None:
        return cached
    hints = typing.get_type_hints(cls)
    specs = []
    for f in dataclasses.fields(cls):
        meta = f.metadata.get("nichelab")
        if meta is None:
            continue
        kind, optional, sequence, choices = _resolve(hints[f.name])
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        le = meta["le"] if meta["le"] is not None or kind != "int" else INT_MAX
        specs.append(OptionSpec(f.name, kind, default, meta["help"], optional, sequence, choices,
                                meta["ge"], le, meta["gt"], meta["lt"], meta["cli"] and kind != "any",
                                meta["flag"] or flag_of(f.name), meta["min_items"], meta["objects"]))
    setattr(cls, "_option_specs", specs)
    return specs


def _bounds_rule(spec: OptionSpec) -> str:
    parts = []
    for sym, v in ((">=", spec.ge), (">", spec.gt), ("<=", spec.le), ("<", spec.lt)):
        if v is not None:
            parts.append(f"{sym} {v:g}" if isinstance(v, float) else f"{sym} {v}")
    return " and ".join(parts)


def _check_number(spec: OptionSpec, value, label: str):
    bounds = _bounds_rule(spec)
    if spec.kind == "int":
        rule = "must be an integer" + (f" {bounds}" if bounds else "")
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise NichelabError.for_field(label, rule, value) from None
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise NichelabError.for_field(label, rule, value)
        value = int(value)
    else:
        rule = "must be a finite number" + (f" {bounds}" if bounds else "")
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise NichelabError.for_field(label, rule, value) from None
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise NichelabError.for_field(label, rule, value)
        value = float(value)
    if ((spec.ge is not None and value < spec.ge) or (spec.le is not None and value > spec.le)
            or (spec.gt is not None and value <= spec.gt) or (spec.lt is not None and value >= spec.lt)):
        raise NichelabError.for_field(label, rule, value)
    return value


def _check_item(spec: OptionSpec, value, label: str):
    if spec.kind in ("int", "float"):
        return _check_number(spec, value, label)
    if spec.kind == "choice":
        if value not in spec.choices:
            rule = "must be one of " + ", ".join(str(c) for c in spec.choices)
            raise NichelabError(f"{label} {rule}; got {value!r}{suggest(str(value), map(str, spec.choices))}",
                                field=spec.name)
        return value
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise NichelabError.for_field(label, "must be true or false", value)
        return value
    if spec.kind == "str":
        if spec.objects and not isinstance(value, str):
            return value
        if not isinstance(value, str) or not value.strip():
            raise NichelabError.for_field(label, "must be a non-empty string", value)
        return value
    return value


def _as_items(spec: OptionSpec, value) -> tuple:
    if isinstance(value, str):
        if not value.strip():
            return ()
        items = tuple(v.strip() for v in value.split(","))
        if "" in items:
            raise NichelabError.for_field(spec.name, "must list values separated by single commas, "
                                          "with no empty item", value)
        return items
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,)


def validate(config) -> None:
    """Check and normalise every declared option of ``config`` in place.

    Strings are accepted for numbers and comma-separated strings for tuples (as typed on the
    command line); tuples become tuples of checked items.

    Raises
    ------
    NichelabError
        The first option that breaks its rule: names the field, the rule and the value received
        (``err.field`` holds the field name, which the CLI shows as the flag).
    """
    for spec in option_specs(config):
        value = getattr(config, spec.name)
        if value is None:
            if spec.optional:
                continue
            raise NichelabError.for_field(spec.name, "must be given", value)
        if spec.sequence:
            items = _as_items(spec, value)
            if len(items) < spec.min_items:
                raise NichelabError.for_field(spec.name, f"must list at least {spec.min_items} value(s), "
                                              "comma-separated", value)
            value = tuple(_check_item(spec, v, spec.name) for v in items)
        else:
            value = _check_item(spec, value, spec.name)
        object.__setattr__(config, spec.name, value)


@dataclasses.dataclass
class Options:
    """Base of every config dataclass: validates declared options, then calls :meth:`check`.

    Subclasses declare fields with :func:`option` and put rules that relate several fields in
    :meth:`check`, raising :meth:`NichelabError.for_field`.
    """

    def __post_init__(self) -> None:
        validate(self)
        self.check()

    def check(self) -> None:
        """Rules across fields (override); raise ``self.field_error(name, rule, value)``."""

    @staticmethod
    def field_error(name: str, rule: str, value) -> NichelabError:
        """A NichelabError about field ``name``: ``"{name} {rule}; got {value!r}"`` (CLI: the flag)."""
        return NichelabError.for_field(name, rule, value)

    def to_dict(self) -> dict:
        """The settings as a plain dict (JSON-ready for plain values)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
