import numpy as np
import pytest
from sklearn.datasets import make_blobs

from nichelab.data import LAB_CENTERS, Dataset, load_blobs, load_digits, load_faces
from nichelab.errors import NichelabError


def test_blobs_equal_the_lab_data():
    X, y = make_blobs(n_samples=100, centers=[[-5, 2], [-2, -2], [1, 2], [5, -2]], cluster_std=1.0, random_state=30)
    d = load_blobs()
    assert d.X.shape == (100, 2) and d.X.dtype == np.float32
    np.testing.assert_array_equal(d.y, y)
    np.testing.assert_allclose(d.X, X.astype(np.float32))
    assert LAB_CENTERS == [[-5, 2], [-2, -2], [1, 2], [5, -2]]


def test_blobs_samples_option_uses_same_rule():
    X, y = make_blobs(n_samples=400, centers=LAB_CENTERS, cluster_std=1.0, random_state=30)
    d = load_blobs(400)
    np.testing.assert_allclose(d.X, X.astype(np.float32))
    assert np.bincount(d.y).tolist() == [100] * 4


def test_blobs_rejects_too_few_samples():
    with pytest.raises(NichelabError, match="^n_samples must be an integer >= 4"):
        load_blobs(3)


def test_digits_and_class_subsets():
    d = load_digits()
    assert d.X.shape == (1797, 64) and 0 <= d.X.min() and d.X.max() <= 1
    sub = load_digits(classes=[5, 6, 7, 8, 9], images=True)
    assert sub.X.shape[1:] == (1, 8, 8)
    assert set(np.unique(sub.y)) == set(range(5)) and sub.class_names == ["5", "6", "7", "8", "9"]
    np.testing.assert_array_equal(np.bincount(sub.y), np.bincount(d.y)[5:])


def test_faces_subset():
    d = load_faces()
    assert d.X.shape == (200, 1, 25, 25) and np.bincount(d.y).tolist() == [100, 100]


@pytest.mark.parametrize("X,y,match", [
    (np.zeros((3, 2)), np.zeros(4, int), "same number of samples"),
    (np.array([[0.0, np.nan]]), np.zeros(1, int), "finite"),
    (np.zeros((2, 2)), np.array([0.5, 1.0]), "integer"),
    (np.zeros((2, 2)), np.array([0, 5]), "0..1"),
])
def test_dataset_rejects_bad_input(X, y, match):
    with pytest.raises(NichelabError, match=match):
        Dataset(X, y, ["a", "b"])


def test_subset_slices_per_sample_meta():
    d = Dataset(np.arange(8, dtype=np.float32).reshape(4, 2), np.array([0, 1, 0, 1]), ["a", "b"],
                meta={"masks": np.arange(4) * 10, "shape": (2,), "table": np.zeros(3)})
    s = d.subset(np.array([3, 1]))
    assert s.meta["masks"].tolist() == [30, 10] and s.meta["table"].shape == (3,) and s.y.tolist() == [1, 1]


@pytest.mark.parametrize("n,seed,std", [(100, 30, 1.0), (103, 0, 0.5), (7, 5, 2.0)])
def test_numpy_make_blobs_equals_sklearn(n, seed, std):
    from nichelab.data.blobs import make_blobs as ours
    X, y = make_blobs(n_samples=n, centers=LAB_CENTERS, cluster_std=std, random_state=seed)
    X2, y2 = ours(n, LAB_CENTERS, std, seed)
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
