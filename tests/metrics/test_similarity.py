"""Similarity metrics checked against naive float64 formulas, invariances and hand-built cases."""
from __future__ import annotations

import itertools
import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.linalg import orthogonal_procrustes
from scipy.spatial.distance import pdist, squareform
from scipy.stats import ortho_group, spearmanr

from nichelab.errors import NichelabError
from nichelab.metrics import similarity as sim
from nichelab.metrics.similarity import (
    DegenerateCCAWarning, MinibatchCKA, cca, cka_matrix, hsic, linear_cka, procrustes_distance,
    pwcca, rbf_cka, rsa, svcca,
)

FAST = settings(max_examples=25, deadline=None)


# ----------------------------------------------------------------------------- references

def naive_hsic(k, l):
    """tr(K H L H) / (n-1)^2 with an explicit centring matrix."""
    n = len(k)
    h = np.eye(n) - np.ones((n, n)) / n
    return np.trace(k @ h @ l @ h) / (n - 1) ** 2


def naive_hsic_debiased(k, l):
    """Song et al. 2012, eq. (5), typed in from the formula."""
    n = len(k)
    kt, lt = k.copy(), l.copy()
    np.fill_diagonal(kt, 0)
    np.fill_diagonal(lt, 0)
    one = np.ones(n)
    return (
        np.trace(kt @ lt)
        + (one @ kt @ one) * (one @ lt @ one) / ((n - 1) * (n - 2))
        - 2 / (n - 2) * (one @ kt @ lt @ one)
    ) / (n * (n - 3))


def u_statistic_hsic(k, l):
    """HSIC as a U-statistic over ordered 4-tuples of distinct samples (Song et al. 2012):
    E[k_ij l_ij] + E[k_ij] E[l_qr] - 2 E[k_ij l_iq], every index distinct."""
    n = len(k)
    t = np.array(list(itertools.permutations(range(n), 4)))
    i, j, q, r = t.T
    return np.mean(k[i, j] * l[i, j] + k[i, j] * l[q, r] - 2 * k[i, j] * l[i, q])


def naive_cka(k, l, h=naive_hsic):
    return h(k, l) / np.sqrt(h(k, k) * h(l, l))


def naive_rbf_gram(x, frac):
    d = squareform(pdist(x))
    sigma = frac * np.median(pdist(x))
    return np.exp(-(d**2) / (2 * sigma**2))


def random_pair(seed, n, d1, d2, noise=1.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d1))
    y = x @ rng.normal(size=(d1, d2)) + noise * rng.normal(size=(n, d2))
    return x, y


# ----------------------------------------------------------------------------- HSIC

def test_hsic_biased_matches_naive_formula():
    x, y = random_pair(0, 15, 4, 3)
    k, l = x @ x.T, np.exp(-squareform(pdist(y, "sqeuclidean")))
    assert hsic(k, l) == pytest.approx(naive_hsic(k, l), rel=1e-12)


def test_hsic_debiased_matches_formula_and_u_statistic():
    x, y = random_pair(1, 7, 3, 2)
    k, l = x @ x.T + 1.0, np.exp(-squareform(pdist(y, "sqeuclidean")))
    ref = u_statistic_hsic(k, l)
    assert naive_hsic_debiased(k, l) == pytest.approx(ref, rel=1e-10)
    assert hsic(k, l, debiased=True) == pytest.approx(ref, rel=1e-10)


def test_hsic_rejects_bad_grams():
    with pytest.raises(NichelabError, match="square"):
        hsic(np.ones((4, 3)), np.ones((4, 3)))
    with pytest.raises(NichelabError, match=r"got k \(5, 5\) and l \(4, 4\)"):
        hsic(np.eye(5), np.eye(4))
    with pytest.raises(NichelabError, match="at least 4 samples; got n_samples=3"):
        hsic(np.eye(3), np.eye(3), debiased=True)


# ----------------------------------------------------------------------------- linear CKA

@FAST
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(5, 40), d=st.integers(1, 12))
def test_linear_cka_of_x_with_itself_is_one(seed, n, d):
    x = np.random.default_rng(seed).normal(size=(n, d))
    assert linear_cka(x, x) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(x, x, debiased=True) == pytest.approx(1.0, abs=1e-9)


@FAST
@given(
    seed=st.integers(0, 2**32 - 1), n=st.integers(6, 40), d1=st.integers(1, 10),
    d2=st.integers(1, 10), c=st.floats(1e-3, 1e3), shift=st.floats(-100, 100),
)
def test_linear_cka_invariant_to_orthogonal_maps_scale_and_shift(seed, n, d1, d2, c, shift):
    x, y = random_pair(seed, n, d1, d2)
    q = ortho_group.rvs(d2, random_state=seed % 2**31) if d2 > 1 else np.ones((1, 1))
    base = linear_cka(x, y)
    assert linear_cka(x, c * y @ q + shift) == pytest.approx(base, abs=1e-9)
    assert linear_cka(x, c * x @ (q if d1 == d2 else np.eye(d1))) == pytest.approx(1.0, abs=1e-9)
    based = linear_cka(x, y, debiased=True)
    assert linear_cka(x, c * y @ q + shift, debiased=True) == pytest.approx(based, abs=1e-8)


def test_linear_cka_not_invariant_to_general_invertible_map():
    x = np.random.default_rng(2).normal(size=(200, 5))
    a = np.diag([1.0, 1.0, 1.0, 1.0, 10.0])  # invertible, not orthogonal
    value = linear_cka(x, x @ a)
    assert value < 0.5
    assert linear_cka(x, x @ a) == pytest.approx(naive_cka(x @ x.T, (x @ a) @ (x @ a).T), rel=1e-10)


@pytest.mark.parametrize("force_gram", [False, True])
@pytest.mark.parametrize("debiased", [False, True])
@pytest.mark.parametrize("shape", [(60, 3, 5), (9, 20, 14), (12, 1, 30)])
def test_linear_cka_both_forms_match_naive_gram_formula(monkeypatch, force_gram, debiased, shape):
    n, d1, d2 = shape
    x, y = random_pair(3, n, d1, d2, noise=2.0)
    x += 3.0  # uncentred input (debiased HSIC is translation-invariant)
    monkeypatch.setattr(sim, "_gram_is_cheaper", lambda n, d: force_gram)
    h = naive_hsic_debiased if debiased else naive_hsic
    xl, yl = x.astype(np.longdouble), y.astype(np.longdouble)  # uncentred Grams lose digits
    ref = float(naive_cka(xl @ xl.T, yl @ yl.T, h))
    assert linear_cka(x, y, debiased=debiased) == pytest.approx(ref, rel=1e-10, abs=1e-12)


def test_gram_form_is_chosen_only_when_cheaper():
    assert not sim._gram_is_cheaper(10_000, 1024)
    assert sim._gram_is_cheaper(100, 5000)


def test_independent_gaussians_biased_cka_is_large_debiased_near_zero():
    # REFERENCES: d = 64, n = 32 -> biased CKA about 0.66; debiased CKA near 0.
    rng = np.random.default_rng(4)
    pairs = [(rng.normal(size=(32, 64)), rng.normal(size=(32, 64))) for _ in range(8)]
    biased = np.mean([linear_cka(x, y) for x, y in pairs])
    debiased = np.mean([linear_cka(x, y, debiased=True) for x, y in pairs])
    assert 0.60 < biased < 0.72
    assert abs(debiased) < 0.05


def test_float32_with_large_offset_gives_the_float64_answer():
    x, y = random_pair(5, 500, 16, 8)
    x32, y32 = (x + 1e4).astype(np.float32), (y + 1e4).astype(np.float32)
    same_values = linear_cka(x32.astype(np.float64), y32.astype(np.float64))
    assert linear_cka(x32, y32) == pytest.approx(same_values, abs=1e-12)
    # float32 quantisation at 1e4 (spacing 1e-3) moves the value by about 5e-6 only
    assert linear_cka(x32, y32) == pytest.approx(linear_cka(x, y), abs=5e-5)
    assert linear_cka(x32, y32, debiased=True) == pytest.approx(
        linear_cka(x32.astype(np.float64), y32.astype(np.float64), debiased=True), abs=1e-12
    )


@pytest.mark.parametrize("scale", [1e-150, 1e150])
def test_linear_cka_survives_extreme_scales(scale):
    x, y = random_pair(6, 30, 4, 3)
    assert linear_cka(x * scale, y) == pytest.approx(linear_cka(x, y), rel=1e-12)
    assert linear_cka(x * scale, y, debiased=True) == pytest.approx(
        linear_cka(x, y, debiased=True), rel=1e-10
    )


# ----------------------------------------------------------------------------- constant sides

def _constant_like(n, d, value=0.1):
    return np.full((n, d), value)


@pytest.mark.parametrize(
    "fn",
    [
        linear_cka,
        lambda x, y: linear_cka(x, y, debiased=True),
        rbf_cka,
        lambda x, y: rbf_cka(x, y, debiased=True),
        procrustes_distance,
        lambda x, y: cca(x, y).mean_rho,
        svcca,
        pwcca,
    ],
)
def test_entirely_constant_side_gives_nan_without_warnings(fn):
    x, _ = random_pair(7, 30, 4, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(fn(x, _constant_like(30, 3)))
        assert math.isnan(fn(_constant_like(30, 5, 7.3), x))


def test_constant_columns_do_not_change_cka_or_procrustes():
    x, y = random_pair(8, 40, 4, 3)
    xd = np.hstack([x, np.full((40, 1), 0.1), np.zeros((40, 2))])  # dead units
    for fn in (linear_cka, procrustes_distance, lambda a, b: linear_cka(a, b, debiased=True)):
        assert fn(xd, y) == pytest.approx(fn(x, y), abs=1e-12)
    assert not math.isnan(linear_cka(xd, y))


def test_minibatch_cka_with_constant_side_is_nan():
    m = MinibatchCKA()
    x, _ = random_pair(9, 20, 3, 2)
    m.update(x, np.ones((20, 2)))
    assert math.isnan(m.compute())


# ----------------------------------------------------------------------------- RBF CKA

@pytest.mark.parametrize("frac", [0.2, 0.4, 0.8])
@pytest.mark.parametrize("debiased", [False, True])
def test_rbf_cka_matches_naive(frac, debiased):
    x, y = random_pair(10, 25, 4, 6)
    h = naive_hsic_debiased if debiased else naive_hsic
    ref = naive_cka(naive_rbf_gram(x, frac), naive_rbf_gram(y, frac), h)
    assert rbf_cka(x, y, sigma_frac=frac, debiased=debiased) == pytest.approx(ref, rel=1e-9)


def test_rbf_cka_invariances_and_argument_check():
    x, y = random_pair(11, 30, 5, 5)
    q = ortho_group.rvs(5, random_state=0)
    assert rbf_cka(x, 3.0 * y @ q - 2.0) == pytest.approx(rbf_cka(x, y), rel=1e-10)
    assert rbf_cka(x, x) == pytest.approx(1.0)
    with pytest.raises(NichelabError, match=r"sigma_frac must be a number in \(0, inf\); got -1"):
        rbf_cka(x, y, sigma_frac=-1)


def test_median_of_offdiagonal_distances():
    x = np.random.default_rng(12).normal(size=(9, 3))
    xc = x - x.mean(0)
    sq = squareform(pdist(xc, "sqeuclidean"))
    assert sim._median_offdiag_distance(sq) == pytest.approx(np.median(pdist(x)), rel=1e-12)


# ----------------------------------------------------------------------------- minibatch

def test_minibatch_cka_equals_mean_of_debiased_hsic_by_hand():
    x, y = random_pair(13, 600, 10, 12, noise=2.0)
    m = MinibatchCKA()
    terms = []
    for s in range(0, 600, 100):
        xb, yb = x[s:s + 100] + 3.0, y[s:s + 100]
        m.update(xb.astype(np.float32) if s == 0 else xb, yb)
        xb = xb.astype(np.float32).astype(np.float64) if s == 0 else xb
        k, l = xb @ xb.T, yb @ yb.T
        terms.append([naive_hsic_debiased(k, l), naive_hsic_debiased(k, k), naive_hsic_debiased(l, l)])
    hxy, hxx, hyy = np.mean(terms, axis=0)
    assert m.compute() == pytest.approx(hxy / np.sqrt(hxx * hyy), rel=1e-10)
    assert m.n_batches == 6 and m.n_samples == 600


def test_minibatch_cka_is_close_to_full_debiased_cka():
    x, y = random_pair(14, 2000, 20, 30, noise=3.0)
    m = MinibatchCKA()
    for s in range(0, 2000, 200):
        m.update(x[s:s + 200], y[s:s + 200])
    full = linear_cka(x, y, debiased=True)
    assert 0.2 < full < 0.9
    assert m.compute() == pytest.approx(full, abs=0.02)


def test_minibatch_cka_reset_and_errors():
    x, y = random_pair(15, 40, 3, 4)
    m = MinibatchCKA()
    with pytest.raises(NichelabError, match="at least one update"):
        m.compute()
    with pytest.raises(NichelabError, match="at least 4 samples; got n_samples=3"):
        m.update(x[:3], y[:3])
    m.update(x, y)
    with pytest.raises(NichelabError, match=r"same feature counts.*\(3, 4\)"):
        m.update(x[:, :2], y)
    with pytest.raises(NichelabError, match=r"got x_batch \(40, 3\) and y_batch \(39, 4\)"):
        m.update(x, y[:39])
    m.reset()
    m.update(x, x)
    assert m.compute() == pytest.approx(1.0) and m.n_batches == 1


# ----------------------------------------------------------------------------- cka_matrix

@pytest.mark.parametrize("debiased", [False, True])
def test_cka_matrix_matches_pairwise_calls(debiased):
    rng = np.random.default_rng(16)
    base = rng.normal(size=(30, 6))
    acts_a = {"L1": base, "L2": np.tanh(base @ rng.normal(size=(6, 8))), "wide": rng.normal(size=(30, 45))}
    acts_b = {"M1": base @ rng.normal(size=(6, 4)) + rng.normal(size=(30, 4)), "L1": base}
    names_a, names_b, m = cka_matrix(acts_a, acts_b, debiased=debiased)
    assert names_a == ["L1", "L2", "wide"] and names_b == ["M1", "L1"]
    for i, na in enumerate(names_a):
        for j, nb in enumerate(names_b):
            assert m[i, j] == pytest.approx(linear_cka(acts_a[na], acts_b[nb], debiased=debiased), rel=1e-9)
    assert m[0, 1] == pytest.approx(1.0, abs=1e-12)


def test_cka_matrix_of_one_network_is_symmetric_with_unit_diagonal():
    rng = np.random.default_rng(17)
    acts = {f"L{i}": rng.normal(size=(25, 3 + i)) for i in range(4)}
    _, _, m = cka_matrix(acts)
    np.testing.assert_allclose(m, m.T, rtol=0, atol=0)
    np.testing.assert_allclose(np.diag(m), 1.0)
    _, _, r = cka_matrix(acts, measure="rbf_cka", debiased=True)
    assert r[1, 2] == pytest.approx(rbf_cka(acts["L1"], acts["L2"], debiased=True), rel=1e-9)
    _, _, p = cka_matrix(acts, acts, measure="pwcca")
    assert p[1, 2] == pytest.approx(pwcca(acts["L1"], acts["L2"]), rel=1e-12)
    assert p[2, 1] == pytest.approx(pwcca(acts["L2"], acts["L1"]), rel=1e-12)


def test_cka_matrix_errors_name_the_layers():
    acts = {"L1": np.ones((10, 2)) + np.arange(10)[:, None], "L2": np.zeros((9, 2))}
    with pytest.raises(NichelabError, match=r"acts_a\['L1'\] \(10, 2\) and acts_a\['L2'\] \(9, 2\)"):
        cka_matrix(acts)
    with pytest.raises(NichelabError, match="did you mean 'linear_cka'"):
        cka_matrix({"a": np.eye(5)}, measure="linear_ckaa")
    with pytest.raises(NichelabError, match="non-empty dict"):
        cka_matrix({})
    with pytest.raises(NichelabError, match="debiased=True applies"):
        cka_matrix({"a": np.eye(5)}, measure="rsa", debiased=True)
    _, _, m = cka_matrix({"dead": np.zeros((10, 3)), "L1": np.eye(10)[:, :4]})
    assert math.isnan(m[0, 1]) and math.isnan(m[0, 0]) and m[1, 1] == pytest.approx(1.0)


# ----------------------------------------------------------------------------- CCA family

def naive_cca_rho(x, y):
    """sqrt of the eigenvalues of Sxx^-1 Sxy Syy^-1 Syx (covariance-inverse textbook form)."""
    xc, yc = x - x.mean(0), y - y.mean(0)
    sxx, syy, sxy = xc.T @ xc, yc.T @ yc, xc.T @ yc
    ev = np.linalg.eigvals(np.linalg.solve(sxx, sxy) @ np.linalg.solve(syy, sxy.T))
    k = min(x.shape[1], y.shape[1])
    return np.sqrt(np.clip(np.sort(ev.real)[::-1][:k], 0, 1))


def test_cca_matches_covariance_inverse_formula_and_sklearn():
    from sklearn.cross_decomposition import CCA

    x, y = random_pair(18, 400, 3, 4, noise=1.5)
    res = cca(x, y)
    np.testing.assert_allclose(res.rho, naive_cca_rho(x, y), rtol=1e-8)
    assert np.all(np.diff(res.rho) <= 0)
    assert res.mean_rho == pytest.approx(res.rho.mean()) and res.r2 == pytest.approx(np.mean(res.rho**2))
    xs, ys = CCA(n_components=2, max_iter=2000, tol=1e-12).fit(x, y).transform(x, y)
    sk = [abs(np.corrcoef(xs[:, i], ys[:, i])[0, 1]) for i in range(2)]
    np.testing.assert_allclose(res.rho[:2], sk, atol=1e-4)
    json.dumps(res.to_dict())


def test_cca_drops_constant_columns():
    x, y = random_pair(19, 100, 3, 3)
    xd = np.hstack([x, np.full((100, 1), 5.0), np.zeros((100, 1))])
    np.testing.assert_allclose(cca(xd, y).rho, cca(x, y).rho, rtol=1e-10)
    assert cca(xd, y).rho.shape == (3,)


def test_cca_warns_when_degenerate_and_random_data_scores_one():
    rng = np.random.default_rng(20)
    x, y = rng.normal(size=(20, 25)), rng.normal(size=(20, 30))
    with pytest.warns(DegenerateCCAWarning, match="n_samples - 1 = 19"):
        res = cca(x, y)
    assert res.degenerate
    np.testing.assert_allclose(res.rho, 1.0, atol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not cca(*random_pair(21, 200, 5, 5)).degenerate
        assert not cca(x[:, :9], y[:, :10]).degenerate  # 9 + 10 = n - 1: still fine
    with pytest.warns(DegenerateCCAWarning, match="at least 1 of the 10"):
        res = cca(x[:, :10], y[:, :10])  # 10 + 10 > n - 1: the column spaces must intersect
    assert res.rho[0] == pytest.approx(1.0, abs=1e-9) and res.rho[1] < 0.999


def test_svcca_and_pwcca_equal_one_under_invertible_maps():
    rng = np.random.default_rng(22)
    x = rng.normal(size=(300, 6))
    a = rng.normal(size=(6, 6)) + 3 * np.eye(6)
    assert svcca(x, x @ a + 1, keep=1.0) == pytest.approx(1.0, abs=1e-9)
    assert pwcca(x, x @ a + 1) == pytest.approx(1.0, abs=1e-9)
    assert pwcca(x @ a, x) == pytest.approx(1.0, abs=1e-9)
    assert cca(x, x @ a).mean_rho == pytest.approx(1.0, abs=1e-9)


def _orthonormal_centred(n, k, seed):
    z = np.random.default_rng(seed).normal(size=(n, k))
    q, _ = np.linalg.qr(z - z.mean(0))
    return q


def test_svcca_keeps_only_the_leading_directions():
    u = _orthonormal_centred(100, 3, 23)
    x = np.column_stack([10 * u[:, 0], 0.01 * u[:, 1]])  # second direction: 1e-6 of the variance
    y = np.column_stack([u[:, 0], u[:, 2]])
    assert svcca(x, y, keep=0.99) == pytest.approx(1.0, abs=1e-9)  # x reduced to u0
    assert svcca(x, y, keep=1.0) == pytest.approx(0.5, abs=1e-9)  # rho = [1, 0]
    with pytest.raises(NichelabError, match=r"keep must be a number in \(0, 1\]; got 0"):
        svcca(x, y, keep=0)


def test_pwcca_weights_follow_the_paper_on_a_hand_built_case():
    u = _orthonormal_centred(50, 3, 24)
    u1, u2, u3 = u.T
    y = np.column_stack([u1, 0.6 * u2 + 0.8 * u3])  # canonical correlations 1 and 0.6
    # h = (u1, u2); alpha = (|<u1, 3u1>| + |<u1, u2>|, |<u2, 3u1>| + |<u2, u2>|) = (3, 1)
    assert pwcca(np.column_stack([3 * u1, u2]), y) == pytest.approx(0.75 * 1 + 0.25 * 0.6, abs=1e-10)
    # mixed neurons: alpha = (|<u1, 3u1 + u2>| + 0, |<u2, 3u1 + u2>| + |<u2, u2>|) = (3, 2)
    assert pwcca(np.column_stack([3 * u1 + u2, u2]), y) == pytest.approx(0.6 * 1 + 0.4 * 0.6, abs=1e-10)
    # weights from y's own variates (u1, 0.6u2 + 0.8u3): alpha = (1, 1)
    assert pwcca(y, np.column_stack([3 * u1, u2])) == pytest.approx(0.5 * 1 + 0.5 * 0.6, abs=1e-10)


# ----------------------------------------------------------------------------- Procrustes

def naive_procrustes(x, y):
    a, b = x - x.mean(0), y - y.mean(0)
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    d = max(a.shape[1], b.shape[1])
    a = np.hstack([a, np.zeros((len(a), d - a.shape[1]))])
    b = np.hstack([b, np.zeros((len(b), d - b.shape[1]))])
    r, _ = orthogonal_procrustes(b, a)
    return np.linalg.norm(a - b @ r) ** 2


@FAST
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 15), d1=st.integers(1, 25), d2=st.integers(1, 25))
def test_procrustes_matches_naive_and_lies_in_0_2(seed, n, d1, d2):
    x, y = random_pair(seed, n, d1, d2, noise=3.0)
    value = procrustes_distance(x, y)
    assert 0.0 <= value <= 2.0
    assert value == pytest.approx(naive_procrustes(x, y), abs=1e-9)


def test_procrustes_invariances():
    x, y = random_pair(25, 50, 6, 6)
    q = ortho_group.rvs(6, random_state=1)
    assert procrustes_distance(x, 0.3 * x @ q + 4) == pytest.approx(0.0, abs=1e-10)
    assert procrustes_distance(x, 5 * y @ q - 1) == pytest.approx(procrustes_distance(x, y), abs=1e-12)
    assert procrustes_distance(x, x @ np.diag([1.0, 1, 1, 1, 1, 5])) > 0.1  # not orthogonal


# ----------------------------------------------------------------------------- RSA

def test_rsa_matches_scipy_spearman_of_correlation_rdms():
    x, y = random_pair(26, 20, 5, 7, noise=2.0)
    ref = spearmanr(pdist(x, "correlation"), pdist(y, "correlation")).statistic
    assert rsa(x, y) == pytest.approx(ref, rel=1e-10)
    assert rsa(x, 2 * x + 3) == pytest.approx(1.0, abs=1e-12)


def test_rsa_constant_rows_have_dissimilarity_one_and_single_unit_is_nan():
    x, y = random_pair(27, 15, 6, 4, noise=2.0)
    x[3] = 0.0  # a sample on which every unit is silent
    x[5], x[9] = 0.1, 0.7  # constant rows whose float64 mean is not exactly the constant
    with np.errstate(invalid="ignore", divide="ignore"):
        rdm = squareform(pdist(x, "correlation"), checks=False)
    rdm[[3, 5, 9], :] = rdm[:, [3, 5, 9]] = 1.0
    np.fill_diagonal(rdm, 0.0)
    rdm = squareform(rdm)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rsa(x, y) == pytest.approx(spearmanr(rdm, pdist(y, "correlation")).statistic, rel=1e-10)
        assert math.isnan(rsa(x[:, :1], y))
    with pytest.raises(NichelabError, match="RSA needs at least 3 samples"):
        rsa(x[:2], y[:2])


# ----------------------------------------------------------------------------- conformance suite

MEASURES = {
    "linear_cka": linear_cka,
    "linear_cka_debiased": lambda x, y: linear_cka(x, y, debiased=True),
    "rbf_cka": rbf_cka,
    "rbf_cka_debiased": lambda x, y: rbf_cka(x, y, debiased=True),
    "cca": lambda x, y: cca(x, y).mean_rho,
    "svcca": svcca,
    "pwcca": pwcca,
    "procrustes": procrustes_distance,
    "rsa": rsa,
}


@pytest.mark.parametrize("name", MEASURES)
def test_conformance_permutations_dtype_and_dead_units(name):
    fn = MEASURES[name]
    rng = np.random.default_rng(28)
    x, y = random_pair(28, 60, 5, 4, noise=2.0)
    ref = fn(x, y)
    assert np.isfinite(ref)
    ux, uy, s = rng.permutation(5), rng.permutation(4), rng.permutation(60)
    assert fn(x[:, ux], y[:, uy]) == pytest.approx(ref, abs=1e-10), "permuting units"
    assert fn(x[s], y[s]) == pytest.approx(ref, abs=1e-10), "permuting samples jointly"
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    assert fn(x32, y32) == pytest.approx(fn(x32.astype(float), y32.astype(float)), abs=1e-12), "float32"
    assert fn(x32, y32) == pytest.approx(ref, abs=1e-5)
    if name != "rsa":  # RSA correlates across units, so an extra constant unit changes it
        xd = np.hstack([x, np.zeros((60, 1)), np.full((60, 1), 2.5)])
        assert fn(xd, y) == pytest.approx(ref, abs=1e-10), "adding dead units"


@pytest.mark.parametrize("scale", [1e-200, 1e200])
@pytest.mark.parametrize("name", MEASURES)
def test_conformance_extreme_magnitudes(name, scale):
    fn = MEASURES[name]
    x, y = random_pair(31, 30, 4, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fn(scale * x, y) == pytest.approx(fn(x, y), rel=1e-9)
        assert fn(x, scale * y) == pytest.approx(fn(x, y), rel=1e-9)


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_minibatch_and_matrix_survive_extreme_magnitudes(scale):
    x, y = random_pair(32, 40, 4, 3)
    ref, big = MinibatchCKA(), MinibatchCKA()
    for s in (0, 20):
        ref.update(x[s:s + 20], y[s:s + 20])
        big.update(scale * x[s:s + 20], y[s:s + 20])
    assert big.compute() == pytest.approx(ref.compute(), rel=1e-9)
    _, _, m = cka_matrix({"x": scale * x}, {"y": y})
    assert m[0, 0] == pytest.approx(linear_cka(x, y), rel=1e-9)


@pytest.mark.parametrize("name", MEASURES)
def test_conformance_input_errors(name):
    fn = MEASURES[name]
    x, y = random_pair(29, 10, 3, 2)
    with pytest.raises(NichelabError, match=r"x and y must have the same number of samples; got x \(10, 3\) and y \(9, 2\)"):
        fn(x, y[:9])
    bad = x.copy()
    bad[2, 1] = np.nan
    with pytest.raises(NichelabError, match=r"x must not contain NaN or inf; got 1 NaN and 0 inf values \(first at index \(2, 1\)\)"):
        fn(bad, y)
    bad[2, 1] = np.inf
    with pytest.raises(NichelabError, match="y must not contain NaN or inf"):
        fn(x, bad)
    with pytest.raises(NichelabError, match=r"x must be 2-D .* got shape \(10,\); use x\[:, None\]"):
        fn(x[:, 0], y)
    with pytest.raises(NichelabError, match=r"got shape \(10, 3, 2\); reduce or flatten conv maps"):
        fn(np.zeros((10, 3, 2)), y)
    with pytest.raises(NichelabError, match="x must be a real numeric array"):
        fn(x.astype(complex), y)


@pytest.mark.parametrize("fn", [lambda x, y: linear_cka(x, y, debiased=True),
                                lambda x, y: rbf_cka(x, y, debiased=True)])
def test_debiased_needs_four_samples(fn):
    x, y = random_pair(30, 3, 2, 2)
    with pytest.raises(NichelabError, match="debiased CKA needs at least 4 samples; got n_samples=3"):
        fn(x, y)


values = hnp.arrays(
    np.float64, st.tuples(st.integers(4, 9), st.integers(1, 4)),
    elements=st.sampled_from([0.0, 0.0, 1.0, -2.0, 3.5, 1e-3, 1e4]),
)


@settings(max_examples=60, deadline=None)
@given(x=values, y=values)
def test_any_finite_input_gives_a_value_in_range_or_nan(x, y):
    n = min(len(x), len(y))
    x, y = x[:n], y[:n]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", DegenerateCCAWarning)
        for name in ("linear_cka", "rbf_cka"):
            v = MEASURES[name](x, y)
            assert math.isnan(v) or 0.0 <= v <= 1.0
        for name in ("linear_cka_debiased", "rbf_cka_debiased"):
            assert not math.isinf(MEASURES[name](x, y))
        v = rsa(x, y)
        assert math.isnan(v) or -1.0 <= v <= 1.0
        for name in ("cca", "svcca", "pwcca"):
            v = MEASURES[name](x, y)
            assert math.isnan(v) or 0.0 <= v <= 1.0
        v = procrustes_distance(x, y)
        assert math.isnan(v) or 0.0 <= v <= 2.0
        x_dead = np.all(x == x[0], axis=0).all()
        assert math.isnan(linear_cka(x, y)) == (x_dead or np.all(y == y[0], axis=0).all())


# ----------------------------------------------------------------------------- holes: scale, ties, size

def test_minibatch_cka_later_batches_far_larger_stay_finite_and_exact():
    rng = np.random.default_rng(11)
    xs = [rng.normal(size=(16, 3)) for _ in range(3)]
    ys = [x @ rng.normal(size=(3, 4)) + 0.5 * rng.normal(size=(16, 4)) for x in xs]

    def run(scales):
        m = MinibatchCKA()
        for x, y, s in zip(xs, ys, scales):
            m.update(x * s, y * s)
        return m.compute()

    # reference: the per-batch debiased HSICs typed in, averaged, then the ratio
    def ref(scales):
        h = np.zeros(3)
        for x, y, s in zip(xs, ys, scales):
            k, l = (x * s) @ (x * s).T, (y * s) @ (y * s).T
            h += [naive_hsic_debiased(k, l), naive_hsic_debiased(k, k), naive_hsic_debiased(l, l)]
        return h[0] / np.sqrt(h[1] * h[2])

    for scales in ([1.0, 2.0, 0.5], [1.0, 1e3, 1e-3]):
        assert run(scales) == pytest.approx(ref(scales), abs=1e-12)
    # a later batch 1e80 larger dominates every average: the result is that batch's own CKA
    # (before the fix its fourth powers overflowed and the result was NaN)
    only_last = MinibatchCKA()
    only_last.update(xs[2], ys[2])
    got = run([1.0, 1.0, 1e80])
    assert np.isfinite(got) and got == pytest.approx(only_last.compute(), abs=1e-12)
    assert run([1e-250, 1e-250, 1e-250]) == pytest.approx(run([1.0, 1.0, 1.0]), abs=1e-12)
    assert run([1e200, 1e200, 1e200]) == pytest.approx(run([1.0, 1.0, 1.0]), abs=1e-12)


def test_rbf_cka_refuses_huge_n_before_allocating():
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import resource, numpy as np
        from nichelab.errors import NichelabError
        from nichelab.metrics import rbf_cka, cka_matrix
        x = np.random.default_rng(0).normal(size=(100_000, 8))
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))   # 3 GiB << 74.5 GiB
        for call in (lambda: rbf_cka(x, x), lambda: cka_matrix({"a": x}, measure="rbf_cka")):
            try:
                call()
            except NichelabError as err:
                msg = str(err)
                assert "n_samples=100000" in msg and "max_samples=10000" in msg, msg
                assert "linear_cka" in msg and "subsample" in msg, msg
            else:
                raise SystemExit("no error")
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_rbf_cka_max_samples_is_adjustable():
    x = np.random.default_rng(0).normal(size=(30, 3))
    with pytest.raises(NichelabError, match="max_samples=20"):
        rbf_cka(x, x, max_samples=20)
    assert rbf_cka(x, x, max_samples=30) == pytest.approx(1.0)
    with pytest.raises(NichelabError, match="max_samples must be an integer"):
        rbf_cka(x, x, max_samples=float("nan"))


@pytest.mark.parametrize("scale", [1e-300, 1e-5, 3.0, 1e200])
def test_rsa_identical_rdms_give_one_at_any_scale(scale):
    # many exact ties: integer-valued units and duplicated samples
    x = np.random.default_rng(0).integers(0, 3, size=(12, 4)).astype(float)
    x = np.r_[x, x[:4]]
    assert rsa(x, x * scale + 7 * scale) == 1.0
    assert rsa(x * scale, x) == 1.0
    assert rsa(x, x[:, ::-1]) == 1.0    # permuting units keeps the RDM


def test_rsa_ties_get_average_ranks():
    # RDMs with ties up to rounding: the result equals spearmanr (average ranks) of the RDMs
    # rounded to 8 decimals, where the ties are exact
    rng = np.random.default_rng(1)
    x = rng.integers(0, 2, size=(10, 3)).astype(float) + 0.1 * np.arange(3)
    y = rng.normal(size=(10, 5))
    rdm_x, rdm_y = sim._correlation_rdm_upper(x), sim._correlation_rdm_upper(y)
    assert len(np.unique(np.round(rdm_x, 8))) < len(rdm_x)        # the case has ties
    want = spearmanr(np.round(rdm_x, 8), np.round(rdm_y, 8)).statistic
    assert rsa(x, y) == pytest.approx(want, abs=1e-12)
