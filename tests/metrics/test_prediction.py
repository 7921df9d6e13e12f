"""Column-wise correlation and held-out linear prediction of one layer's units from another's."""
import numpy as np
import pytest

from nichelab.metrics.prediction import linear_prediction, pearson_columns


def test_linear_prediction_recovers_a_linear_map_and_not_noise():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 6))
    w = rng.normal(size=(6, 3))
    y = x @ w + 2.0
    r = linear_prediction(x[:200], y[:200], x[200:], y[200:])
    np.testing.assert_allclose(r, 1.0, atol=1e-10)
    noise = rng.normal(size=(400, 3))
    assert np.all(np.abs(linear_prediction(x[:200], noise[:200], x[200:], noise[200:])) < 0.3)


def test_pearson_columns_constant_columns():
    a = np.c_[np.arange(5.0), np.ones(5)]
    b = np.c_[np.ones(5), np.arange(5.0)]
    r = pearson_columns(a, b)
    assert r[0] == 0.0 and np.isnan(r[1])   # constant prediction: 0; constant target: NaN


def test_pearson_columns_matches_numpy_and_checks_shapes():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(50, 4)), rng.normal(size=(50, 4))
    ref = [np.corrcoef(a[:, k], b[:, k])[0, 1] for k in range(4)]
    np.testing.assert_allclose(pearson_columns(a, b), ref, atol=1e-12)
    with pytest.raises(ValueError, match="same shape"):
        pearson_columns(a, b[:, :3])
    with pytest.raises(ValueError, match="same number of samples"):
        linear_prediction(a[:10], b[:9], a, b)
