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
