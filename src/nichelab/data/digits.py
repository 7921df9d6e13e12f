"""scikit-learn's handwritten digits (8x8, 10 classes, 1797 images)."""
from __future__ import annotations

import numpy as np
from .base import Dataset

__all__ = ["load_digits"]


def load_digits(*, images: bool = False, classes: list[int] | None = None) -> Dataset:
    """scikit-learn's digits, pixel values scaled to [0, 1].

    Parameters
    ----------
    images : bool, default False
        If True, ``X`` is (n, 1, 8, 8) for CNNs; else (n, 64).
    classes : list of int, optional
        Keep only these digits, relabelled 0..len(classes)-1 in the given order.

    Returns
    -------
    Dataset
        ``X`` float32 in [0, 1], ``y`` int64; ``meta["image_shape"] == (1, 8, 8)``.
    """
    from sklearn.datasets import load_digits as _sk_load_digits  # deferred: a slow import

    d = _sk_load_digits()
    X = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    names = [str(c) for c in range(10)]
    if classes is not None:
        keep = np.isin(y, classes)
        mapping = {int(c): i for i, c in enumerate(classes)}
        X, y = X[keep], np.array([mapping[int(v)] for v in y[keep]], dtype=np.int64)
        names = [str(c) for c in classes]
    if images:
        X = X.reshape(-1, 1, 8, 8)
    return Dataset(X, np.asarray(y, dtype=np.int64), names, "digits", {"image_shape": (1, 8, 8)})
