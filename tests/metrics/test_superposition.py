"""Feature norms and dimensionality against naive float64 formulas and Elhage et al.'s geometric cases."""
import numpy as np
import pytest

from nichelab.metrics import feature_dimensionality, feature_norms


def _naive_dimensionality(W):
    W = np.asarray(W, float)
    out = []
    for i in range(W.shape[1]):
        wi = W[:, i]
        n2 = wi @ wi
        if n2 == 0:
            out.append(np.nan)
            continue
        u = wi / np.sqrt(n2)
        out.append(n2 / sum((u @ W[:, j]) ** 2 for j in range(W.shape[1])))
    return np.array(out)


@pytest.mark.parametrize("seed", range(5))
def test_against_naive_formulas(seed):
    W = np.random.default_rng(seed).normal(size=(5, 20))
    W[:, 3] = 0
    np.testing.assert_allclose(feature_norms(W), np.linalg.norm(W, axis=0), rtol=1e-13)
    np.testing.assert_allclose(feature_dimensionality(W), _naive_dimensionality(W), rtol=1e-12, equal_nan=True)


def test_geometric_cases_from_the_paper():
    """One feature per dimension: 1; antipodal pair: 1/2; triangle in a plane: 2/3; pentagon: 2/5."""
    assert feature_dimensionality(np.eye(3)).tolist() == [1.0, 1.0, 1.0]
    np.testing.assert_allclose(feature_dimensionality([[1.0, -1.0]]), [0.5, 0.5])
    for k in (3, 5):
        ang = 2 * np.pi * np.arange(k) / k
        np.testing.assert_allclose(feature_dimensionality(np.vstack([np.cos(ang), np.sin(ang)])), np.full(k, 2 / k))


def test_scale_invariance_and_float32():
    W = np.random.default_rng(1).normal(size=(4, 9))
    base = feature_dimensionality(W)
    for s in (1e-300, 1e200):
        np.testing.assert_allclose(feature_dimensionality(W * s), base, rtol=1e-12)
        np.testing.assert_allclose(feature_norms(W * s) / s, feature_norms(W), rtol=1e-12)
    np.testing.assert_allclose(feature_dimensionality(W.astype(np.float32)),
                               _naive_dimensionality(W.astype(np.float32).astype(float)), rtol=1e-12)
