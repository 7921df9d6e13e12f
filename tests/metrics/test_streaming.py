"""StreamingCKA / streaming_cka against the full naive float64 Gram-matrix formula."""
from __future__ import annotations

import numpy as np
import pytest

from nichelab.errors import NichelabError
from nichelab.metrics import StreamingCKA, cka_matrix, linear_cka, streaming_cka


def naive_cka(x, y, debiased):
    """CKA from n x n Gram matrices of float64 data centred first (typed in from the papers)."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    x, y = x - x.mean(0), y - y.mean(0)
    n = len(x)
    one = np.ones(n)

    def h(k, l):
        if not debiased:
            c = np.eye(n) - 1.0 / n
            return np.trace(k @ c @ l @ c) / (n - 1) ** 2
        k, l = k.copy(), l.copy()
        np.fill_diagonal(k, 0)
        np.fill_diagonal(l, 0)
        return (np.trace(k @ l) + (one @ k @ one) * (one @ l @ one) / ((n - 1) * (n - 2))
                - 2 / (n - 2) * (one @ k @ l @ one)) / (n * (n - 3))

    k, l = x @ x.T, y @ y.T
    hxx, hyy = h(k, k), h(l, l)
    if not (hxx > 0 and hyy > 0):
        return np.nan
    return h(k, l) / np.sqrt(hxx * hyy)


def layers(n=23, seed=0):
    """Two small 'models' with a wide layer (d > n), a dead unit, a constant unit, an offset."""
    rng = np.random.default_rng(seed)
    h1 = rng.normal(size=(n, 6))
    wide = np.maximum(h1 @ rng.normal(size=(6, 40)), 0.0)          # n < d
    wide[:, 3] = 0.0                                                # dead unit
    wide[:, 7] = 2.5                                                # constant unit
    out = wide @ rng.normal(size=(40, 3))
    a = {"h1": h1 + 1e3, "wide": wide, "out": out}
    b = {"g1": h1 @ rng.normal(size=(6, 5)) + 0.3 * rng.normal(size=(n, 5)),
         "g2": np.maximum(rng.normal(size=(n, 4)) + h1[:, :1], 0).astype(np.float32)}
    return a, b


def batched(acts, size):
    n = len(next(iter(acts.values())))
    return [{k: v[i:i + size] for k, v in acts.items()} for i in range(0, n, size)]


def reference(a, b, debiased):
    return np.array([[naive_cka(a[i], b[j], debiased) for j in b] for i in a])


@pytest.mark.parametrize("debiased", [False, True])
@pytest.mark.parametrize("size", [1, 3, 7, 23, 100])
def test_two_models_match_full_formula_at_any_batch_size(size, debiased):
    a, b = layers()
    acc = StreamingCKA()
    for ba, bb in zip(batched(a, size), batched(b, size)):
        acc.update(ba, bb)
    got = acc.compute(debiased=debiased)
    assert got.shape == (3, 2)
    np.testing.assert_allclose(got, reference(a, b, debiased), rtol=0, atol=1e-10)
    assert acc.n_samples == 23 and acc.names_a == ["h1", "wide", "out"] and acc.names_b == ["g1", "g2"]


@pytest.mark.parametrize("debiased", [False, True])
@pytest.mark.parametrize("size", [2, 5, 23])
def test_one_model_matrix_matches_full_formula(size, debiased):
    a, _ = layers(seed=1)
    _, _, got = streaming_cka(batched(a, size), debiased=debiased)
    want = reference(a, a, debiased)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)
    np.testing.assert_allclose(got, got.T, atol=1e-12)
    np.testing.assert_allclose(np.diag(got), 1.0, atol=1e-12)


def test_functional_wrapper_equals_cka_matrix_and_pairs():
    a, b = layers(seed=2)
    names_a, names_b, got = streaming_cka(zip(batched(a, 4), batched(b, 4)), debiased=True)
    _, _, want = cka_matrix(a, b, debiased=True)
    assert names_a == list(a) and names_b == list(b)
    np.testing.assert_allclose(got, want, atol=1e-10)


def test_dead_layer_gives_nan_and_others_defined():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(20, 4))
    acts = {"x": x, "dead": np.zeros((20, 3)), "const": np.full((20, 2), 7.0)}
    _, _, m = streaming_cka(batched(acts, 6))
    assert np.isnan(m[1:, :]).all() and np.isnan(m[:, 1:]).all()
    assert m[0, 0] == pytest.approx(1.0, abs=1e-12)


def test_float32_batches_accumulate_in_float64():
    a, b = layers(seed=4)
    a32 = {k: v.astype(np.float32) for k, v in a.items()}
    _, _, got = streaming_cka(zip(batched(a32, 5), batched(b, 5)))
    want = reference({k: v.astype(np.float64) for k, v in a32.items()}, b, False)
    np.testing.assert_allclose(got, want, atol=1e-10)


@pytest.mark.parametrize("scale_a, scale_b", [(1e-300, 1e200), (1e200, 1e-300), (1.0, 1e6)])
def test_extreme_scales_per_layer_do_not_change_the_value(scale_a, scale_b):
    a, b = layers(seed=5)
    want = reference(a, b, True)
    sa = {k: v * scale_a for k, v in a.items()}
    sb = {k: np.asarray(v, np.float64) * scale_b for k, v in b.items()}
    _, _, got = streaming_cka(zip(batched(sa, 6), batched(sb, 6)), debiased=True)
    np.testing.assert_allclose(got, want, atol=1e-10)


def test_later_batches_much_larger_than_the_first():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(40, 5))
    y = x @ rng.normal(size=(5, 3)) + rng.normal(size=(40, 3))
    grow = np.repeat([1.0, 1e75, 1e150, 1e-200], 10)[:, None]
    xs, ys = x * grow, y * grow
    acc = StreamingCKA()
    for i in range(0, 40, 10):
        acc.update({"x": xs[i:i + 10]}, {"y": ys[i:i + 10]})
    for debiased in (False, True):
        got = acc.compute(debiased)[0, 0]
        assert np.isfinite(got)
        assert got == pytest.approx(linear_cka(xs, ys, debiased=debiased), abs=1e-10)


def test_large_offset_keeps_precision():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(50, 3))
    y = x + 0.1 * rng.normal(size=(50, 3))
    want = naive_cka(x, y, False)
    _, _, got = streaming_cka(({"x": x[i:i + 8] + 1e6}, {"y": y[i:i + 8] - 1e6}) for i in range(0, 50, 8))
    assert got[0, 0] == pytest.approx(want, abs=1e-9)


@pytest.mark.parametrize("bad, match", [
    (lambda acc: acc.update({"x": np.ones((4, 2))}, {"z": np.ones((4, 2))}), "acts_b must hold the same layers"),
    (lambda acc: acc.update({"x": np.ones((4, 3))}, {"y": np.ones((4, 2))}), "must keep its number of units"),
    (lambda acc: acc.update({"x": np.ones((4, 2))}), "acts_b must be given in every update"),
    (lambda acc: acc.update({"x": np.ones((4, 2))}, {"y": np.ones((3, 2))}), "same number of samples"),
    (lambda acc: acc.update({"x": np.full((4, 2), np.nan)}, {"y": np.ones((4, 2))}), "NaN"),
    (lambda acc: acc.update({"x": np.ones((4, 2, 2))}, {"y": np.ones((4, 2))}), "2-D"),
    (lambda acc: acc.update({"x": np.ones((4, 2)) * 1j}, {"y": np.ones((4, 2))}), "real"),
    (lambda acc: acc.update({}, {"y": np.ones((4, 2))}), "non-empty dict"),
    (lambda acc: acc.update({"x": np.ones((4, 0))}, {"y": np.ones((4, 2))}), "at least one unit"),
])
def test_bad_batches_raise_one_clear_error(bad, match):
    acc = StreamingCKA()
    acc.update({"x": np.arange(8.0).reshape(4, 2)}, {"y": np.arange(8.0).reshape(4, 2) ** 2})
    with pytest.raises(NichelabError, match=match):
        bad(acc)


def test_compute_needs_enough_samples():
    acc = StreamingCKA()
    with pytest.raises(NichelabError, match="at least one update"):
        acc.compute()
    acc.update({"x": np.arange(6.0).reshape(3, 2)})
    assert acc.compute().shape == (1, 1)
    with pytest.raises(NichelabError, match="at least 4 samples"):
        acc.compute(debiased=True)
    with pytest.raises(NichelabError, match="batches must yield"):
        streaming_cka([np.ones((3, 2))])


@pytest.mark.parametrize("stage_rows", [1, 3, 8])
@pytest.mark.parametrize("size", [1, 2, 5, 9])
def test_staging_flushes_and_large_batches_give_the_same_values(monkeypatch, stage_rows, size):
    """A tiny staging buffer forces every path: staged, flushed, and batches larger than it."""
    import nichelab.metrics.streaming as streaming

    a, b = layers(seed=8)
    d = sum(v.shape[1] for v in a.values()) + sum(v.shape[1] for v in b.values())
    monkeypatch.setattr(streaming, "CHUNK_ELEMENTS", stage_rows * d)
    grow = np.repeat([1.0, 1e80, 1e-90, 1.0], [6, 6, 6, 5])[:, None]     # rescaling mid-stream
    a = {k: v * grow for k, v in a.items()}
    b = {k: np.asarray(v, np.float64) * grow for k, v in b.items()}
    acc = StreamingCKA()
    for ba, bb in zip(batched(a, size), batched(b, size)):
        acc.update(ba, bb)
    assert len(acc._stage) == stage_rows
    for debiased in (False, True):
        want = np.array([[linear_cka(a[i], b[j], debiased=debiased) for j in b] for i in a])
        np.testing.assert_allclose(acc.compute(debiased), want, atol=1e-10)


@pytest.mark.parametrize("stage_rows", [4, 7])
def test_compute_mid_stream_then_more_batches(monkeypatch, stage_rows):
    """compute() packs a partly filled staging buffer and symmetrises the Gram in place;
    later batches must still accumulate correctly (one model and two models)."""
    import nichelab.metrics.streaming as streaming

    a, b = layers(n=31, seed=9)
    d = sum(v.shape[1] for v in a.values()) + sum(v.shape[1] for v in b.values())
    monkeypatch.setattr(streaming, "CHUNK_ELEMENTS", stage_rows * d)
    one, two = StreamingCKA(), StreamingCKA()
    for i, (ba, bb) in enumerate(zip(batched(a, 3), batched(b, 3))):
        one.update(ba)
        two.update(ba, bb)
        if i in (2, 6):                              # 9 and 21 rows seen: partial stage
            seen = {k: v[:3 * (i + 1)] for k, v in a.items()}
            seen_b = {k: v[:3 * (i + 1)] for k, v in b.items()}
            np.testing.assert_allclose(one.compute(True), reference(seen, seen, True), atol=1e-10)
            np.testing.assert_allclose(two.compute(True), reference(seen, seen_b, True), atol=1e-10)
    for debiased in (False, True):
        np.testing.assert_allclose(one.compute(debiased), reference(a, a, debiased), atol=1e-10)
        np.testing.assert_allclose(two.compute(debiased), reference(a, b, debiased), atol=1e-10)


@pytest.mark.parametrize("scale", [2.0 ** 59, 2.0 ** 62, 2.0 ** -59, 2.0 ** -62, 3e-20, 7e19])
@pytest.mark.parametrize("size", [1, 4, 23])
def test_values_near_the_scaling_threshold(scale, size):
    """Layers are scaled only beyond 2**+-60; on both sides the value is the same."""
    a, b = layers(seed=10)
    want = reference(a, b, True)
    sa = {k: np.asarray(v, np.float64) * scale for k, v in a.items()}
    _, _, got = streaming_cka(zip(batched(sa, size), batched(b, size)), debiased=True)
    np.testing.assert_allclose(got, want, atol=1e-10)


def test_integer_and_bool_layers():
    rng = np.random.default_rng(11)
    ints = rng.integers(-5, 9, size=(30, 4))
    flags = rng.random((30, 3)) > 0.5
    x = rng.normal(size=(30, 2)) + ints[:, :2]
    acts = {"ints": ints, "flags": flags, "x": x}
    ref = {k: np.asarray(v, np.float64) for k, v in acts.items()}
    for size in (1, 7, 30):
        _, _, got = streaming_cka(batched(acts, size), debiased=True)
        np.testing.assert_allclose(got, reference(ref, ref, True), atol=1e-10)


def test_one_large_batch_is_split_across_many_chunks(monkeypatch):
    import nichelab.metrics.streaming as streaming

    a, b = layers(n=200, seed=12)
    d = sum(v.shape[1] for v in a.values()) + sum(v.shape[1] for v in b.values())
    monkeypatch.setattr(streaming, "CHUNK_ELEMENTS", 17 * d)       # 200 rows = 11 full chunks + 13
    acc = StreamingCKA()
    acc.update(a, b)
    assert acc._staged == 200 % 17
    np.testing.assert_allclose(acc.compute(True), reference(a, b, True), atol=1e-10)
