"""scikit-image's LFW subset: 100 face and 100 non-face patches of 25x25 pixels."""
from __future__ import annotations

import numpy as np

from .base import Dataset

__all__ = ["load_faces"]


def load_faces() -> Dataset:
    """Faces vs. non-faces from ``skimage.data.lfw_subset()``.

    The first 100 images are faces (class 1, ``"face"``), the last 100 are not (class 0).

    Returns
    -------
    Dataset
        ``X`` (200, 1, 25, 25) float32 in [0, 1]; ``y`` (200,) int64.
    """
    from skimage import data

    imgs = np.asarray(data.lfw_subset(), dtype=np.float32)
    if imgs.max() > 1.0:
        imgs = imgs / 255.0
    y = np.r_[np.ones(100, dtype=np.int64), np.zeros(len(imgs) - 100, dtype=np.int64)]
    return Dataset(imgs[:, None], y, ["non-face", "face"], "faces",
                   {"image_shape": (1, 25, 25), "source": "skimage.data.lfw_subset"})
