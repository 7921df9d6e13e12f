"""Task pairs: parsing, class subsets, common sizing, splits without leakage or class overlap."""
import numpy as np
import pytest
from sklearn.datasets import load_digits as sk_digits

from nichelab.data.tasks import (check_disjoint, load_task, pair_kind, parse_task, prepare_tasks, split_task,
                                 subsample)
from nichelab.errors import NichelabError

SK = sk_digits()


def test_parse_digit_ranges_lists_and_defaults():
    assert parse_task("digits:0-4").classes == ("0", "1", "2", "3", "4")
    assert parse_task("digits:7,2,0-1").classes == ("7", "2", "0", "1")
    assert parse_task("digits").classes == tuple(str(d) for d in range(10))
    assert parse_task("parts:face,house").classes == ("face", "house")
    assert parse_task("faces").classes == ("non-face", "face")
    assert parse_task("digits:0-4").label == "digits 0–4"


@pytest.mark.parametrize("text, match", [
    ("digitz:0-4", "did you mean 'digits'"),
    ("digits:0-12", "0..9"),
    ("digits:4-2", "ranges like 0-4"),
    ("digits:a", "ranges like 0-4"),
    ("digits:3,3", "must not repeat"),
    ("digits:3", "at least 2 classes"),
    ("parts:face,hous", "did you mean 'house'"),
])
def test_parse_rejects_bad_tasks(text, match):
    with pytest.raises(NichelabError, match=match):
        parse_task(text)


def test_overlapping_class_lists_are_rejected_only_within_one_source():
    with pytest.raises(NichelabError, match="must not share classes; both contain 3, 4"):
        check_disjoint(parse_task("digits:0-4"), parse_task("digits:3-7"))
    check_disjoint(parse_task("digits:0-4"), parse_task("digits:5-9"))
    check_disjoint(parse_task("parts"), parse_task("digits:0-9"))
    assert pair_kind(parse_task("digits:0-4"), parse_task("digits:5-9")) == "similar"
    assert pair_kind(parse_task("parts"), parse_task("digits:5-9")) == "dissimilar"
    with pytest.raises(NichelabError, match="must not share classes"):
        prepare_tasks(["digits"], "digits:5-9")


def test_digit_task_is_relabelled_and_traceable_to_the_source_rows():
    d = load_task("digits:7,2")
    assert d.class_names == ["7", "2"] and d.X.shape[1:] == (1, 8, 8)
    idx = d.meta["index"]
    np.testing.assert_array_equal(np.where(d.y == 0, 7, 2), SK.target[idx])
    np.testing.assert_allclose(d.X.reshape(len(d), -1), SK.data[idx] / 16.0, rtol=0, atol=1e-6)
    assert set(SK.target[idx]) == {7, 2} and len(idx) == np.isin(SK.target, [7, 2]).sum()


def test_common_size_resizes_other_sources_into_unit_range():
    faces = load_task("faces", size=8)
    assert faces.X.shape == (200, 1, 8, 8) and faces.meta["original_size"] == (25, 25)
    assert faces.X.min() >= 0 and faces.X.max() <= 1
    parts = load_task("parts:face,car", size=8, parts_per_class=10)
    assert parts.X.shape == (20, 1, 8, 8) and parts.class_names == ["face", "car"]
    big = load_task("parts:face,car", parts_per_class=10)
    # anti-aliased shrinking keeps each image's mean brightness (area averaging)
    np.testing.assert_allclose(parts.X.mean(axis=(1, 2, 3)), big.X.mean(axis=(1, 2, 3)), atol=0.02)
    same = load_task("digits:0-1", size=8)
    np.testing.assert_array_equal(same.X, load_task("digits:0-1").X)


def test_split_is_disjoint_stratified_and_seeded():
    d = load_task("digits:0-4")
    train, test = split_task(d, 0.3, seed=0)
    a, b = train.meta["index"], test.meta["index"]
    assert np.intersect1d(a, b).size == 0                      # no sample on both sides
    assert np.array_equal(np.sort(np.r_[a, b]), np.sort(d.meta["index"]))
    for c in range(5):
        share = (test.y == c).sum() / (d.y == c).sum()
        assert abs(share - 0.3) < 0.01
    again = split_task(d, 0.3, seed=0)[1].meta["index"]
    other = split_task(d, 0.3, seed=1)[1].meta["index"]
    assert np.array_equal(again, b) and not np.array_equal(other, b)
    with pytest.raises(NichelabError, match="^test_fraction must be a number in"):
        split_task(d, 1.0)


@pytest.mark.parametrize("bad", [0, -0.1, 1.5, float("nan"), "x"])
def test_target_fraction_outside_unit_interval_is_rejected(bad):
    train = split_task(load_task("digits:5-9"))[0]
    with pytest.raises(NichelabError, match=r"^target_fraction must be a number in \(0, 1\]"):
        subsample(train, bad)
    with pytest.raises(NichelabError, match="^target_fraction"):
        prepare_tasks(["digits:0-4"], "digits:5-9", target_fraction=bad)


def test_prepare_tasks_pairs_without_leakage_or_overlap():
    sources, target = prepare_tasks(["digits:0-4", "faces"], "digits:5-9", target_fraction=0.25)
    sim, faces = sources
    # the target's fraction only thins its training set; its test set stays whole and disjoint
    full_train = target.n_train_full
    assert abs(len(target.train) - 0.25 * full_train) <= 5
    assert np.intersect1d(target.train.meta["index"], target.test.meta["index"]).size == 0
    assert np.all(np.bincount(target.train.y) >= 1)
    # A and B come from the same digits but share no sample and no class
    a_rows = np.r_[sim.train.meta["index"], sim.test.meta["index"]]
    b_rows = np.r_[target.train.meta["index"], target.test.meta["index"]]
    assert np.intersect1d(a_rows, b_rows).size == 0
    assert set(SK.target[a_rows]) == set(range(5)) and set(SK.target[b_rows]) == set(range(5, 10))
    # every task at the target's size
    assert faces.train.X.shape[1:] == sim.train.X.shape[1:] == target.test.X.shape[1:] == (1, 8, 8)
    with pytest.raises(NichelabError, match="^sources must differ"):
        prepare_tasks(["digits:0-4", "digits:0-4"], "digits:5-9")
