"""Per-layer measures against hand-built cases and naive float64 references."""
from __future__ import annotations

import numpy as np
import pytest

from nichelab.errors import NichelabError
from nichelab.metrics.layers import (
    dead_fraction, near_duplicate_groups, participation_ratio, unit_correlation_matrix,
)


def test_correlation_matches_corrcoef_and_constant_units_are_zero():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 4))
    a[:, 2] = 0.1                       # constant whose float mean is not exactly 0.1
    r = unit_correlation_matrix(a)
    live = [0, 1, 3]
    np.testing.assert_allclose(r[np.ix_(live, live)], np.corrcoef(a[:, live], rowvar=False), atol=1e-6)
    assert (r[2] == 0).all() and (r[:, 2] == 0).all()      # diagonal included
    np.testing.assert_array_equal(np.diag(r), [1, 1, 0, 1])
    np.testing.assert_array_equal(r, r.T)
    np.testing.assert_allclose(unit_correlation_matrix(a.astype(np.float32)), r, atol=1e-6)


def _columns():
    rng = np.random.default_rng(1)
    a, b, c = rng.normal(size=(3, 200))
    return np.column_stack([
        a,                                   # 0
        2 * a + 1,                           # 1 duplicate of 0 (r = 1)
        b,                                   # 2
        np.zeros(200),                       # 3 dead, never grouped
        -a,                                  # 4 flipped copy of 0 (r = -1)
        b + 0.01 * rng.normal(size=200),     # 5 near duplicate of 2
        c,                                   # 6 alone
        np.zeros(200),                       # 7 dead
    ])


def test_near_duplicate_groups_hand_built():
    x = _columns()
    assert near_duplicate_groups(x) == [[0, 1, 4], [2, 5]]
    assert near_duplicate_groups(x, absolute=False) == [[0, 1], [2, 5]]
    assert near_duplicate_groups(x[:, [6, 3, 7]]) == []


def test_near_duplicate_chain_joins_groups():
    rng = np.random.default_rng(2)
    base = rng.normal(size=(500, 3))
    # u0 ~ u1 and u1 ~ u2 above 0.9 but u0 vs u2 below: one group through the chain
    u0 = base[:, 0]
    u1 = u0 + 0.4 * base[:, 1]
    u2 = u1 + 0.4 * base[:, 2]
    x = np.column_stack([u0, u1, u2])
    r = np.corrcoef(x, rowvar=False)
    assert r[0, 1] > 0.9 and r[1, 2] > 0.9 and r[0, 2] < 0.9
    assert near_duplicate_groups(x, threshold=0.9) == [[0, 1, 2]]


def test_near_duplicate_bad_threshold():
    with pytest.raises(NichelabError, match="threshold"):
        near_duplicate_groups(_columns(), threshold=1.5)


def test_participation_ratio_isotropic_and_rank1():
    rng = np.random.default_rng(0)
    iso = rng.normal(size=(20000, 10))
    assert participation_ratio(iso) == pytest.approx(10, rel=0.01)
    rot = iso @ np.linalg.qr(rng.normal(size=(10, 10)))[0] * 3.0
    assert participation_ratio(rot) == pytest.approx(participation_ratio(iso), rel=1e-9)
    v = rng.normal(size=(1, 6))
    rank1 = rng.normal(size=(300, 1)) @ v + 5.0
    assert participation_ratio(rank1) == pytest.approx(1.0, abs=1e-9)


def test_participation_ratio_matches_eigenvalues_both_paths():
    rng = np.random.default_rng(3)
    for shape in [(100, 7), (5, 40)]:              # units < samples, samples < units (Gram path)
        x = rng.normal(size=shape) * rng.uniform(0.1, 3, size=shape[1])
        eig = np.linalg.eigvalsh(np.cov(x, rowvar=False))
        assert participation_ratio(x) == pytest.approx(eig.sum() ** 2 / (eig ** 2).sum(), rel=1e-9)


def test_participation_ratio_degenerate():
    assert participation_ratio(np.ones((10, 3))) == 0.0
    assert participation_ratio(np.zeros((10, 0))) == 0.0
    assert participation_ratio(np.ones((1, 4))) == 0.0


def test_dead_fraction():
    assert dead_fraction(_columns()) == pytest.approx(2 / 8)
    assert dead_fraction(np.zeros((4, 0))) == 0.0
    assert dead_fraction(np.array([[-1.0, 2.0], [-2.0, 3.0]])) == 0.5
    assert dead_fraction(np.array([[-1.0, 2.0], [-2.0, 3.0]]), tol=-np.inf) == 0.0


def test_bad_acts_message():
    with pytest.raises(NichelabError, match="acts must be 2-D"):
        unit_correlation_matrix(np.zeros(5))
    with pytest.raises(NichelabError, match="NaN"):
        participation_ratio(np.array([[1.0, np.nan], [0.0, 1.0]]))


def test_chunked_streaming_matches_naive_float64(monkeypatch):
    import nichelab.metrics._checks as checks

    rng = np.random.default_rng(6)
    a = rng.normal(size=(53, 5)) @ rng.normal(size=(5, 5)) + 1e3
    a[:, 3] = 7.0
    r_ref = unit_correlation_matrix(a)
    pr_ref = participation_ratio(a)
    monkeypatch.setattr(checks, "CHUNK_ELEMENTS", 12)         # 2 rows per chunk, 27 chunks
    np.testing.assert_allclose(unit_correlation_matrix(a), r_ref, atol=1e-12)
    live = [0, 1, 2, 4]
    np.testing.assert_allclose(r_ref[np.ix_(live, live)], np.corrcoef(a[:, live], rowvar=False), atol=1e-12)
    assert participation_ratio(a) == pytest.approx(pr_ref, rel=1e-12)
    eig = np.linalg.eigvalsh(np.cov(a, rowvar=False))
    assert pr_ref == pytest.approx(eig.sum() ** 2 / (eig ** 2).sum(), rel=1e-9)


def test_docstring_examples():
    import doctest

    import nichelab.metrics.layers as module

    assert doctest.testmod(module).failed == 0
