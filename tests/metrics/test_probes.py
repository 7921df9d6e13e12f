"""Linear probes: separable features decode perfectly, random features sit at chance."""
from __future__ import annotations

import numpy as np
import pytest

from nichelab.errors import NichelabError
from nichelab.metrics.probes import ProbeResult, linear_probe


def test_separable_features_decode():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 60)
    centres = np.eye(3, 5) * 6.0
    x = centres[y] + rng.normal(size=(180, 5))
    x[:, 4] = 2.0                                  # a constant feature is fine
    res = linear_probe(x, y)
    assert isinstance(res, ProbeResult)
    assert res.test_acc >= 0.98 and res.train_acc >= 0.98
    assert res.chance == pytest.approx(1 / 3, abs=0.02)      # stratified: balanced test split
    assert res.n_test == 54 and res.n_train == 126 and res.converged


def test_random_features_near_chance():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1000, 10))
    y = rng.integers(0, 4, 1000)
    res = linear_probe(x, y, seed=3)
    assert abs(res.test_acc - 0.25) < 0.07
    assert abs(res.chance - 0.25) < 0.05


def test_chance_is_majority_class_and_split_is_stratified():
    rng = np.random.default_rng(2)
    y = np.array([0] * 90 + [1] * 10)
    res = linear_probe(rng.normal(size=(100, 3)), y, test_size=0.2)
    assert res.chance == pytest.approx(0.9)        # exactly 18 / 20 with stratification


def test_same_seed_same_result():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 120)
    x = y[:, None] + rng.normal(size=(120, 2))
    a, b = linear_probe(x, y, seed=0), linear_probe(x, y, seed=0)
    assert a == b


@pytest.mark.parametrize("n, test_size, match", [
    (2, 0.5, "too few samples"),
    (10, 1.5, "test_size"),
])
def test_too_few_or_bad_split(n, test_size, match):
    with pytest.raises(NichelabError, match=match):
        linear_probe(np.arange(n, dtype=float)[:, None], np.arange(n) % 2, test_size=test_size)


def test_bad_labels():
    with pytest.raises(NichelabError, match="at least 2 classes"):
        linear_probe(np.ones((10, 2)), np.zeros(10, int))
    with pytest.raises(NichelabError, match="same number of samples"):
        linear_probe(np.ones((10, 2)), np.zeros(9, int))


def test_docstring_examples():
    import doctest

    import nichelab.metrics.probes as module

    assert doctest.testmod(module).failed == 0
