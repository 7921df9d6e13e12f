"""Linear probes: how linearly decodable the classes are from one frozen layer (Alain & Bengio 2016)."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import NichelabError, check_positive_int
from ._checks import as_acts, as_labels, column_exponents
from ._validate import check_number, check_seed

__all__ = ["ProbeResult", "linear_probe"]


@dataclass(frozen=True)
class ProbeResult:
    """Accuracy of a linear probe on one layer.

    Attributes
    ----------
    train_acc, test_acc : float
        Accuracy on the training and held-out splits, in [0, 1].
    chance : float
        Held-out accuracy of always predicting the most frequent training class.
    n_train, n_test : int
    converged : bool
        False when the solver stopped at ``max_iter`` (a ConvergenceWarning was raised).
    """

    train_acc: float
    test_acc: float
    chance: float
    n_train: int
    n_test: int
    converged: bool


def _narrow_finite(acts) -> bool:
    """True for a 2-D float32 / float16 ndarray with at least one row and column and only finite values
    (checked in row blocks: no (n, units) copy). The probe then converts its halves to float64 one at a time."""
    if not (isinstance(acts, np.ndarray) and acts.dtype in (np.float32, np.float16) and acts.ndim == 2
            and acts.shape[0] > 0 and acts.shape[1] > 0):
        return False
    from ..data._memory import count_nonfinite
    return count_nonfinite(acts) == 0


def _scaled64(a: np.ndarray, rows: np.ndarray, e: np.ndarray, block: int = 4096) -> np.ndarray:
    """``np.ldexp(a[rows].astype(float64), -e)``, filled in row blocks (no float32 copy of the rows, no second
    float64 array): the same numbers, as the conversion and the power-of-two scaling are exact."""
    out = np.empty((len(rows), a.shape[1]), dtype=np.float64)
    for start in range(0, len(rows), block):
        part = out[start:start + block]
        part[...] = a[rows[start:start + block]]
        np.ldexp(part, -e, out=part)
    return out


def _test_count(test_size, n: int) -> int:
    if isinstance(test_size, (float, np.floating)) and not isinstance(test_size, bool):
        if not 0 < test_size < 1:   # NaN fails this too
            raise NichelabError(f"test_size must be a fraction in (0, 1) or a count; got {test_size!r}")
        return int(np.ceil(test_size * n))
    return check_positive_int("test_size", test_size)


def linear_probe(acts, y, *, test_size: float = 0.3, seed: int = 0, max_iter: int = 1000,
                 C: float = 1.0) -> ProbeResult:
    """Train a multinomial logistic-regression probe on a layer's activations.

    Features are standardised (``StandardScaler``; constant features are left at 0) and a
    ``LogisticRegression`` (L2, lbfgs) is fitted on a split stratified by class when every
    class has at least 2 samples and the test split can hold one of each, random otherwise.

    Parameters
    ----------
    acts : array of shape (n_samples, n_units)
    y : int array of shape (n_samples,)
    test_size : float in (0, 1) or int, default 0.3
        Held-out fraction or count.
    seed : int, default 0
        ``random_state`` of the split; an integer >= 0 (None is refused: results must be
        reproducible).
    max_iter : int, default 1000
    C : float, default 1.0
        Inverse L2 regularisation strength, finite and > 0.

    Returns
    -------
    ProbeResult

    Raises
    ------
    NichelabError
        Bad ``acts`` / ``y``; fewer than 2 classes; too few samples to train (>= 2) and test
        (>= 1); a training split with a single class; ``C``, ``seed``, ``max_iter`` or
        ``test_size`` not valid numbers.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 50)
    >>> res = linear_probe(y[:, None] + 0.1 * rng.standard_normal((100, 1)), y)
    >>> res.test_acc
    1.0

    References
    ----------
    Alain & Bengio 2016, "Understanding intermediate layers using linear classifier probes",
    arXiv:1610.01644.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    narrow = _narrow_finite(acts)       # float32/float16 (n, units), finite: no float64 copy of the whole
    copied = isinstance(acts, np.ndarray) and acts.dtype != np.float64    # as_acts must copy: ours to change
    a = acts if narrow else as_acts(acts)
    y = as_labels(y, a)
    max_iter = check_positive_int("max_iter", max_iter)
    seed = check_seed("seed", seed)
    C = check_number("C", C, lo=0.0, lo_open=True)
    # exact power-of-two scaling per unit before StandardScaler squares anything: the probe is
    # invariant to each unit's scale, so activations of 1e-300 or 1e200 give the same result
    # (in place on as_acts's own float64 copy; the caller's float64 array is never changed). The
    # exponents of a float32 array equal those of its float64 copy (max and min are exact in both).
    e = column_exponents(a)
    if not narrow:
        a = np.ldexp(a, -e, out=a) if copied else np.ldexp(a, -e)
    n = a.shape[0]
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise NichelabError(f"y must contain at least 2 classes for a probe; got {len(classes)}")
    n_test = _test_count(test_size, n)
    if n - n_test < 2 or n_test < 1:
        raise NichelabError(
            f"too few samples for a probe: {n} samples with test_size={test_size!r} leaves "
            f"{n - n_test} to train and {n_test} to test (need >= 2 and >= 1)"
        )
    stratify = y if counts.min() >= 2 and len(classes) <= min(n_test, n - n_test) else None
    # the split of the row indices is the split of the rows (train_test_split draws indices from n and
    # stratify only): each half is gathered once and the float64 (n, units) array freed before fitting
    tr, te = train_test_split(np.arange(n), test_size=n_test, random_state=seed, stratify=stratify)
    y_tr, y_te = y[tr], y[te]
    if narrow:
        # each half made float64 and scaled only when needed (the same numbers as halves of the scaled float64
        # copy: the conversion and the power-of-two scaling are exact), the held-out half after the fit
        x_tr = _scaled64(a, tr, e)
        x_te = None
    else:
        x_tr, x_te = a[tr], a[te]
        del a
    if len(np.unique(y_tr)) < 2:
        raise NichelabError(
            f"the probe's training split holds a single class ({n} samples, {len(classes)} "
            "classes); give more samples per class"
        )
    # StandardScaler then logistic regression, as make_pipeline(StandardScaler(), LogisticRegression()) does,
    # standardising each half in place (the same operations on the same numbers, without the pipeline's copies)
    scaler = StandardScaler(copy=False)
    clf = LogisticRegression(C=C, max_iter=max_iter)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        x_tr = scaler.fit_transform(x_tr)
        clf.fit(x_tr, y_tr)
    converged = True
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            converged = False
        else:
            warnings.warn(w.message, w.category, stacklevel=2)
    train_classes, train_counts = np.unique(y_tr, return_counts=True)
    majority = train_classes[np.argmax(train_counts)]
    train_acc = float(clf.score(x_tr, y_tr))
    del x_tr
    if x_te is None:
        x_te = _scaled64(a, te, e)
    x_te = scaler.transform(x_te)
    return ProbeResult(
        train_acc=train_acc,
        test_acc=float(clf.score(x_te, y_te)),
        chance=float(np.mean(y_te == majority)),
        n_train=len(y_tr),
        n_test=len(y_te),
        converged=converged,
    )
