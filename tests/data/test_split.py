"""The one stratified split (nichelab.data.split): disjoint, complete, stratified, seeded one way."""
import numpy as np
import pytest

from nichelab.data.base import Dataset
from nichelab.data.split import stratified_indices, stratified_split
from nichelab.errors import NichelabError


def _labels():
    # unequal classes: 50, 31, 9 and 2 samples, shuffled
    y = np.repeat([0, 1, 2, 3], [50, 31, 9, 2])
    return np.random.default_rng(3).permutation(y)


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.3, 0.5, 0.8])
def test_split_is_disjoint_complete_and_stratified(fraction):
    y = _labels()
    train, test = stratified_indices(y, fraction, seed=4)
    assert np.intersect1d(train, test).size == 0
    assert np.array_equal(np.sort(np.r_[train, test]), np.arange(len(y)))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
    assert len(test) == int(np.ceil(fraction * len(y)))
    for c, n_c in zip(*np.unique(y, return_counts=True)):
        # every class keeps its share of the held-out set, up to rounding (one sample)
        assert abs((y[test] == c).sum() - fraction * n_c) <= 1.0, c


def test_split_is_scikit_learns_seeded_by_random_state():
    from sklearn.model_selection import train_test_split
    y = _labels()
    train, test = stratified_indices(y, 0.3, seed=7)
    ref_train, ref_test = train_test_split(np.arange(len(y)), test_size=0.3, stratify=y, random_state=7)
    assert np.array_equal(test, np.sort(ref_test)) and np.array_equal(train, np.sort(ref_train))
    assert np.array_equal(stratified_indices(y, 0.3, seed=7)[1], test)
    assert not np.array_equal(stratified_indices(y, 0.3, seed=8)[1], test)


def test_stratified_split_slices_per_sample_meta():
    y = _labels()
    ds = Dataset(np.arange(len(y), dtype=float)[:, None], y, ["a", "b", "c", "d"], "toy",
                 {"index": np.arange(len(y)) * 10})
    train, test = stratified_split(ds, 0.3, seed=1)
    assert np.array_equal(test.X[:, 0].astype(int) * 10, test.meta["index"])
    assert len(train) + len(test) == len(ds) and train.name == test.name == "toy"


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, float("nan"), "x"])
def test_fraction_outside_unit_interval_names_the_field(bad):
    with pytest.raises(NichelabError, match=r"^test_fraction must be a number in \(0, 1\); got") as err:
        stratified_indices(_labels(), bad)
    assert err.value.field == "test_fraction"


def test_class_with_one_sample_is_refused():
    with pytest.raises(NichelabError, match="at least 2"):
        stratified_indices([0, 0, 0, 1], 0.5)


def test_studies_hold_out_the_shared_split():
    """convergence, hierarchy and transfer split with the shared function (stratified, disjoint)."""
    from nichelab.data.digits import load_digits
    from nichelab.data.tasks import load_task, split_task
    from nichelab.studies.convergence.pipeline import split
    from nichelab.studies.hierarchy.data import load_study_data
    digits = load_digits()
    train, test = split(digits, 0.3, 5)
    ref = stratified_indices(digits.y, 0.3, 5)
    assert np.array_equal(train, ref[0]) and np.array_equal(test, ref[1])
    assert np.intersect1d(train, test).size == 0 and len(train) + len(test) == len(digits)

    d = load_study_data("parts", per_class=20, size=16, test_fraction=0.3, seed=2)
    full_y = np.r_[d.train.y, d.test.y]
    for c in np.unique(full_y):
        assert abs((d.test.y == c).sum() - 0.3 * (full_y == c).sum()) <= 1.0
    rows = {r.tobytes() for r in d.train.X}
    assert not any(r.tobytes() in rows for r in d.test.X)     # no image on both sides

    task = load_task("digits:0-4")
    tr, te = split_task(task, 0.3, seed=1)
    expected = task.meta["index"][stratified_indices(task.y, 0.3, 1)[1]]
    assert np.array_equal(te.meta["index"], expected)
    assert np.intersect1d(tr.meta["index"], te.meta["index"]).size == 0
