"""Sanity checks of a model against its data: input channels, and accuracy within noise of chance."""
from __future__ import annotations

import numpy as np
from torch import nn
from torch.nn.modules.conv import _ConvNd

from ..errors import NichelabError

__all__ = ["first_layer_channels", "check_input_channels", "chance_check"]


def first_layer_channels(model: nn.Module) -> tuple[str, int] | None:
    """``(layer name, input channels)`` of the model's first convolution, or None.

    Reads a Keras adapter's channels-last input shape, a Conv layer's ``in_channels``, or the weight
    of a scripted Conv inside a TorchScript leaf. None when the first weight layer is not a
    convolution (an MLP) or the model gives no clue.
    """
    keras_shape = getattr(model, "keras_input_shape", None)
    if keras_shape is not None and len(keras_shape) == 3:
        return next(iter(model._modules), "input"), int(keras_shape[2])
    for name, m in model.named_modules():
        inner = getattr(m, "inner", None)
        if inner is not None and getattr(inner, "original_name", "").startswith("Conv"):
            return name, int(inner.weight.shape[1])
        if isinstance(m, _ConvNd):
            return name, int(m.in_channels)
        if isinstance(m, nn.Linear):
            return None
    return None


def check_input_channels(model: nn.Module, sample_shape, *, data_name: str = "the data") -> None:
    """Raise one clear error when image data's channels differ from the model's first convolution.

    Parameters
    ----------
    model : torch.nn.Module
    sample_shape : tuple of int
        One sample's shape, channels first: (C, H, W).
    data_name : str
        How the data is named in the message (e.g. ``"--dataset 'flowers/'"``).

    Raises
    ------
    NichelabError
        ``"--dataset 'flowers/' gives images with 1 channel (1, 29, 29), but the model's first
        layer 'conv1' (Conv2d) expects 3 channels; ..."`` with the option that fixes it.
    """
    shape = tuple(int(s) for s in sample_shape)
    found = first_layer_channels(model)
    if found is None or len(shape) != 3:
        return
    name, want = found
    got = shape[0]
    if got == want:
        return
    fix = "--channels 3 (or load_image_folder(channels=3))" if want == 3 else f"--channels {want}"
    raise NichelabError(
        f"{data_name} gives images with {got} channel{'s' if got != 1 else ''} {shape}, but the model's first layer "
        f"{name!r} expects {want} channel{'s' if want != 1 else ''}; use {fix} if the model was trained that way"
    )


def chance_check(accuracy: float, n: int, class_counts, *, alpha: float = 0.01) -> str | None:
    """A warning when a classifier's accuracy is within noise of chance (the majority-class rate).

    One-sided exact binomial test: with ``n`` samples, is ``accuracy`` significantly above the
    rate ``p0`` of always answering the most frequent class? If not (p-value >= ``alpha``), the
    model has learned nothing measurable on these data and its units' "selectivity" is noise.

    Parameters
    ----------
    accuracy : float
        In [0, 1].
    n : int
        Samples the accuracy was measured on.
    class_counts : array-like of int, shape (n_classes,)
        Samples per class (``np.bincount(y)``).
    alpha : float, default 0.01

    Returns
    -------
    str or None
        The warning for the top of the report, or None when the accuracy is clearly above chance.

    Raises
    ------
    NichelabError
        accuracy outside [0, 1], n < 1, or class counts that are empty or do not sum to ``n``.

    Example
    -------
    >>> chance_check(0.27, 400, [100, 100, 100, 100]) is not None
    True
    >>> chance_check(0.95, 400, [100, 100, 100, 100]) is None
    True

    References
    ----------
    Clopper & Pearson 1934, "The use of confidence or fiducial limits illustrated in the case of
    the binomial", Biometrika (exact binomial test).
    """
    from scipy.stats import binomtest
    counts = np.asarray(class_counts, dtype=np.int64).ravel()
    if not 0.0 <= float(accuracy) <= 1.0:
        raise NichelabError(f"accuracy must be in [0, 1]; got {accuracy!r}")
    if int(n) < 1 or counts.size == 0 or counts.sum() != int(n):
        raise NichelabError(f"class_counts must be per-class counts summing to n={n}; got {counts.tolist()}")
    p0 = float(counts.max() / counts.sum())
    hits = int(round(float(accuracy) * int(n)))
    if p0 >= 1.0:
        return None
    p = binomtest(hits, int(n), p0, alternative="greater").pvalue
    if p < alpha:
        return None
    return (f"The model's accuracy on these data ({accuracy:.1%} of {n} samples) is within noise of chance "
            f"(always answering the most frequent class gives {p0:.1%}; binomial test p = {p:.2g}): it has not "
            "learned these classes, so what its units 'select' is not meaningful. Check that the data, labels "
            "and preprocessing match what the model was trained on.")
