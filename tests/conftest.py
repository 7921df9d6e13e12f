"""Shared fixtures: tiny data and fast settings."""
import os

# Tests run on 2 cores with `pytest -n 2`: one BLAS / torch thread per worker avoids
# oversubscription (two OpenBLAS threads per worker made small CCA calls ~75x slower).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402
import torch  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

torch.set_num_threads(1)
threadpool_limits(1)


@pytest.fixture
def tmp_out(tmp_path):
    """A run-folder path that does not exist yet."""
    return tmp_path / "run"


class _Golden:
    """Numbers saved before the refactor (tests/golden/<study>.json) and how to compare them."""

    root = __import__("pathlib").Path(__file__).resolve().parent / "golden"

    def load(self, study: str) -> dict:
        import json
        return json.loads((self.root / f"{study}.json").read_text())

    def run(self, name: str, **config) -> dict:
        """``STUDIES[name].run(Config(**config)).to_dict()``."""
        from nichelab.studies import STUDIES
        study = STUDIES[name]
        return study.run(study.Config(**config)).to_dict()

    def assert_same(self, old, new, path="", rtol=1e-9, atol=1e-12):
        """Every number/string of ``old`` is in ``new`` at the same place (NaN == null == NaN)."""
        import math
        import numpy as np
        if isinstance(old, dict):
            assert isinstance(new, dict), f"{path}: expected a dict, got {type(new).__name__}"
            for k, v in old.items():
                assert k in new, f"{path}/{k} missing in the new result"
                self.assert_same(v, new[k], f"{path}/{k}", rtol, atol)
        elif isinstance(old, list):
            new = np.asarray(new).tolist() if isinstance(new, np.ndarray) else new
            assert isinstance(new, (list, tuple)) and len(new) == len(old), f"{path}: length {len(old)} vs {len(new)}"
            for i, (a, b) in enumerate(zip(old, new)):
                self.assert_same(a, b, f"{path}[{i}]", rtol, atol)
        elif isinstance(old, float) or (old is None and isinstance(new, float)):
            a = math.nan if old is None else old
            b = math.nan if new is None else float(new)
            assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rtol, abs_tol=atol), \
                f"{path}: {old!r} != {new!r}"
        else:
            assert old == new, f"{path}: {old!r} != {new!r}"


@pytest.fixture
def golden():
    """Helper for tests/studies/test_golden*.py: ``golden.load``, ``golden.run``, ``golden.assert_same``."""
    return _Golden()


@pytest.fixture
def reused_relu_accuracy():
    """``acc(model, X, y, call, k)``: accuracy of a ``fc1 -> relu -> fc2 -> relu -> out`` model whose one
    ReLU module runs twice, with unit ``k`` zeroed after call ``call`` only (``call=None``: intact) -- the
    naive reference for per-call ablation of a reused module."""
    def acc(model, X, y, call, k):
        import numpy as np
        import torch
        with torch.no_grad():
            h = torch.relu(model.fc1(X))
            if call == 0:
                h[:, k] = 0
            h = torch.relu(model.fc2(h))
            if call == 1:
                h[:, k] = 0
            return float(np.mean(model.out(h).argmax(1).numpy() == y))
    return acc
