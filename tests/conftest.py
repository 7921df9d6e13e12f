"""Shared fixtures: tiny data and fast settings."""
import os

import pytest
import torch

os.environ.setdefault("MPLBACKEND", "Agg")
torch.set_num_threads(1)


@pytest.fixture
def tmp_out(tmp_path):
    """A run-folder path that does not exist yet."""
    return tmp_path / "run"
