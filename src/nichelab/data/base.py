"""The Dataset container every study and loader returns."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import NichelabError
from ._memory import count_nonfinite

__all__ = ["Dataset"]


@dataclass
class Dataset:
    """Inputs, integer labels and class names, with free-form metadata.

    Attributes
    ----------
    X : np.ndarray of shape (n_samples, n_features) or (n_samples, C, H, W), float32
        Inputs. Images are channels-first. For token data (``meta["inputs"] == "tokens"``) the
        int64 ``input_ids`` (n_samples, seq); the attention mask is ``meta["attention_mask"]``.
    y : np.ndarray of shape (n_samples,), int64
        Class labels in ``0 .. len(class_names) - 1``.
    class_names : list of str
        Name of each class.
    name : str
        Short dataset name used in reports (e.g. ``"blobs"``).
    meta : dict
        Anything else (generator parameters, part masks, image shape). Loaders of a user's
        files record ``label_mapping`` (original label -> class index).

    Raises
    ------
    NichelabError
        If ``X`` and ``y`` differ in length, ``y`` is not integer, labels fall outside the
        class range, or ``X`` holds NaN or infinite values.
    """

    X: np.ndarray
    y: np.ndarray
    class_names: list[str]
    name: str = "data"
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.X = np.asarray(self.X)
        y = np.asarray(self.y)
        if self.X.ndim < 2:
            raise NichelabError(f"X must have shape (n_samples, ...) with ndim >= 2; got {self.X.shape}")
        if y.ndim != 1 or len(y) != len(self.X):
            raise NichelabError(
                f"X and y must have the same number of samples; got X {self.X.shape} and y {y.shape}"
            )
        if y.size and not np.issubdtype(y.dtype, np.integer):
            if np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
                y = y.astype(np.int64)
            else:
                raise NichelabError(f"y must hold integer class labels; got dtype {y.dtype}")
        self.y = y.astype(np.int64)
        if self.meta.get("inputs") == "tokens":
            if self.X.dtype.kind not in "iu":
                raise NichelabError(f"token inputs X must be integer ids; got dtype {self.X.dtype}")
        elif not np.issubdtype(self.X.dtype, np.floating):
            self.X = self.X.astype(np.float32)
        bad = count_nonfinite(self.X)   # in blocks: no (n, ...) bool copy, mapped pages released
        if bad:
            raise NichelabError(f"X must be finite; got {bad} NaN or infinite values")
        if self.y.size and (self.y.min() < 0 or self.y.max() >= len(self.class_names)):
            raise NichelabError(
                f"y must lie in 0..{len(self.class_names) - 1} (one per class name); "
                f"got labels {self.y.min()}..{self.y.max()}"
            )

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input sample."""
        return tuple(self.X.shape[1:])

    def subset(self, idx: np.ndarray, name: str | None = None) -> "Dataset":
        """Return the samples at ``idx`` (indices or boolean mask) as a new Dataset.

        Per-sample arrays in ``meta`` (numpy arrays whose first axis has ``n_samples`` entries,
        e.g. part masks) are sliced the same way; everything else in ``meta`` is copied.
        """
        n = len(self.y)
        meta = {k: (v[idx] if isinstance(v, np.ndarray) and v.ndim and v.shape[0] == n else v)
                for k, v in self.meta.items()}
        return Dataset(self.X[idx], self.y[idx], list(self.class_names), name or self.name, meta)

    def __len__(self) -> int:
        return len(self.y)
