"""Behaviour stays: each study's numbers equal those saved before the refactor (tests/golden).

Each case reruns the study with the settings of its golden file and compares the numbers the
old ``results.json`` held (under their old keys) with the new result's ``to_dict()``. Floats are
compared to 1e-9 relative (training on CPU with the same seeds gives the same numbers; the
tolerance only absorbs summation-order differences in derived statistics).
"""
import json
import math
from pathlib import Path

import numpy as np
import pytest

from nichelab.studies import STUDIES

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def load_golden(study: str) -> dict:
    return json.loads((GOLDEN / f"{study}.json").read_text())


def assert_same_numbers(old, new, path="", rtol=1e-9, atol=1e-12):
    """Recursively assert that every number/string in ``old`` is in ``new`` at the same place."""
    if isinstance(old, dict):
        assert isinstance(new, dict), f"{path}: expected a dict, got {type(new).__name__}"
        for k, v in old.items():
            assert k in new, f"{path}/{k} missing in the new result"
            assert_same_numbers(v, new[k], f"{path}/{k}", rtol, atol)
    elif isinstance(old, list):
        new = np.asarray(new).tolist() if isinstance(new, np.ndarray) else new
        assert isinstance(new, (list, tuple)) and len(new) == len(old), f"{path}: length {len(old)} vs {new!r:.80}"
        for i, (a, b) in enumerate(zip(old, new)):
            assert_same_numbers(a, b, f"{path}[{i}]", rtol, atol)
    elif isinstance(old, float) or (old is None and isinstance(new, float)):
        a = math.nan if old is None else old
        b = math.nan if new is None else float(new)
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rtol, abs_tol=atol), \
            f"{path}: {old!r} != {new!r}"
    else:
        assert old == new, f"{path}: {old!r} != {new!r}"


def run_study(name: str, **config):
    study = STUDIES[name]
    return study.run(study.Config(**config)).to_dict()


def test_lab_numbers_unchanged():
    old = load_golden("lab")
    new = run_study("lab", seeds=8, epochs=30)
    for key in ("seeds", "summary", "loss_curves"):
        assert_same_numbers(old[key], new[key], key)
    for a, b in zip(old["per_seed"], new["per_seed"]):
        assert_same_numbers(a, {k: v for k, v in b.items()}, f"per_seed/{a['seed']}")
