"""Per-unit measures on hand-built activations with hand-computed expected values."""
from __future__ import annotations

import numpy as np
import pytest

from nichelab.errors import NichelabError
from nichelab.metrics.units import (
    class_means, constant_units, dead_units, preferred_class, selectivity_index, top_k, unit_stats,
)

# 6 samples, classes 0,0,1,1,2,2; columns:
#   0 dead (all zero)          1 constant 1
#   2 only class 0 (4, 2)      3 graded: class means 1, 2, 3
#   4 negative (tanh-like): class means -1, -0.5, -1
Y = np.array([0, 0, 1, 1, 2, 2])
ACTS = np.array([
    [0.0, 1.0, 4.0, 1.0, -1.0],
    [0.0, 1.0, 2.0, 1.0, -1.0],
    [0.0, 1.0, 0.0, 2.0, -0.5],
    [0.0, 1.0, 0.0, 2.0, -0.5],
    [0.0, 1.0, 0.0, 3.0, -1.0],
    [0.0, 1.0, 0.0, 3.0, -1.0],
])


def test_unit_stats_by_hand():
    s = unit_stats(ACTS)
    np.testing.assert_allclose(s["mean"], [0, 1, 1, 2, -5 / 6])
    # unit 2: values 4,2,0,0,0,0, mean 1 -> variance (9 + 1 + 4*1) / 6
    np.testing.assert_allclose(s["std"][:3], [0, 0, np.sqrt(14 / 6)])
    np.testing.assert_allclose(s["frac_active"], [0, 1, 2 / 6, 1, 0])
    np.testing.assert_allclose(unit_stats(ACTS, tol=1.5)["frac_active"], [0, 0, 2 / 6, 4 / 6, 0])


def test_dead_units_both_rules():
    np.testing.assert_array_equal(dead_units(ACTS), [True, True, False, False, True])
    np.testing.assert_array_equal(dead_units(ACTS, constant_is_dead=False),
                                  [True, False, False, False, True])
    # tol=-inf keeps only the constant rule: the negative (varying) unit is alive
    np.testing.assert_array_equal(dead_units(ACTS, tol=-np.inf), [True, True, False, False, False])
    np.testing.assert_array_equal(constant_units(ACTS), [True, True, False, False, False])
    # a single sample: every unit is constant
    assert dead_units(ACTS[:1]).all()


def test_class_means_by_hand():
    m = class_means(ACTS, Y)
    np.testing.assert_allclose(m[:, 2], [3, 0, 0])
    np.testing.assert_allclose(m[:, 3], [1, 2, 3])
    m4 = class_means(ACTS, Y, n_classes=4)
    assert m4.shape == (4, 5) and np.isnan(m4[3]).all()


def test_selectivity_by_hand():
    si = selectivity_index(ACTS, Y)
    assert np.isnan(si[0])                                 # dead: 0 / 0
    assert si[1] == 0.0                                    # constant positive: no preference
    assert si[2] == pytest.approx(1.0)                     # (3 - 0) / (3 + 0)
    assert si[3] == pytest.approx((3 - 1.5) / (3 + 1.5))   # 1/3
    assert si[4] == pytest.approx((-0.5 + 1) / (-0.5 - 1)) # -1/3: signed units leave [0, 1]


def test_selectivity_ignores_empty_classes_and_is_permutation_equivariant():
    si = selectivity_index(ACTS, Y, n_classes=5)            # classes 3, 4 have no sample
    np.testing.assert_allclose(si, selectivity_index(ACTS, Y), equal_nan=True)
    perm = [3, 0, 4, 2, 1]
    np.testing.assert_allclose(selectivity_index(ACTS[:, perm], Y), selectivity_index(ACTS, Y)[perm],
                               equal_nan=True)


def test_selectivity_float32_matches_float64():
    rng = np.random.default_rng(0)
    a = np.maximum(rng.normal(size=(200, 8)), 0)
    y = rng.integers(0, 4, 200)
    np.testing.assert_allclose(selectivity_index(a.astype(np.float32), y),
                               selectivity_index(a, y), rtol=1e-6)


def test_selectivity_range_for_relu():
    rng = np.random.default_rng(1)
    a = np.maximum(rng.normal(size=(300, 20)) + rng.normal(size=20), 0)
    si = selectivity_index(a, rng.integers(0, 5, 300))
    live = ~np.isnan(si)
    assert ((si[live] >= 0) & (si[live] <= 1)).all()


def test_preferred_class():
    np.testing.assert_array_equal(preferred_class(ACTS, Y), [-1, -1, 0, 2, 1])


def test_top_k_order_and_ties():
    a = np.array([[1.0, 0.0], [3.0, 0.0], [3.0, 5.0], [0.0, 5.0], [2.0, 1.0]])
    idx = top_k(a, 3)
    assert idx.shape == (3, 2)
    np.testing.assert_array_equal(idx[:, 0], [1, 2, 4])   # tie 3.0: lower index first
    np.testing.assert_array_equal(idx[:, 1], [2, 3, 4])
    np.testing.assert_array_equal(top_k(ACTS, 6)[:, 0], np.arange(6))  # all tied
    with pytest.raises(NichelabError, match="k must be <= n_samples=5; got 6"):
        top_k(a, 6)


def test_length_mismatch_names_both():
    msg = r"acts and y must have the same number of samples; got acts \(6, 5\) and y \(5,\)"
    with pytest.raises(NichelabError, match=msg):
        selectivity_index(ACTS, Y[:5])


@pytest.mark.parametrize("y, match", [
    (Y + 0.5, "integer class labels"),
    (np.array(["a"] * 6), "integer class labels"),
    (Y - 1, ">= 0"),
    (Y[:, None], "1-D"),
])
def test_bad_labels(y, match):
    with pytest.raises(NichelabError, match=match):
        class_means(ACTS, y)


def test_integer_valued_float_labels_accepted():
    np.testing.assert_allclose(class_means(ACTS, Y.astype(float)), class_means(ACTS, Y))


def test_bad_acts():
    bad = ACTS.copy()
    bad[2, 3] = np.nan
    with pytest.raises(NichelabError, match="NaN"):
        unit_stats(bad)
    with pytest.raises(NichelabError, match="2-D"):
        dead_units(np.zeros((4, 2, 3, 3)))
    with pytest.raises(NichelabError, match="at least 2 classes"):
        selectivity_index(ACTS, np.zeros(6, int))
    with pytest.raises(NichelabError, match="n_classes=2"):
        class_means(ACTS, Y, n_classes=2)


def test_chunked_streaming_matches_naive_float64(monkeypatch):
    """Row chunks of 1..3 rows give the naive whole-array float64 results."""
    import nichelab.metrics._checks as checks

    rng = np.random.default_rng(5)
    a = (np.maximum(rng.normal(size=(41, 6)), 0) * 100 + 1e4).astype(np.float32)  # large offset
    y = rng.integers(0, 3, 41)
    a64 = a.astype(np.float64)
    naive_means = np.array([a64[y == c].mean(axis=0) for c in range(3)])
    monkeypatch.setattr(checks, "CHUNK_ELEMENTS", 13)         # 2 rows per chunk
    s = unit_stats(a)
    np.testing.assert_allclose(s["mean"], a64.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(s["std"], a64.std(axis=0), rtol=1e-9)
    np.testing.assert_allclose(unit_stats(a, tol=1e4 + 50)["frac_active"], (a64 > 1e4 + 50).mean(axis=0))
    np.testing.assert_allclose(class_means(a, y), naive_means, rtol=1e-12)
    np.testing.assert_array_equal(top_k(a, 5), np.argsort(-a64, axis=0, kind="stable")[:5])


def test_docstring_examples():
    import doctest

    import nichelab.metrics.units as module

    assert doctest.testmod(module).failed == 0
