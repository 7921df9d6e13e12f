"""The one stratified train / test split: scikit-learn's, seeded one way (``random_state=seed``)."""
from __future__ import annotations

import numpy as np

from ..errors import NichelabError
from .base import Dataset

__all__ = ["stratified_indices", "stratified_split"]


def stratified_indices(y, test_fraction: float, seed: int = 0, *,
                       field: str = "test_fraction") -> tuple[np.ndarray, np.ndarray]:
    """Disjoint, sorted train and test indices that keep every class's share.

    ``sklearn.model_selection.train_test_split(range(n), test_size=test_fraction, stratify=y,
    random_state=seed)``: ``ceil(test_fraction * n)`` samples are held out, shared among the
    classes in proportion to their sizes (scikit-learn rounds the shares so that they add up).

    Parameters
    ----------
    y : array of int, shape (n,)
        Class labels.
    test_fraction : float
        Held-out share, in (0, 1).
    seed : int, default 0
        ``random_state`` of the split (the same seed gives the same split).
    field : str, default "test_fraction"
        The setting named in error messages.

    Returns
    -------
    train, test : numpy.ndarray of int64
        Sorted indices into ``y``; disjoint, together ``0 .. n-1``.

    Raises
    ------
    NichelabError
        ``test_fraction`` outside (0, 1) (names ``field``); a class with fewer than 2 samples; a
        held-out or training share smaller than the number of classes.

    Examples
    --------
    >>> train, test = stratified_indices([0, 0, 0, 0, 1, 1, 1, 1], 0.5, seed=0)
    >>> sorted(np.asarray([0, 0, 0, 0, 1, 1, 1, 1])[test].tolist())
    [0, 0, 1, 1]
    """
    try:
        f = float(test_fraction)
    except (TypeError, ValueError):
        f = float("nan")
    if not (np.isfinite(f) and 0.0 < f < 1.0):
        raise NichelabError.for_field(field, "must be a number in (0, 1)", test_fraction)
    y = np.asarray(y)
    classes, counts = np.unique(y, return_counts=True)
    if len(y) and counts.min() < 2:
        c = classes[np.argmin(counts)]
        raise NichelabError(f"class {c!r} has {counts.min()} sample; every class needs at least 2 to split into "
                            "train and test")
    from sklearn.model_selection import train_test_split
    try:
        train, test = train_test_split(np.arange(len(y)), test_size=f, stratify=y, random_state=int(seed))
    except ValueError as exc:
        raise NichelabError.for_field(field, f"leaves too few samples on one side for {len(classes)} classes "
                                      f"({len(y)} samples: {exc})", test_fraction) from None
    return np.sort(train).astype(np.int64), np.sort(test).astype(np.int64)


def stratified_split(ds: Dataset, test_fraction: float, seed: int = 0) -> tuple[Dataset, Dataset]:
    """``ds`` split by :func:`stratified_indices` into (train, test) datasets (same name, meta sliced).

    Raises
    ------
    NichelabError
        As :func:`stratified_indices`.
    """
    train, test = stratified_indices(ds.y, test_fraction, seed)
    return ds.subset(train), ds.subset(test)
