"""The lab study's machinery on hand-built weights, plus determinism and ensemble equivalence."""
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from nichelab.data import load_blobs
from nichelab.metrics.partitions import active_classes, describe_unit, split_key
from nichelab.nn import build_model
from nichelab.studies import lab
from nichelab.studies.lab.analysis import analyse_seeds, classify_outcome, pairwise_angles
from nichelab.train import TrainConfig, train_ensemble, train_one

DATA = load_blobs()
SPLIT_01_23 = ([1.0, 0.0], 0.5)   # x0 > -0.5: active for classes 2, 3 (centres x0 = -5, -2 | 1, 5)
SPLIT_02_13 = ([0.0, 1.0], 0.0)   # x1 > 0: active for classes 0, 2 (centres x1 = 2, 2 | -2, -2)
DEAD = ([0.0, 0.0], -1.0)


def _params(units):
    """Stacked params (S=1) with the given hidden units and an output layer fitted to the data."""
    W1 = np.array([[u[0] for u in units]], dtype=np.float32)
    b1 = np.array([[u[1] for u in units]], dtype=np.float32)
    A = np.maximum(DATA.X @ W1[0].T + b1[0], 0)
    clf = LogisticRegression(C=1e4, max_iter=5000).fit(A, DATA.y) if A.any() else None
    W2 = clf.coef_[None].astype(np.float32) if clf else np.zeros((1, 4, len(units)), np.float32)
    b2 = clf.intercept_[None].astype(np.float32) if clf else np.zeros((1, 4), np.float32)
    return {"L1.linear.weight": W1, "L1.linear.bias": b1, "L2.linear.weight": W2, "L2.linear.bias": b2}


def _analyse(units):
    p = _params(units)
    return analyse_seeds([0], p, p, DATA.X, DATA.y)


def test_hand_built_unit_split_is_read_correctly():
    a = _analyse([SPLIT_01_23, SPLIT_02_13])
    assert a.active[0].tolist() == [[False, False, True, True], [True, False, True, False]]
    assert a.splits[0] == ["{0,1}|{2,3}", "{0,2}|{1,3}"]
    assert describe_unit("L1:0", a.active[0, 0]) == "L1:0 active for {2,3}, silent for {0,1}"
    assert a.outcome == ["distinct"] and a.accuracy[0] >= 0.95


def test_dead_unit_outcome():
    a = _analyse([SPLIT_01_23, DEAD])
    assert a.dead[0].tolist() == [False, True]
    assert a.outcome == ["dead"]


def test_duplicated_unit_outcome_even_when_scaled_or_mirrored():
    assert _analyse([SPLIT_01_23, ([2.0, 0.0], 1.0)]).outcome == ["duplicate"]
    assert _analyse([SPLIT_01_23, ([-1.0, 0.0], -0.5)]).outcome == ["duplicate"]   # active for {0,1}


def test_classify_outcome_rules():
    act = np.array([[1, 1, 0, 0], [1, 0, 1, 0]], bool)
    ok = np.ones(4)
    assert classify_outcome(act, np.zeros(2, bool), ok) == "distinct"
    assert classify_outcome(act, np.zeros(2, bool), np.array([1, 1, 1, 0.2])) == "other"
    assert classify_outcome(act[[0, 0]], np.zeros(2, bool), ok) == "duplicate"
    assert classify_outcome(np.ones((2, 4), bool), np.zeros(2, bool), ok) == "other"  # no split is no duplicate
    assert classify_outcome(act, np.array([False, True]), ok) == "dead"


def test_split_key_is_orientation_free():
    assert split_key([False, False, True, True]) == split_key([True, True, False, False]) == "{0,1}|{2,3}"
    assert split_key([True, True, True, True]) == "{0,1,2,3}|{}"


def test_active_classes_majority_rule():
    acts = np.array([[1.0], [1.0], [0.0], [0.0], [1.0], [0.0]])
    y = np.array([0, 0, 0, 1, 1, 1])
    assert active_classes(acts, y, 2).tolist() == [[True, False]]  # 2/3 vs 1/3


def test_pairwise_angles():
    W = np.array([[[1.0, 0.0], [0.0, 2.0]], [[1.0, 1.0], [-1.0, -1.0]]])
    np.testing.assert_allclose(pairwise_angles(W), [90.0, 180.0])


def test_ensemble_equals_one_seed_loop():
    cfg = TrainConfig(epochs=15)
    ens = train_ensemble(lambda s: build_model("mlp 2", (2,), 4, seed=s), DATA.X, DATA.y, cfg, [3, 7])
    for i, s in enumerate([3, 7]):
        one = train_one(build_model("mlp 2", (2,), 4, seed=s), DATA.X, DATA.y, cfg, seed=s)
        for name, p in one.model.named_parameters():
            np.testing.assert_allclose(ens.params[name][i], p.detach().numpy(), atol=1e-5)
        np.testing.assert_allclose(ens.loss[i], one.loss, rtol=1e-5)


def test_same_seed_gives_identical_results():
    cfg = lab.LabConfig(seeds=3, epochs=10)
    r1, r2 = lab.run(cfg), lab.run(cfg)
    assert r1.per_seed == r2.per_seed
    for k in r1.params:
        np.testing.assert_array_equal(r1.params[k], r2.params[k])


def test_lab_config_rejects_bad_values():
    from nichelab.errors import NichelabError
    for kw, field in [({"seeds": 0}, "seeds"), ({"hidden": 0}, "hidden"), ({"epochs": -1}, "epochs"),
                      ({"optimizer": "adagrad"}, "optimizer"), ({"init": "xavier"}, "init"),
                      ({"lr": -1.0}, "lr"), ({"show_seed": 50, "seeds": 3}, "show_seed"),
                      ({"lr": float("nan")}, "lr"), ({"seeds": True}, "seeds"), ({"first_seed": 2**40}, "first_seed")]:
        with pytest.raises(NichelabError, match=f"^{field} ") as err:
            lab.LabConfig(**kw)
        assert err.value.field == field
