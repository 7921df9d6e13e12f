"""Network Dissection: which units' activation maps overlap which concept masks (Bau et al. 2017).

For every unit ``k`` of a conv layer:

1. a threshold ``T_k``: the top 0.5% quantile of the unit's activations over every sample and
   every spatial position of its (low-resolution) map;
2. its map upsampled bilinearly to the input size and thresholded: ``M_k(x) = S_k(x) >= T_k``;
3. for every concept ``c`` with masks ``L_c(x)``, the intersection over union summed over the
   data, ``IoU_{k,c} = sum_x |M_k(x) & L_c(x)| / sum_x |M_k(x) | L_c(x)|``;
4. the unit detects concept ``c`` when its best IoU exceeds 0.04.

Maps are (n_samples, n_units, h, w); masks are (n_samples, n_concepts, H, W) bool. Everything
is computed in float64, over chunks of samples, so the upsampled maps are never held whole.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import NichelabError, check_positive_int
from ._validate import check_finite, check_number, real_array

__all__ = ["DissectionResult", "TOP_QUANTILE", "IOU_THRESHOLD", "activation_thresholds",
           "upsample_bilinear", "unit_masks", "iou_scores", "dissect", "mask_iou"]

#: Quantile of a unit's activations used as its threshold (its top 0.5%).
TOP_QUANTILE = 0.995
#: A unit detects a concept when their summed IoU exceeds this (Bau et al. 2017).
IOU_THRESHOLD = 0.04

_CHUNK_ELEMENTS = 1 << 22   # upsampled map elements per chunk (32 MB in float64; < 2**24 for exact sums)


def _maps(maps, name: str = "maps") -> np.ndarray:
    a = real_array(maps, name)
    if a.ndim != 4:
        raise NichelabError(f"{name} must have shape (n_samples, n_units, height, width); got shape {a.shape}")
    if 0 in a.shape:
        raise NichelabError(f"{name} must not have an empty dimension; got shape {a.shape}")
    check_finite(a, name)
    return a


def _concepts(masks, n: int) -> np.ndarray:
    m = real_array(masks, "concept_masks")
    if m.ndim != 4:
        raise NichelabError(
            f"concept_masks must have shape (n_samples, n_concepts, height, width); got shape {m.shape}")
    if 0 in m.shape:
        raise NichelabError(
            f"concept_masks must have at least one sample, concept and pixel; got shape {m.shape}")
    if m.shape[0] != n:
        raise NichelabError(
            f"maps and concept_masks must have the same number of samples; got {n} and {m.shape[0]}")
    if m.dtype != bool:
        if not np.isin(m, (0, 1)).all():
            raise NichelabError("concept_masks must be boolean (or 0/1); got other values")
        m = m.astype(bool)
    return m


def _size(size) -> tuple[int, int]:
    if np.ndim(size) == 0:
        s = check_positive_int("size", size)
        return s, s
    if len(size) != 2:
        raise NichelabError(f"size must be an int or (height, width); got {size!r}")
    return check_positive_int("size[0]", size[0]), check_positive_int("size[1]", size[1])


def activation_thresholds(maps, quantile: float = TOP_QUANTILE) -> np.ndarray:
    """Per-unit activation quantile over every sample and position: the dissection threshold.

    Parameters
    ----------
    maps : array of shape (n_samples, n_units, h, w)
        Activation maps at the layer's own resolution.
    quantile : float in (0, 1), default 0.995
        ``0.995`` is the top 0.5% of Network Dissection.

    Returns
    -------
    numpy.ndarray of float64, shape (n_units,)
        The smallest activation that counts as "top": ``np.quantile`` (linear interpolation)
        of each unit's ``n_samples * h * w`` values. When that quantile equals the unit's
        minimum (the unit sits at its minimum on at least 99.5% of positions, e.g. a ReLU unit
        silent almost everywhere), the threshold is the next float above the minimum, so only
        values above the minimum count and a dead unit selects nothing.

    Raises
    ------
    NichelabError
        ``maps`` not 4-D, empty, not real or not finite; ``quantile`` outside (0, 1), NaN or
        not a number.

    Example
    -------
    >>> maps = np.arange(200.0).reshape(2, 1, 10, 10)
    >>> float(activation_thresholds(maps, 0.995)[0])
    198.005
    """
    a = _maps(maps)
    quantile = check_number("quantile", quantile, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    out = np.empty(a.shape[1])
    for k in range(a.shape[1]):
        values = a[:, k].astype(np.float64).ravel()
        out[k] = np.quantile(values, float(quantile))
        if out[k] <= values.min():
            out[k] = np.nextafter(values.min(), np.inf)
    return out


def _interp_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) bilinear weights with half-pixel centres (``align_corners=False``)."""
    src = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    src = np.clip(src, 0.0, n_in - 1)
    i0 = np.floor(src).astype(int)
    i1 = np.minimum(i0 + 1, n_in - 1)
    w1 = src - i0
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.arange(n_out), i0), 1.0 - w1)
    np.add.at(m, (np.arange(n_out), i1), w1)
    return m


def upsample_bilinear(maps, size) -> np.ndarray:
    """Resize activation maps bilinearly, as ``torch.nn.functional.interpolate(mode="bilinear")``.

    Half-pixel centres (``align_corners=False``): output pixel ``i`` samples the input at
    ``(i + 0.5) * h / H - 0.5``, clamped to the map, so the map's cells are centred on the
    input pixels they summarise.

    Parameters
    ----------
    maps : array of shape (n_samples, n_units, h, w)
    size : int or (int, int)
        Output ``(H, W)``.

    Returns
    -------
    numpy.ndarray of float64, shape (n_samples, n_units, H, W)

    Raises
    ------
    NichelabError
        ``maps`` not 4-D, empty or not finite; ``size`` not positive.

    Example
    -------
    >>> upsample_bilinear(np.array([[[[0.0, 1.0]]]]), (1, 4))[0, 0, 0]
    array([0.  , 0.25, 0.75, 1.  ])
    """
    a = _maps(maps)
    H, W = _size(size)
    Uh, Uw = _interp_matrix(a.shape[2], H), _interp_matrix(a.shape[3], W)
    return np.matmul(Uh, np.matmul(a.astype(np.float64), Uw.T))        # (n, k, H, W)


def _check_thresholds(thresholds, k: int) -> np.ndarray:
    t = real_array(thresholds, "thresholds")
    if t.shape != (k,):
        raise NichelabError(f"thresholds must have shape ({k},), one per unit; got shape {t.shape}")
    t = t.astype(np.float64)
    check_finite(t, "thresholds")
    return t


def unit_masks(maps, thresholds, size) -> np.ndarray:
    """The pixels where each unit's upsampled map exceeds its threshold.

    Parameters
    ----------
    maps : array of shape (n_samples, n_units, h, w)
    thresholds : array of shape (n_units,)
        E.g. from :func:`activation_thresholds`.
    size : int or (int, int)
        The input size ``(H, W)``.

    Returns
    -------
    numpy.ndarray of bool, shape (n_samples, n_units, H, W)
        ``upsample_bilinear(maps, size) >= thresholds`` (see :func:`activation_thresholds` for
        why a unit that is 0 everywhere has an empty mask).

    Raises
    ------
    NichelabError
        Bad ``maps``, ``size``, or ``thresholds`` not one finite number per unit.
    """
    a = _maps(maps)
    t = _check_thresholds(thresholds, a.shape[1])
    return upsample_bilinear(a, size) >= t[None, :, None, None]


def _bool_mask(m, name: str) -> np.ndarray:
    m = real_array(m, name)
    if m.dtype != bool:
        if not np.isin(m, (0, 1)).all():
            raise NichelabError(f"{name} must be a boolean (or 0/1) mask; got other values")
        m = m.astype(bool)
    return m


def mask_iou(a, b) -> float:
    """Intersection over union of two boolean masks of the same shape, summed over every entry.

    Parameters
    ----------
    a, b : bool arrays of the same shape

    Returns
    -------
    float
        ``|a & b| / |a | b|``; NaN when both are empty.

    Example
    -------
    >>> mask_iou([True, True, False, False], [False, True, True, False])
    0.3333333333333333
    """
    a, b = _bool_mask(a, "a"), _bool_mask(b, "b")
    if a.shape != b.shape:
        raise NichelabError(f"a and b must have the same shape; got {a.shape} and {b.shape}")
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else float("nan")


def iou_scores(maps, concept_masks, thresholds=None, *, quantile: float = TOP_QUANTILE) -> np.ndarray:
    """IoU of every unit's thresholded, upsampled map with every concept, summed over the data.

    Parameters
    ----------
    maps : array of shape (n_samples, n_units, h, w)
        Activation maps at the layer's resolution (upsampled here to the masks' size).
    concept_masks : bool array of shape (n_samples, n_concepts, H, W)
    thresholds : array of shape (n_units,), optional
        Default :func:`activation_thresholds` (``maps``, ``quantile``).
    quantile : float, default 0.995
        Used when ``thresholds`` is None.

    Returns
    -------
    numpy.ndarray of float64, shape (n_units, n_concepts)
        ``sum_x |M_k(x) & L_c(x)| / sum_x |M_k(x) | L_c(x)|`` in [0, 1]; NaN when both the
        unit's masks and the concept's masks are empty on every sample.

    Raises
    ------
    NichelabError
        Bad shapes (maps and masks must have the same number of samples), non-boolean
        masks, bad thresholds.

    References
    ----------
    Bau, Zhou, Khosla, Oliva & Torralba 2017, "Network Dissection: quantifying interpretability
    of deep visual representations", CVPR.
    """
    a = _maps(maps)
    m = _concepts(concept_masks, a.shape[0])
    n, K = a.shape[:2]
    H, W = m.shape[2:]
    t = activation_thresholds(a, quantile) if thresholds is None else _check_thresholds(thresholds, K)
    inter = np.zeros((K, m.shape[1]))
    unit_area = np.zeros(K)
    step = max(1, _CHUNK_ELEMENTS // (K * H * W))
    for lo in range(0, n, step):
        um = unit_masks(a[lo:lo + step], t, (H, W))
        um = um.transpose(1, 0, 2, 3).reshape(K, -1).astype(np.float32)        # (K, m * H * W)
        cm = m[lo:lo + step].transpose(1, 0, 2, 3).reshape(m.shape[1], -1).astype(np.float32)
        inter += um @ cm.T          # 0/1 products: exact in float32 up to 2**24 pixels per chunk
        unit_area += um.sum(axis=1, dtype=np.float64)
    concept_area = m.sum(axis=(0, 2, 3), dtype=np.float64)
    union = unit_area[:, None] + concept_area[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / union, np.nan)


@dataclass(frozen=True)
class DissectionResult:
    """Network Dissection of one layer.

    Attributes
    ----------
    thresholds : (n_units,) float64
        Each unit's activation threshold (its top-0.5% quantile).
    iou : (n_units, n_concepts) float64
        Summed IoU of each unit with each concept (NaN: both empty everywhere).
    best : (n_units,) int64
        Index of each unit's best concept; -1 when every IoU is NaN.
    best_iou : (n_units,) float64
        Its IoU (NaN when ``best`` is -1).
    detector : (n_units,) bool
        ``best_iou > iou_threshold``.
    iou_threshold : float
    concept_names : list of str
    """

    thresholds: np.ndarray
    iou: np.ndarray
    best: np.ndarray
    best_iou: np.ndarray
    detector: np.ndarray
    iou_threshold: float
    concept_names: list

    @property
    def detector_fraction(self) -> float:
        """Share of the layer's units that detect some concept."""
        return float(self.detector.mean()) if self.detector.size else float("nan")

    def best_names(self) -> list[str | None]:
        """Each unit's best concept name, None for units with no defined IoU."""
        return [self.concept_names[b] if b >= 0 else None for b in self.best]


def dissect(maps, concept_masks, *, concept_names=None, quantile: float = TOP_QUANTILE,
            iou_threshold: float = IOU_THRESHOLD) -> DissectionResult:
    """Network Dissection of a layer: threshold, upsample, IoU with each concept, best concept.

    Parameters
    ----------
    maps : array of shape (n_samples, n_units, h, w)
        Activation maps of one conv layer on the samples of ``concept_masks``.
    concept_masks : bool array of shape (n_samples, n_concepts, H, W)
        Ground-truth masks at input resolution.
    concept_names : list of str, optional
        Default ``["0", "1", ...]``.
    quantile : float, default 0.995
        Threshold quantile (top 0.5%).
    iou_threshold : float, default 0.04
        A unit detects its best concept when their IoU is greater than this.

    Returns
    -------
    DissectionResult

    Raises
    ------
    NichelabError
        As :func:`iou_scores`; ``concept_names`` not strings or of the wrong length;
        ``iou_threshold`` outside [0, 1] or NaN; ``quantile`` outside (0, 1) or NaN.

    Example
    -------
    >>> masks = np.zeros((4, 2, 8, 8), bool); masks[:, 1, 2:4, 2:4] = True
    >>> res = dissect(masks[:, 1:].astype(float), masks, concept_names=["a", "b"])
    >>> res.best_names(), bool(res.detector[0])
    (['b'], True)

    References
    ----------
    Bau, Zhou, Khosla, Oliva & Torralba 2017, "Network Dissection: quantifying interpretability
    of deep visual representations", CVPR.
    """
    a = _maps(maps)
    iou_threshold = check_number("iou_threshold", iou_threshold, lo=0.0, hi=1.0)
    n_concepts = _concepts(concept_masks, a.shape[0]).shape[1]
    if concept_names is None:
        names = [str(i) for i in range(n_concepts)]
    elif isinstance(concept_names, str) or not all(isinstance(c, str) for c in concept_names):
        raise NichelabError(f"concept_names must be a list of strings; got {concept_names!r}")
    else:
        names = list(concept_names)
    if len(names) != n_concepts:
        raise NichelabError(
            f"concept_names must name every concept ({n_concepts}); got {len(names)} names")
    t = activation_thresholds(a, quantile)
    iou = iou_scores(a, concept_masks, t)
    defined = ~np.isnan(iou).all(axis=1)
    best = np.where(defined, np.nanargmax(np.where(np.isnan(iou), -np.inf, iou), axis=1), -1)
    best_iou = np.where(defined, iou[np.arange(len(best)), np.maximum(best, 0)], np.nan)
    with np.errstate(invalid="ignore"):
        detector = np.nan_to_num(best_iou, nan=-1.0) > iou_threshold
    return DissectionResult(t, iou, best.astype(np.int64), best_iou, detector, float(iou_threshold), names)
