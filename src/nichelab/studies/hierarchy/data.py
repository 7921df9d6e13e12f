"""The hierarchy study's data: the chosen dataset split in two, and the orientation stimuli."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...data.base import Dataset
from ...data.digits import load_digits
from ...data.faces import load_faces
from ...data.parts import gratings, load_parts, oriented_bars
from ...data.split import stratified_split
from .config import STIMULI

__all__ = ["StudyData", "load_study_data", "grating_stimuli", "bar_stimuli", "tuning_stimuli", "STIMULI",
           "concepts", "Concepts", "FACE", "SCRAMBLED", "EDGE_ANGLES"]

FACE, SCRAMBLED = "face", "scrambled face"
#: Orientation bins of the edge concepts, in degrees (each +-22.5 degrees).
EDGE_ANGLES = (0, 45, 90, 135)


@dataclass
class StudyData:
    """Training and held-out data, and what is known about them.

    Attributes
    ----------
    train, test : Dataset
        Stratified split; every measure is taken on ``test``.
    has_masks : bool
        ``test.meta["part_masks"]`` exists (the parts images).
    object_class : int or None
        Index of the class "face" when the dataset has one (the object of the AUPRC
        measures); None otherwise (each unit is scored for its preferred class).
    scrambled_class : int or None
        Index of "scrambled face" (parts only).
    concepts : Concepts or None
        Edge, part and object masks of the held-out images (parts only).
    """

    train: Dataset
    test: Dataset
    has_masks: bool
    object_class: int | None
    scrambled_class: int | None
    concepts: "Concepts | None" = None

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.train.X.shape[1:])

    @property
    def object_name(self) -> str | None:
        return None if self.object_class is None else self.train.class_names[self.object_class]


def load_study_data(dataset: str, *, per_class: int = 300, size: int = 32, noise: float = 0.05,
                    test_fraction: float = 0.3, seed: int = 0) -> StudyData:
    """Load ``dataset`` ("parts", "faces" or "digits") and split it (:func:`nichelab.data.split.stratified_split`)."""
    if dataset == "parts":
        d = load_parts(per_class, size, seed, noise)
    elif dataset == "faces":
        d = load_faces()
    else:
        d = load_digits(images=True)
    train, test = stratified_split(d, test_fraction, seed)
    names = d.class_names
    has_masks = "part_masks" in d.meta
    return StudyData(train, test, has_masks, names.index(FACE) if FACE in names else None,
                     names.index(SCRAMBLED) if SCRAMBLED in names else None,
                     concepts(test) if has_masks else None)


def _upsampling(image_shape) -> tuple[int, int, int, int]:
    """(channels, side, factor m, drawn side): images under 16 px are drawn m times larger."""
    c, h, w = image_shape
    side = min(h, w)
    m = int(np.ceil(16 / side)) if side < 16 else 1
    return c, side, m, side * m


def _fit(imgs: np.ndarray, image_shape, side: int, m: int) -> np.ndarray:
    """Average m x m blocks, pad to the input's (H, W) and repeat over its channels."""
    c, h, w = image_shape
    if m > 1:
        imgs = imgs.reshape(len(imgs), 1, side, m, side, m).mean(axis=(3, 5))
    if (h, w) != (side, side):
        pad = np.zeros((len(imgs), 1, h, w), np.float32)
        pad[:, :, :side, :side] = imgs
        imgs = pad
    return np.repeat(imgs, c, axis=1).astype(np.float32)


def bar_stimuli(image_shape, n_angles: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Bright bars on black crossing the image at ``n_angles`` orientations and 5 offsets.

    Bars are 1.5 px wide (the parts images' strokes are 1.2-1.9 px at 32 px), or 1.5 / 32 of the
    image side if that is wider; images under 16 px are drawn larger and block-averaged.

    Returns
    -------
    images : (n_angles * 5, C, H, W) float32 in [0, 1]
    angles : (n_angles * 5,) float64, radians (0 horizontal, pi/2 vertical)
    """
    _, side, m, drawn = _upsampling(image_shape)
    imgs, angles = oriented_bars(drawn, n_angles, width=max(1.5, 1.5 * side / 32) * m)
    return _fit(imgs, image_shape, side, m), angles


def tuning_stimuli(kind: str, image_shape, n_angles: int = 12):
    """``(images, angles, conditions or None)`` of :func:`bar_stimuli` or :func:`grating_stimuli`."""
    if kind == "bars":
        imgs, angles = bar_stimuli(image_shape, n_angles)
        return imgs, angles, None
    return grating_stimuli(image_shape, n_angles)


def grating_stimuli(image_shape, n_angles: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sinusoidal gratings at ``n_angles`` orientations, 3 frequencies and 4 phases, at the input size.

    Images smaller than 16 pixels (the digits' 8x8) are drawn at ``m`` times the size and
    averaged over ``m x m`` blocks, with the two lower frequencies only (the highest would
    alias at 8 pixels).

    Returns
    -------
    images : (n, C, H, W) float32 in [0, 1] (the single channel repeated C times)
    angles : (n,) float64, radians (0 horizontal stripes, pi/2 vertical)
    frequency : (n,) float64, cycles per input pixel
    """
    _, side, m, drawn = _upsampling(image_shape)
    freqs = (1 / 16, 1 / 8, 1 / 4) if m == 1 else (1 / 16, 1 / 8)
    imgs, angles = gratings(drawn, n_angles, frequencies=freqs)
    n_phase = 4
    freq = np.tile(np.repeat(np.asarray(freqs) * m, n_phase), n_angles)
    return _fit(imgs, image_shape, side, m), angles, freq


@dataclass
class Concepts:
    """Concept masks at three levels for Network Dissection of the parts images.

    Attributes
    ----------
    masks : (n, n_concepts, H, W) bool
    names : list of str
        ``"edge 0°" .. "edge 135°"``, the part names, then the class names (objects).
    level : list of str
        ``"edge"``, ``"part"`` or ``"object"`` for each concept.
    """

    masks: np.ndarray
    names: list
    level: list

    def indices(self, level: str) -> np.ndarray:
        return np.array([i for i, l in enumerate(self.level) if l == level], dtype=np.int64)


def concepts(d: Dataset) -> Concepts:
    """Edges, parts and objects of the parts images, as masks.

    - edge: stroke pixels by the nearest of 0, 45, 90 and 135 degrees to their stroke's
      orientation (from ``meta["orientation"]``);
    - part: ``meta["part_masks"]``;
    - object: on each image, the union of its part masks, as a concept of its class (a face's
      strokes are the concept "face" and are empty on the other images).
    """
    meta = d.meta
    theta = np.degrees(meta["orientation"])
    on = np.isfinite(theta)
    step = 180.0 / len(EDGE_ANGLES)
    nearest = np.round(np.where(on, theta, 0.0) / step).astype(np.int64) % len(EDGE_ANGLES)
    edges = [on & (nearest == b) for b in range(len(EDGE_ANGLES))]
    parts = meta["part_masks"]
    ink = parts.any(axis=1)
    objects = [ink & (d.y == c)[:, None, None] for c in range(d.n_classes)]
    masks = np.concatenate([np.stack(edges, 1), parts, np.stack(objects, 1)], axis=1)
    names = [f"edge {a}°" for a in EDGE_ANGLES] + list(meta["part_names"]) + list(d.class_names)
    level = ["edge"] * len(EDGE_ANGLES) + ["part"] * parts.shape[1] + ["object"] * d.n_classes
    return Concepts(masks, names, level)
