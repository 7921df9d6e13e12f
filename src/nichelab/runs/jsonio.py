"""JSON output: numpy-aware encoding, NaN written as null."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

__all__ = ["to_jsonable", "dumps"]


def to_jsonable(obj):
    """Convert numpy scalars/arrays, tuples, dataclass-like objects and NaN/inf (-> None) for JSON."""
    tp = type(obj)
    if tp is float:  # fast paths: results hold hundreds of thousands of plain floats
        return obj if math.isfinite(obj) else None
    if tp is str or tp is int or obj is None:
        return obj
    if tp is list and obj and all(type(v) is float for v in obj):
        return obj if all(map(math.isfinite, obj)) else [v if math.isfinite(v) else None for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "to_dict"):
        return to_jsonable(obj.to_dict())
    return obj


def dumps(obj) -> str:
    """Serialise ``obj`` (after :func:`to_jsonable`) as indented, strictly valid JSON."""
    return json.dumps(to_jsonable(obj), indent=2, allow_nan=False)
