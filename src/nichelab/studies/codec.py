"""Typed data to plain JSON values and back, for results and configs (numbers exactly preserved).

``to_data`` turns dataclasses, numpy arrays and scalars, tuples and paths into dicts, lists and
Python scalars (NaN stays NaN; the JSON writer turns it into null). ``from_data(type, value)``
reverses it guided by the type annotation: ``np.ndarray`` fields become float arrays with
``null`` read back as NaN (integer or bool lists keep their dtype), dataclasses are rebuilt
field by field, ``tuple[...]`` fields become tuples again. Python's float repr round-trips
exactly, so a result read back has the numbers of the run.
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from pathlib import Path
from typing import Any, get_args, get_origin

import numpy as np

__all__ = ["to_data", "from_data", "nan_list", "arrays"]


def to_data(obj):
    """Plain JSON-ready values (dict, list, str, int, float, bool, None) of ``obj``."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_data(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                if not f.metadata.get("weights") and not f.name.startswith("_")}
    if isinstance(obj, dict):
        return {str(k): to_data(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_data(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def nan_list(value):
    """Nested lists with ``None`` (JSON's null) replaced by NaN."""
    if isinstance(value, list):
        return [nan_list(v) for v in value]
    return math.nan if value is None else value


def _array(value) -> np.ndarray:
    arr = np.asarray(nan_list(value))
    if arr.dtype == object:  # ragged or mixed: keep as object array of floats where possible
        return arr
    return arr


def from_data(tp, value):
    """Rebuild a value of type ``tp`` from :func:`to_data` output."""
    if value is None:
        return math.nan if tp is float else None
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        return from_data(args[0], value) if len(args) == 1 else value
    if tp is np.ndarray:
        return _array(value)
    if tp is float:
        return float(value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        kw = {f.name: from_data(hints.get(f.name, Any), value[f.name])
              for f in dataclasses.fields(tp) if f.init and f.name in value}
        return tp(**kw)
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_data(args[0], v) for v in value)
        return tuple(from_data(a, v) for a, v in zip(args, value))
    if origin is list:
        (arg,) = get_args(tp) or (Any,)
        return [from_data(arg, v) for v in value]
    if origin is dict:
        args = get_args(tp) or (Any, Any)
        key = int if args[0] is int else (lambda k: k)
        return {key(k): from_data(args[1], v) for k, v in value.items()}
    return value


def arrays(obj):
    """Lists of numbers in stored figure data back to arrays (JSON keeps them as lists, NaN as null).

    Integer lists (unit orders, positions) stay integer; ragged lists become lists of arrays;
    dicts and lists of strings/dicts are walked.
    """
    if isinstance(obj, dict):
        return {k: arrays(v) for k, v in obj.items()}
    if isinstance(obj, list) and obj and _numeric(obj):
        try:
            return np.asarray(nan_list(obj))
        except ValueError:          # ragged: one array per item
            pass
    if isinstance(obj, list):
        return [arrays(v) for v in obj]
    return obj


def _numeric(obj) -> bool:
    while isinstance(obj, list) and obj:
        obj = obj[0]
    return obj is None or (isinstance(obj, (int, float)) and not isinstance(obj, bool))
