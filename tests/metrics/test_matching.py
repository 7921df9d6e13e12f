"""Unit matching (Li et al. 2015) against np.corrcoef, brute force and planted permutations."""
from __future__ import annotations

import itertools
import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nichelab.errors import NichelabError
from nichelab.metrics.matching import match_units, unit_correlation


def test_unit_correlation_matches_corrcoef():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 4)) + 100.0
    y = x[:, :3] @ rng.normal(size=(3, 5)) + rng.normal(size=(50, 5))
    ref = np.corrcoef(x.T, y.T)[:4, 4:]
    np.testing.assert_allclose(unit_correlation(x, y), ref, atol=1e-12)
    np.testing.assert_allclose(unit_correlation(x.astype(np.float32), y), unit_correlation(
        x.astype(np.float32).astype(np.float64), y), atol=1e-14)


def test_dead_and_constant_units_correlate_zero_not_nan():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 3))
    x[:, 1] = 0.0  # dead ReLU unit
    y = np.column_stack([x[:, 0], np.full(30, 0.1), rng.normal(size=30)])  # constant, inexact mean
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = unit_correlation(x, y)
        m = match_units(x, y)
    assert np.isfinite(c).all()
    assert c[1].tolist() == [0.0, 0.0, 0.0] and c[:, 1].tolist() == [0.0, 0.0, 0.0]
    assert c[0, 0] == pytest.approx(1.0)
    assert np.isfinite(m.matched_corr).all() and m.matched_corr[1] == 0.0


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(2, 30))
def test_matching_recovers_a_planted_permutation_with_noise(seed, d):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(400, d))
    perm = rng.permutation(d)
    y = 3.0 * x[:, perm] + 1.0 + 0.3 * 3.0 * rng.normal(size=(400, d))  # y unit j = x unit perm[j]
    m = match_units(x, y)
    expected = np.argsort(perm)  # x unit i sits at y unit argsort(perm)[i]
    assert m.pairs[:, 0].tolist() == list(range(d))
    assert m.pairs[:, 1].tolist() == expected.tolist()
    assert m.semi_match.tolist() == expected.tolist()
    assert m.frac_above_high == 1.0 and m.frac_above_low == 1.0
    np.testing.assert_allclose(m.matched_corr, 1 / math.sqrt(1 + 0.3**2), atol=0.06)


def test_one_to_one_maximises_total_correlation_unlike_greedy():
    # y0 is the best partner of both x0 and x1; the optimum gives y0 to x1.
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2000, 3))
    y = np.column_stack([0.8 * x[:, 0] + 0.95 * x[:, 1], x[:, 0] + 2.0 * rng.normal(size=2000), x[:, 2]])
    m = match_units(x, y)
    c = unit_correlation(x, y)
    best = max(itertools.permutations(range(3)), key=lambda p: sum(c[i, p[i]] for i in range(3)))
    assert m.pairs[:, 1].tolist() == list(best)
    assert m.semi_match[:2].tolist() == [0, 0]  # semi-matching repeats the partner
    assert m.pairs[:, 1].tolist() == [1, 0, 2]  # a greedy pass in unit order would give x0 y0


@pytest.mark.parametrize("d1,d2", [(5, 5), (6, 4), (3, 7)])
def test_one_to_one_equals_brute_force(d1, d2):
    rng = np.random.default_rng(3)
    z = rng.normal(size=(60, 4))
    x = z @ rng.normal(size=(4, d1)) + rng.normal(size=(60, d1))
    y = z @ rng.normal(size=(4, d2)) + rng.normal(size=(60, d2))
    c = unit_correlation(x, y)
    k = min(d1, d2)
    if d1 <= d2:
        best = max(sum(c[i, p[i]] for i in range(k)) for p in itertools.permutations(range(d2), k))
    else:
        best = max(sum(c[p[j], j] for j in range(k)) for p in itertools.permutations(range(d1), k))
    m = match_units(x, y)
    assert m.pairs.shape == (k, 2)
    assert len(set(m.pairs[:, 1].tolist())) == k
    assert np.nansum(m.matched_corr) == pytest.approx(best, abs=1e-12)
    assert np.isnan(m.matched_corr).sum() == d1 - k  # x units left without a partner
    np.testing.assert_array_equal(m.semi_match, np.argmax(c, axis=1))
    np.testing.assert_allclose(m.semi_corr, c.max(axis=1))


def test_signed_versus_absolute_matching():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 4))
    y = -x[:, [1, 0, 3, 2]] + 0.1 * rng.normal(size=(300, 4))
    signed = match_units(x, y)
    absolute = match_units(x, y, absolute=True)
    assert absolute.pairs[:, 1].tolist() == [1, 0, 3, 2]
    assert absolute.frac_above_high == 1.0 and (absolute.matched_corr > 0.9).all()
    assert signed.frac_above_low == 0.0 and (signed.matched_corr < 0.2).all()
    np.testing.assert_array_equal(signed.corr, absolute.corr)  # corr keeps its sign


def test_fractions_use_thresholds_and_count_unmatched_as_below():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(500, 4))
    x = np.column_stack([z, rng.normal(size=500)])
    y = np.column_stack([z[:, 0], z[:, 1] + 0.75 * rng.normal(size=500), rng.normal(size=(500, 2))])
    m = match_units(x, y, threshold_high=0.95, threshold_low=0.7)
    # x0 ~ 1.0, x1 ~ 0.8, others matched to noise (< 0.2) or unmatched (d1 = 5 > d2 = 4)
    assert m.frac_above_high == pytest.approx(1 / 5)
    assert m.frac_above_low == pytest.approx(2 / 5)


def test_to_dict_is_json_ready():
    rng = np.random.default_rng(6)
    m = match_units(rng.normal(size=(20, 3)), rng.normal(size=(20, 2)))
    d = json.loads(json.dumps(m.to_dict(), allow_nan=False))
    assert d["matched_corr"].count(None) == 1 and len(d["pairs"]) == 2
    assert "corr" not in d and len(m.to_dict(include_corr=True)["corr"]) == 3


def test_extreme_scales_and_offsets():
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(40, 3)), rng.normal(size=(40, 2))
    ref = unit_correlation(x, y)
    scaled = x * np.array([1e200, 1e-200, 1.0]) + np.array([0.0, 0.0, 1e6])
    np.testing.assert_allclose(unit_correlation(scaled, y), ref, atol=1e-9)


def test_input_errors():
    x = np.zeros((10, 3))
    with pytest.raises(NichelabError, match=r"x and y must have the same number of samples; got x \(10, 3\) and y \(9, 3\)"):
        match_units(x, x[:9])
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(NichelabError, match="y must not contain NaN or inf"):
        unit_correlation(x, bad)
    with pytest.raises(NichelabError, match=r"threshold_high must be a number in \[-1, 1\]; got 1.5"):
        match_units(x, x, threshold_high=1.5)
    with pytest.raises(NichelabError, match="threshold_low must be <= threshold_high"):
        match_units(x, x, threshold_high=0.3, threshold_low=0.5)
    with pytest.raises(NichelabError, match="needs at least 2 samples"):
        unit_correlation(x[:1], x[:1])
