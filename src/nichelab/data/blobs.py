"""The multiclass lab's data: four 2-D Gaussian blobs (Machine Learning Specialization, C2 W2)."""
from __future__ import annotations

import numpy as np

from ..errors import check_positive_int
from .base import Dataset

__all__ = ["LAB_CENTERS", "load_blobs", "make_blobs"]

#: Blob centres of the lab (REFERENCES.md, "The multiclass lab").
LAB_CENTERS = [[-5, 2], [-2, -2], [1, 2], [5, -2]]


def make_blobs(n_samples: int, centers, cluster_std: float, random_state: int) -> tuple[np.ndarray, np.ndarray]:
    """``sklearn.datasets.make_blobs`` for fixed centres, point for point, without importing scikit-learn.

    Same draws in the same order from ``np.random.RandomState(random_state)``: one normal block
    per centre (the remainder of ``n_samples`` goes to the first centres), then a shuffle of the
    sample order (``sklearn.utils.shuffle``). A test checks equality with scikit-learn.
    """
    rng = np.random.RandomState(random_state)
    centers = np.asarray(centers, dtype=np.float64)
    k, d = centers.shape
    counts = [n_samples // k + (1 if i < n_samples % k else 0) for i in range(k)]
    X = np.concatenate([rng.normal(loc=centers[i], scale=cluster_std, size=(n, d)) for i, n in enumerate(counts)])
    y = np.repeat(np.arange(k), counts)
    order = np.arange(n_samples)
    rng.shuffle(order)
    return X[order], y[order]


def load_blobs(n_samples: int = 100, *, cluster_std: float = 1.0, random_state: int = 30) -> Dataset:
    """The lab's four blobs, exactly as the lab draws them.

    ``make_blobs(n_samples, centers=LAB_CENTERS, cluster_std=1.0, random_state=30)``; with the
    defaults this is the lab's data point for point.

    Parameters
    ----------
    n_samples : int, default 100
        Number of points (split evenly over the four blobs by scikit-learn's rule).
    cluster_std : float, default 1.0
        Standard deviation of each blob.
    random_state : int, default 30
        The lab's random state.

    Returns
    -------
    Dataset
        ``X`` (n_samples, 2) float32, ``y`` (n_samples,) int64 in 0..3.

    Raises
    ------
    NichelabError
        If ``n_samples`` is not an integer >= 4.
    """
    n_samples = check_positive_int("n_samples", n_samples, minimum=4)
    X, y = make_blobs(n_samples=n_samples, centers=LAB_CENTERS, cluster_std=cluster_std,
                      random_state=random_state)
    meta = {"centers": LAB_CENTERS, "cluster_std": cluster_std, "random_state": random_state,
            "source": "sklearn.datasets.make_blobs"}
    return Dataset(X.astype(np.float32), y.astype(np.int64), [str(c) for c in range(4)], "blobs", meta)
