"""The lab's mechanism measurements: gradients, restarts training, niche exclusion, their sentences."""
from types import SimpleNamespace

import numpy as np
import pytest

from nichelab.studies.lab import findings as fx
from nichelab.studies.lab import mechanism as mx


def _net(R=3, H=2, C=4, d=2, seed=0):
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(size=(R, H, d)), "b1": rng.normal(size=(R, H)) * 0.5,
            "W2": rng.normal(size=(R, C, H)), "b2": rng.normal(size=(R, C)) * 0.1}


def _data(n=40, seed=1):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 4
    centres = np.array([[-3, -3], [-3, 3], [3, -3], [3, 3]], float)
    return centres[y] + rng.normal(size=(n, 2)), y


def _naive_loss(p, r, X, y):
    """Mean softmax cross-entropy of restart r, a plain float64 loop."""
    total = 0.0
    for x, t in zip(X, y):
        h = np.maximum(p["W1"][r] @ x + p["b1"][r], 0)
        z = p["W2"][r] @ h + p["b2"][r]
        total += -(z[t] - np.log(np.exp(z).sum()))
    return total / len(y)


def test_gradients_match_finite_differences():
    p, (X, y) = _net(), _data()
    loss, g = mx.forward_backward(p["W1"], p["b1"], p["W2"], p["b2"], X, y, 4)
    for r in range(3):
        assert loss[r] == pytest.approx(_naive_loss(p, r, X, y), rel=1e-12)
    eps = 1e-6
    for k in p:
        for idx in [(1,) + tuple(0 for _ in p[k].shape[1:]), (2,) + tuple(s - 1 for s in p[k].shape[1:])]:
            q = {kk: v.copy() for kk, v in p.items()}
            q[k][idx] += eps
            up = _naive_loss(q, idx[0], X, y)
            q[k][idx] -= 2 * eps
            down = _naive_loss(q, idx[0], X, y)
            assert g[k][idx] == pytest.approx((up - down) / (2 * eps), abs=1e-7)


def test_class_pull_parts_add_up_and_silent_unit_feels_nothing():
    p, (X, y) = _net(R=2), _data()
    p["b1"][:, 1] = -1e3  # unit 1 silent on every point: no class can pull it
    pull = mx.class_pull(p["W1"], p["b1"], p["W2"], p["b2"], X, y)
    assert pull.shape == (2, 2, 4)
    assert np.all(pull[:, 1] == 0)
    parts = []
    for c in range(4):
        _, g = mx.forward_backward(p["W1"], p["b1"], p["W2"], p["b2"], X, y, 4, weights=np.where(y == c, 1 / len(y), 0))
        parts.append(np.concatenate([g["W1"], g["b1"][..., None]], axis=2))
        assert np.allclose(np.linalg.norm(parts[-1], axis=2), pull[..., c], rtol=1e-12)
    _, g = mx.forward_backward(p["W1"], p["b1"], p["W2"], p["b2"], X, y, 4)
    assert np.allclose(sum(parts), np.concatenate([g["W1"], g["b1"][..., None]], axis=2), atol=1e-14)


def test_silenced_partner_trains_like_a_one_unit_network():
    p, (X, y) = _net(R=4), _data()
    kw = dict(epochs=5, lr=0.01, batch_size=16, order_seed=3)
    two = mx.train_restarts(p, X, y, frozen=np.array([True, False]), gate=np.array([0.0, 1.0]), **kw)
    one = mx.train_restarts({"W1": p["W1"][:, 1:], "b1": p["b1"][:, 1:], "W2": p["W2"][:, :, 1:], "b2": p["b2"]},
                            X, y, **kw)
    assert np.allclose(two["W1"][:, 1:], one["W1"], rtol=1e-12, atol=1e-14)
    assert np.allclose(two["b2"], one["b2"], rtol=1e-12, atol=1e-14)
    assert np.array_equal(two["W1"][:, 0], p["W1"][:, 0])      # frozen: exactly unchanged
    assert np.array_equal(two["W2"][:, :, 0], p["W2"][:, :, 0])  # silenced: no gradient reaches it
    moved = mx.train_restarts(p, X, y, **kw)
    assert not np.allclose(moved["W1"][:, 0], p["W1"][:, 0])     # without freezing it does move


def _trained_reference():
    X, y = _data(80)
    # a hand-built unit 0 splitting {0,1}|{2,3} (x0 < 0 vs x0 > 0) and unit 1 splitting {0,2}|{1,3}
    ref = {"L1.linear.weight": np.array([[1.0, 0.0], [0.0, 1.0]]), "L1.linear.bias": np.zeros(2),
           "L2.linear.weight": np.array([[0.0, 0.0], [0.0, 2.0], [2.0, 0.0], [2.0, 2.0]]),
           "L2.linear.bias": np.zeros(4)}
    return ref, X, y


def test_niche_exclusion_is_reproducible_and_counts_agree():
    ref, X, y = _trained_reference()
    kw = dict(restarts=6, epochs=3, lr=0.01, batch_size=32, seed=5)
    a, b = mx.niche_exclusion(ref, X, y, **kw), mx.niche_exclusion(ref, X, y, **kw)
    assert a == b
    assert a["partner_split"] == "{0,1}|{2,3}"
    for k in ("with_partner", "silenced"):
        assert len(a[k]["splits"]) == 6
        assert a[k]["same"] == sum(s == a["partner_split"] for s in a[k]["splits"])
        assert a[k]["dead"] == sum(s == "dead" for s in a[k]["splits"])
    fewer = mx.niche_exclusion(ref, X, y, **{**kw, "restarts": 3})
    assert fewer["silenced"]["splits"] == a["silenced"]["splits"][:3]  # restart r depends on r only


def test_niche_exclusion_with_zero_epochs_keeps_the_random_starts():
    ref, X, y = _trained_reference()
    out = mx.niche_exclusion(ref, X, y, restarts=20, epochs=0, lr=0.01, batch_size=32, seed=1)
    assert out["with_partner"]["splits"] == out["silenced"]["splits"]  # untrained: the partner cannot matter


def test_reference_seed():
    assert mx.reference_seed([4, 5, 6], ["dead", "distinct", "distinct"], 6) == 6
    assert mx.reference_seed([4, 5, 6], ["dead", "distinct", "distinct"], 4) == 5
    assert mx.reference_seed([4, 5], ["dead", "other"], 4) == -1


def _ex(k1, k0, n, dead=0):
    return {"reference_seed": 3, "partner_split": "{0,1}|{2,3}", "restarts": n,
            "with_partner": {"same": k1, "dead": dead}, "silenced": {"same": k0, "dead": 0}}


def test_exclusion_sentence_with_a_real_difference():
    text = " ".join(fx.answer_exclusion(_ex(0, 82, 200)))
    assert ("With a partner already covering {0,1}|{2,3}, the second unit took the same split in "
            "0% (0 of 200 restarts; 95% CI 0.0%–1.9%), against 41% (82 of 200 restarts; 95% CI 34%–48%)") in text
    assert "lowers the chance of landing on it by 41 percentage points (95% CI 34 to 48)" in text
    assert "cannot tell" not in text


def test_exclusion_sentence_without_a_difference_and_single_event():
    text = " ".join(fx.answer_exclusion(_ex(10, 11, 20, dead=1)))
    assert "cannot tell" in text and "lowers" not in text and "raises" not in text
    assert "died (silent on every point) in 5.0% (1 of 20 restarts" in text


def test_exclusion_sentence_when_skipped():
    assert "3 hidden units" in fx.answer_exclusion({}, SimpleNamespace(hidden=3, exclusion_restarts=200))[0]
    assert "--exclusion-restarts 0" in fx.answer_exclusion({}, SimpleNamespace(hidden=2, exclusion_restarts=0))[0]


# -- findings at any width, on hand-built analyses ------------------------------------------------

from nichelab.metrics.partitions import split_key  # noqa: E402
from nichelab.studies.lab.analysis import SeedAnalysis  # noqa: E402

A01 = np.array([1, 1, 0, 0], bool)   # {0,1}|{2,3}
A02 = np.array([1, 0, 1, 0], bool)   # {0,2}|{1,3}


def _analysis(units: list[list[np.ndarray]], outcomes: list[str], recall=None, init=None):
    S, H = len(units), len(units[0])
    active = np.array(units, bool)
    dead = ~active.any(axis=2)
    recall = np.ones((S, 4)) if recall is None else np.asarray(recall, float)
    return SeedAnalysis(np.arange(S), np.zeros(S), recall.mean(axis=1), recall, active, dead,
                        [[split_key(u) for u in s] for s in active], outcomes,
                        active.copy() if init is None else np.array(init, bool), np.full(S, 45.0))


@pytest.mark.parametrize("H", [1, 2, 3, 4])
def test_niches_sentence_fits_the_width(H):
    units = [[A01, A02, A01, A02][:H]] * 2
    out = "duplicate" if H > 2 else ("distinct" if H == 2 else "other")
    text = " ".join(fx.answer_niches(_analysis(units, [out, out])))
    assert ("; two units implemented" in text) == (H == 2)
    assert ("at least two units" in text) == (H > 2)
    assert ("single hidden unit" in text) == (H == 1)
    if H > 2:
        assert "100% (2 of 2 seeds; 95% CI" in text and "still tell all four classes apart" in text
        assert "L1:0 and L1:2 share {0,1}|{2,3}" in text


def test_shared_units_names_every_group():
    a = _analysis([[A01, A02, A01, A02]], ["duplicate"])
    assert fx.shared_units(a, 0) == "L1:0 and L1:2 share {0,1}|{2,3}; L1:1 and L1:3 share {0,2}|{1,3}"


def test_short_answer_from_hand_built_numbers():
    init = [[A02, A02], [A01, A02]]          # seed 0's unit 0 changed its split; seed 1 kept both
    a = _analysis([[A01, A02], [A01, A02]], ["distinct", "distinct"], init=init)
    text = fx.short_answer(a, _ex(0, 82, 200))[0]
    assert "75% (3 of 4 live units; 95% CI 30%–95%)" in text and "cannot tell whether the start or training" in text
    assert "0% (0 of 200 restarts; 95% CI 0.0%–1.9%), against 41% (82 of 200 restarts" in text
    assert "median accuracy by outcome is distinct seeds 100% (n=2)" in text
    assert "cannot tell" in fx.short_answer(a, _ex(10, 11, 20))[0]


def test_pull_sentence_counts():
    pull = {"epoch0_units": 10, "epoch0_top_on_active": 7, "seed": 4, "epochs": np.array([0, 1]),
            "norm": np.array([[[0.1, 0.4, 0.0, 0.0], [0.0, 0.0, 0.3, 0.1]], [[0.01, 0.01, 0, 0], [0, 0, 0.01, 0.01]]])}
    text = " ".join(fx.answer_pull(pull))
    assert "70% (7 of 10 live units; 95% CI" in text
    assert "L1:0 by class 1; L1:1 by class 2" in text
    assert "fallen to 4.4% of its start" in text   # 0.04 / 0.9
