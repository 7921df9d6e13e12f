"""Procedural images of objects built from parts, with part masks and edge orientations.

Every object is drawn from a shared vocabulary of parts, and every part is made of strokes
(line segments; circles, ellipses and arcs are drawn as short polylines). Strokes are
rasterised with numpy: a pixel's ink is ``clip(width / 2 + 0.5 - d, 0, 1)``, ``d`` the
distance from the pixel centre to the stroke's centre line, so strokes are anti-aliased and
``width`` pixels thick. The ground truth comes from the same geometry:

- part mask: the pixels the part's strokes ink to at least 0.5 (``d <= width / 2``);
- orientation: the direction of the nearest stroke, in radians in ``[0, pi)``, measured
  counter-clockwise from the image's horizontal axis as displayed (row 0 at the top), so a
  horizontal stroke is 0, ``/`` is pi/4 and a vertical stroke is pi/2; NaN where no mask is on.

Classes (``CLASS_NAMES``) and their parts (``CLASS_PARTS``):

- ``face``: outline (ellipse), two eyes (small rings), nose (short vertical stroke with a foot),
  mouth (smiling arc); eyes above the nose, nose above the mouth, all centred.
- ``scrambled face``: the same parts and shapes, placed at random on a 3 x 3 grid inside the
  outline (the mouth on a row of its own), always breaking the face layout: some eye is not above
  the nose or the mouth, or the nose is not above the mouth (parts on one row count as not above).
- ``house``: wall (rectangle), roof (two slanted strokes), door (open-bottomed rectangle on one side),
  window (small square on the other side).
- ``cart``: body (rectangle), two wheels (rings), handle (slanted stroke with a grip).
- ``car``: body (long rectangle), cabin (trapezoid on the body), window (in the cabin), two wheels.

Parts shared between classes (``window``: house and car; ``body`` and ``wheel``: cart and car) let a
part detector be told apart from a class detector.

Coordinates: pixel ``(row i, column j)`` has its centre at ``(x, y) = (j + 0.5, i + 0.5)``; the
canvas spans ``[0, size]`` on both axes, ``y`` pointing down.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import NichelabError, check_positive_int, suggest
from .base import Dataset

__all__ = [
    "CLASS_NAMES",
    "PART_NAMES",
    "CLASS_PARTS",
    "PartsImages",
    "generate_parts",
    "load_parts",
    "rasterize",
    "oriented_bars",
    "gratings",
]

CLASS_NAMES = ["face", "scrambled face", "house", "cart", "car"]
PART_NAMES = ["outline", "eye", "nose", "mouth", "wall", "roof", "door", "window",
              "body", "wheel", "handle", "cabin"]
CLASS_PARTS = {
    "face": ("outline", "eye", "nose", "mouth"),
    "scrambled face": ("outline", "eye", "nose", "mouth"),
    "house": ("wall", "roof", "door", "window"),
    "cart": ("body", "wheel", "handle"),
    "car": ("body", "cabin", "window", "wheel"),
}
_P = {name: k for k, name in enumerate(PART_NAMES)}

# Canonical geometry in object units (y down); jitters are half-ranges at jitter=1.
_EYE_R = 0.12                 # eye ring radius
_WHEEL_R = 0.19               # wheel ring radius
_WINDOW = 0.28                # window side
_MOUTH_R, _MOUTH_T = 0.30, (np.deg2rad(35.0), np.deg2rad(145.0))   # mouth arc radius and angles
_NOSE = ((0.0, -0.11), (0.0, 0.11), (0.07, 0.11))                  # nose polyline around its centre
_OUTLINE = (0.84, 1.0)        # face outline half-axes
_ROW = 0.46                   # scrambled faces: rows at y = -_ROW, 0, _ROW
_FILL = (0.72, 0.92)          # the object's larger side spans this fraction of the canvas
_WIDTH = (1.2, 1.9)           # stroke width in pixels at size 32 (scaled with size, >= 1 px)


@dataclass
class PartsImages:
    """Images of objects built from parts, with their ground truth.

    Attributes
    ----------
    images : np.ndarray of shape (n, 1, size, size), float32
        Grayscale images in [0, 1]: white strokes on black, plus Gaussian pixel noise, clipped.
    labels : np.ndarray of shape (n,), int64
        Index into ``class_names``.
    class_names : list of str
        Name of each class.
    part_names : list of str
        Name of each part (the columns of ``part_present`` and ``part_masks``).
    part_present : np.ndarray of shape (n, n_parts), bool
        Which parts each image contains.
    part_masks : np.ndarray of shape (n, n_parts, size, size), bool
        Pixels each part's strokes ink to at least 0.5 before noise; parts drawn twice
        (eyes, wheels) share one mask.
    orientation : np.ndarray of shape (n, size, size), float32
        Direction of the nearest stroke in radians in [0, pi) (0 horizontal, pi/2 vertical,
        counter-clockwise as displayed); NaN where no part mask is on.
    seed : int
        The seed the images were generated from.
    noise : float
        Standard deviation of the pixel noise.
    jitter : float
        Jitter strength (0 = canonical objects).
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    part_names: list[str]
    part_present: np.ndarray
    part_masks: np.ndarray
    orientation: np.ndarray
    seed: int
    noise: float
    jitter: float

    def __len__(self) -> int:
        return len(self.labels)


# --------------------------------------------------------------------------- rasteriser

def _segment_distance2(segments: np.ndarray, size: int) -> np.ndarray:
    """Squared distance from every pixel centre to every segment: (m, S, 2, 2) -> (m, S, size, size).

    Uses ``|p - a|^2 + t (t |v|^2 - 2 q)`` with ``q = (p - a) . v`` and ``t = clip(q / |v|^2, 0, 1)``,
    building the per-axis terms on (m, S, 1, W) and (m, S, H, 1) and broadcasting once.
    """
    c = np.arange(size, dtype=np.float32) + 0.5
    a = segments[:, :, 0, :]
    v = segments[:, :, 1, :] - a
    ax, ay, vx, vy = (t[:, :, None, None] for t in (a[..., 0], a[..., 1], v[..., 0], v[..., 1]))
    length2 = vx * vx + vy * vy
    dx, dy = c[None, None, None, :] - ax, c[None, None, :, None] - ay
    q = dx * vx + dy * vy
    t = q * (1.0 / np.maximum(length2, 1e-12))
    np.clip(t, 0.0, 1.0, out=t)
    q *= -2.0
    q += t * length2
    q *= t
    q += dx * dx + dy * dy
    return np.maximum(q, 0.0, out=q)


def _segment_angle(segments: np.ndarray) -> np.ndarray:
    """Direction of each segment in [0, pi), counter-clockwise as displayed (y down)."""
    v = segments[..., 1, :] - segments[..., 0, :]
    return np.mod(np.arctan2(-v[..., 1], v[..., 0]), np.pi)


def rasterize(segments: np.ndarray, width, size: int, segment_parts=None, n_parts: int | None = None,
              chunk_elements: int = 500_000):
    """Draw anti-aliased thick line segments; return the image, part masks and orientations.

    Parameters
    ----------
    segments : array of shape (n, S, 2, 2), float
        Segment ``s`` of image ``i`` runs from ``segments[i, s, 0]`` to ``segments[i, s, 1]``,
        each an ``(x, y)`` point in pixels (pixel ``(row, col)`` has centre ``(col + .5, row + .5)``).
        A segment whose two ends coincide draws a dot.
    width : float or array of shape (n,)
        Stroke width in pixels, > 0.
    size : int
        Image side in pixels.
    segment_parts : array of shape (S,), int, optional
        Part index of each segment (default: all segments are part 0).
    n_parts : int, optional
        Number of parts (default ``max(segment_parts) + 1``).
    chunk_elements : int, default 500_000
        Work in chunks of about this many (image, segment, pixel) distances.

    Returns
    -------
    image : np.ndarray of shape (n, size, size), float32
        Ink in [0, 1]: the largest ``clip(width / 2 + 0.5 - d, 0, 1)`` over segments.
    masks : np.ndarray of shape (n, n_parts, size, size), bool
        Pixels the part's segments ink to at least 0.5 (within ``width / 2`` of one of them).
    orientation : np.ndarray of shape (n, size, size), float32
        Direction of the nearest segment in [0, pi) where any mask is on, NaN elsewhere.

    Raises
    ------
    NichelabError
        If ``segments`` is not (n, S, 2, 2) with S >= 1, ``width`` is not positive, or
        ``segment_parts`` does not hold one part index in ``0 .. n_parts - 1`` per segment.

    Examples
    --------
    >>> seg = np.array([[[[4.0, 8.5], [12.0, 8.5]]]])          # one horizontal stroke
    >>> image, masks, theta = rasterize(seg, 2.0, 16)
    >>> float(theta[0, 8, 8])
    0.0
    """
    segments = np.asarray(segments, dtype=np.float32)
    if segments.ndim != 4 or segments.shape[2:] != (2, 2):
        raise NichelabError(f"segments must have shape (n, S, 2, 2); got {segments.shape}")
    n, n_seg = segments.shape[:2]
    try:
        width = np.broadcast_to(np.asarray(width, dtype=np.float32), (n,))
    except ValueError:
        raise NichelabError(
            f"width must be a number or one per image ({n}); got shape {np.shape(width)}") from None
    if not np.all(width > 0):
        raise NichelabError(f"width must be > 0 (pixels); got {width.min()}")
    parts = np.zeros(n_seg, dtype=np.int64) if segment_parts is None else np.asarray(segment_parts)
    if parts.shape != (n_seg,) or n_seg == 0:
        raise NichelabError(
            f"segment_parts must have one entry per segment ({n_seg}, >= 1); got shape {parts.shape}")
    n_parts = int(parts.max()) + 1 if n_parts is None else n_parts
    if not np.issubdtype(parts.dtype, np.integer) or parts.min() < 0 or parts.max() >= n_parts:
        raise NichelabError(
            f"segment_parts must be integers in 0..{n_parts - 1}; got {np.unique(parts).tolist()}")
    size = check_positive_int("size", size)
    order = np.argsort(parts, kind="stable")               # each part's segments contiguous
    segments, parts = segments[:, order], parts[order]
    starts = np.flatnonzero(np.r_[True, parts[1:] != parts[:-1]])
    ends = np.r_[starts[1:], n_seg]
    angle = _segment_angle(segments).astype(np.float32)
    image = np.zeros((n, size, size), np.float32)
    masks = np.zeros((n, n_parts, size, size), bool)
    orientation = np.full((n, size, size), np.nan, np.float32)
    step = max(1, chunk_elements // (n_seg * size * size))
    for lo in range(0, n, step):
        sl = slice(lo, lo + step)
        d2 = _segment_distance2(segments[sl], size)                            # (m, S, H, W)
        ink = np.stack([d2[:, a:b].min(axis=1) for a, b in zip(starts, ends)], axis=1)
        ink = np.clip(width[sl, None, None, None] / 2 + 0.5 - np.sqrt(ink), 0.0, 1.0)  # per part
        masks[sl, parts[starts]] = ink >= 0.5
        image[sl] = ink.max(axis=1)
        theta = angle[np.arange(lo, lo + len(d2))[:, None, None], d2.argmin(axis=1)]
        orientation[sl] = np.where(image[sl] >= 0.5, theta, np.nan)
    return image, masks, orientation


# --------------------------------------------------------------------------- stroke shapes
# Every builder takes arrays of shape (n,) (or scalars) and returns segments (n, k, 2, 2)
# in object units.

def _chain(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Polyline through points (n, m) -> segments (n, m-1, 2, 2)."""
    pts = np.stack([x, y], axis=-1)
    return np.stack([pts[:, :-1], pts[:, 1:]], axis=2)


def _col(v, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(v, dtype=np.float64), (n,))[:, None]


def _ellipse(cx, cy, rx, ry, n: int, k: int, t0: float = 0.0, t1: float = 2 * np.pi) -> np.ndarray:
    t = np.linspace(t0, t1, k + 1)[None, :]
    return _chain(_col(cx, n) + _col(rx, n) * np.cos(t), _col(cy, n) + _col(ry, n) * np.sin(t))


def _polyline(points, cx, cy, n: int) -> np.ndarray:
    """A fixed polyline (m, 2) shifted to (cx, cy)."""
    p = np.asarray(points, dtype=np.float64)
    return _chain(_col(cx, n) + p[None, :, 0], _col(cy, n) + p[None, :, 1])


def _rect(x0, y0, x1, y1, n: int, closed: bool = True) -> np.ndarray:
    x0, y0, x1, y1 = (_col(v, n) for v in (x0, y0, x1, y1))
    if closed:
        return _chain(np.hstack([x0, x1, x1, x0, x0]), np.hstack([y0, y0, y1, y1, y0]))
    return _chain(np.hstack([x0, x0, x1, x1]), np.hstack([y1, y0, y0, y1]))   # open bottom


def _ring(cx, cy, r, n: int, k: int = 8) -> np.ndarray:
    return _ellipse(cx, cy, r, r, n, k)


def _mouth(cx, cy, n: int) -> np.ndarray:
    """Smiling arc whose bounding box is centred on (cx, cy)."""
    mid = _MOUTH_R * (np.sin(_MOUTH_T[0]) + 1.0) / 2
    return _ellipse(cx, _col(cy, n)[:, 0] - mid, _MOUTH_R, _MOUTH_R, n, 6, *_MOUTH_T)


def _nose(cx, cy, n: int) -> np.ndarray:
    return _polyline(_NOSE, cx, cy, n)


# --------------------------------------------------------------------------- objects

def _u(rng: np.random.Generator, n: int, half: float, jitter: float) -> np.ndarray:
    """Uniform jitter in [-half, half] * jitter, shape (n,)."""
    return rng.uniform(-half, half, n) * jitter


def _face_parts(centres: np.ndarray, outline: np.ndarray, n: int):
    """Face parts at ``centres`` (n, 4, 2) = eye, eye, nose, mouth; ``outline`` (n, 2) half-axes."""
    segs = [
        _ellipse(0.0, 0.0, outline[:, 0], outline[:, 1], n, 24),
        _ring(centres[:, 0, 0], centres[:, 0, 1], _EYE_R, n),
        _ring(centres[:, 1, 0], centres[:, 1, 1], _EYE_R, n),
        _nose(centres[:, 2, 0], centres[:, 2, 1], n),
        _mouth(centres[:, 3, 0], centres[:, 3, 1], n),
    ]
    names = ["outline", "eye", "eye", "nose", "mouth"]
    return segs, names


def _face(rng, n, jitter):
    outline = np.stack([_OUTLINE[0] + _u(rng, n, 0.04, jitter), _OUTLINE[1] + _u(rng, n, 0.04, jitter)], 1)
    centres = np.empty((n, 4, 2))
    spread = 0.33 + _u(rng, n, 0.04, jitter)
    eye_y = -0.40 + _u(rng, n, 0.03, jitter)
    centres[:, 0] = np.stack([-spread + _u(rng, n, 0.02, jitter), eye_y + _u(rng, n, 0.02, jitter)], 1)
    centres[:, 1] = np.stack([spread + _u(rng, n, 0.02, jitter), eye_y + _u(rng, n, 0.02, jitter)], 1)
    centres[:, 2] = np.stack([_u(rng, n, 0.04, jitter), 0.10 + _u(rng, n, 0.03, jitter)], 1)
    centres[:, 3] = np.stack([_u(rng, n, 0.04, jitter), 0.56 + _u(rng, n, 0.03, jitter)], 1)
    return _face_parts(centres, outline, n)


def _is_face_layout(c: np.ndarray) -> np.ndarray:
    """Face layout by part centres (..., 4, 2): both eyes above the nose and the nose above the mouth."""
    eye_y, nose_y, mouth_y = c[..., :2, 1], c[..., 2, 1], c[..., 3, 1]
    return (eye_y < nose_y[..., None]).all(-1) & (eye_y < mouth_y[..., None]).all(-1) & (nose_y < mouth_y)


def _scrambled_layouts() -> np.ndarray:
    """Every non-face placement of (eye, eye, nose, mouth) on the face's grid: (L, 4, 2).

    Three rows (y = -0.46, 0, 0.46). The mouth takes a row of its own (at x = 0); of the other
    two rows, one holds two parts at its ends (x = -0.29, 0.29 at the top and bottom, -0.4, 0.4 in
    the middle) and the other one part at its left, centre or right, so parts never sit in
    neighbouring slots. Layouts with both eyes above the nose and the nose above the mouth are
    left out.
    """
    rows = (-_ROW, 0.0, _ROW)
    cols = {-_ROW: (-0.29, 0.0, 0.29), 0.0: (-0.4, 0.0, 0.4), _ROW: (-0.29, 0.0, 0.29)}
    eye, nose = "eye", "nose"
    layouts = []
    for mouth_y in rows:
        for pair_y, single_y in itertools.permutations([y for y in rows if y != mouth_y]):
            for pair, single in (((eye, eye), nose), ((eye, nose), eye), ((nose, eye), eye)):
                for single_x in cols[single_y]:
                    placed = [(pair[0], (cols[pair_y][0], pair_y)), (pair[1], (cols[pair_y][2], pair_y)),
                              (single, (single_x, single_y))]
                    eyes = [xy for name, xy in placed if name == eye]
                    noses = [xy for name, xy in placed if name == nose]
                    layouts.append(eyes + noses + [(0.0, mouth_y)])
    layouts = np.array(layouts)
    return layouts[~_is_face_layout(layouts)]


def _scrambled_face(rng, n, jitter):
    """Face parts on a random non-face layout of the face's grid (x jittered per part, y per row)."""
    outline = np.stack([_OUTLINE[0] + _u(rng, n, 0.04, jitter), _OUTLINE[1] + _u(rng, n, 0.04, jitter)], 1)
    layouts = _scrambled_layouts()
    centres = layouts[rng.integers(len(layouts), size=n)]                       # (n, 4, 2)
    row_shift = _u(rng, 3 * n, 0.02, jitter).reshape(n, 3)
    row = np.rint(centres[..., 1] / _ROW).astype(int) + 1                       # row index 0..2
    centres[..., 0] += _u(rng, 4 * n, 0.03, jitter).reshape(n, 4)
    centres[..., 1] += np.take_along_axis(row_shift, row, axis=1)
    return _face_parts(centres, outline, n)


def _house(rng, n, jitter):
    w = 0.6 + _u(rng, n, 0.05, jitter)
    top, bottom = -0.02 + _u(rng, n, 0.04, jitter), 0.85
    side = np.where(rng.random(n) < 0.5, -1.0, 1.0)           # door on the left or the right
    door_x = side * (0.28 + _u(rng, n, 0.04, jitter))
    door_w, door_top = 0.14 + _u(rng, n, 0.02, jitter), 0.40 + _u(rng, n, 0.04, jitter)
    win_x, win_y = -side * (0.30 + _u(rng, n, 0.03, jitter)), 0.25 + _u(rng, n, 0.04, jitter)
    apex_x, apex_y = _u(rng, n, 0.06, jitter), -0.80 + _u(rng, n, 0.06, jitter)
    eave = w + 0.15 + _u(rng, n, 0.04, jitter)
    roof = _chain(np.stack([-eave, apex_x, eave], 1), np.stack([top, apex_y, top], 1))
    h = _WINDOW / 2
    segs = [
        _rect(-w, top, w, bottom, n),
        roof,
        _rect(door_x - door_w, door_top, door_x + door_w, bottom, n, closed=False),
        _rect(win_x - h, win_y - h, win_x + h, win_y + h, n),
    ]
    return segs, ["wall", "roof", "door", "window"]


def _cart(rng, n, jitter):
    x0, x1 = -0.75 + _u(rng, n, 0.05, jitter), 0.45 + _u(rng, n, 0.05, jitter)
    y0, y1 = -0.30 + _u(rng, n, 0.05, jitter), 0.22 + _u(rng, n, 0.03, jitter)
    wheel_y = y1 + _WHEEL_R + 0.02
    hx, hy = 0.95 + _u(rng, n, 0.05, jitter), -0.62 + _u(rng, n, 0.06, jitter)
    handle = _chain(np.stack([x1, hx, hx + 0.14], 1), np.stack([y0 + 0.12, hy, hy], 1))
    segs = [
        _rect(x0, y0, x1, y1, n),
        _ring(x0 + 0.24 + _u(rng, n, 0.02, jitter), wheel_y, _WHEEL_R, n, 12),
        _ring(x1 - 0.24 + _u(rng, n, 0.02, jitter), wheel_y, _WHEEL_R, n, 12),
        handle,
    ]
    return segs, ["body", "wheel", "wheel", "handle"]


def _car(rng, n, jitter):
    x0, x1 = -0.92 + _u(rng, n, 0.05, jitter), 0.92 + _u(rng, n, 0.05, jitter)
    y0, y1 = 0.0, 0.42 + _u(rng, n, 0.04, jitter)
    roof_y = -0.62 + _u(rng, n, 0.05, jitter)
    cab = np.stack([-0.60, -0.40, 0.40, 0.62], 0) + _u(rng, n, 0.04, jitter)[:, None]
    cabin = _chain(cab, np.stack([np.zeros(n), roof_y, roof_y, np.zeros(n)], 1))
    h = _WINDOW / 2
    wx, wy = cab[:, 1:3].mean(1) + _u(rng, n, 0.04, jitter), roof_y / 2
    segs = [
        _rect(x0, y0, x1, y1, n),
        cabin,
        _rect(wx - h, wy - h, wx + h, wy + h, n),
        _ring(x0 + 0.42 + _u(rng, n, 0.03, jitter), y1 + 0.08, _WHEEL_R, n, 12),
        _ring(x1 - 0.42 + _u(rng, n, 0.03, jitter), y1 + 0.08, _WHEEL_R, n, 12),
    ]
    return segs, ["body", "cabin", "window", "wheel", "wheel"]


_BUILDERS = {"face": _face, "scrambled face": _scrambled_face, "house": _house, "cart": _cart, "car": _car}


def _place(segs: np.ndarray, size: int, width: np.ndarray, rng, jitter: float) -> np.ndarray:
    """Scale and shift object-unit segments (n, S, 2, 2) into the canvas, in pixels."""
    n = len(segs)
    pts = segs.reshape(n, -1, 2)
    lo, hi = pts.min(1), pts.max(1)                                    # (n, 2)
    margin = 1.0 + width[:, None] / 2
    room = size - 2 * margin                                           # (n, 1)
    fill = np.mean(_FILL) + _u(rng, n, (_FILL[1] - _FILL[0]) / 2, jitter)
    scale = fill[:, None] * room / (hi - lo).max(1, keepdims=True)     # pixels per unit
    slack = (room - scale * (hi - lo)) / 2                             # (n, 2), >= 0
    centre = size / 2 + rng.uniform(-1.0, 1.0, (n, 2)) * slack * jitter
    out = centre[:, None] + scale[:, None] * (pts - (lo + hi)[:, None] / 2)
    return out.reshape(segs.shape)


# --------------------------------------------------------------------------- public API

def _check_size(size) -> int:
    return check_positive_int("size", size, minimum=16)


def _check_float(name: str, value, lo: float, hi: float = np.inf, *, strict: bool = False) -> float:
    """Return ``value`` as float if finite and in range (``> lo`` when ``strict``); else raise."""
    low = f"> {lo:g}" if strict else f">= {lo:g}"
    rule = low if hi == np.inf else f"in [{lo:g}, {hi:g}]"
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = np.nan
    if isinstance(value, bool) or not (np.isfinite(v) and lo <= v <= hi) or (strict and v == lo):
        raise NichelabError(f"{name} must be a finite number {rule}; got {value!r}")
    return v


def _check_classes(classes) -> list[str]:
    if classes is None:
        return list(CLASS_NAMES)
    if isinstance(classes, str):
        classes = [classes]
    classes = list(classes)
    for c in classes:
        if c not in CLASS_NAMES:
            raise NichelabError(
                f"classes must be names from {CLASS_NAMES}; got {c!r}{suggest(c, CLASS_NAMES)}")
    if not classes or len(set(classes)) != len(classes):
        raise NichelabError(f"classes must be a non-empty list of distinct class names; got {classes}")
    return classes


def generate_parts(n_per_class: int = 300, size: int = 32, seed: int = 0, noise: float = 0.05,
                   jitter: float = 1.0, classes: Sequence[str] | None = None) -> PartsImages:
    """Generate seeded grayscale images of objects built from parts, with their ground truth.

    Each class's geometry is drawn from its own random stream, so the objects of one class do
    not change with ``noise``, the other classes requested or their order; the pixel noise and
    the sample order have streams of their own.

    Parameters
    ----------
    n_per_class : int, default 300
        Images per class (>= 1).
    size : int, default 32
        Image side in pixels (>= 16). Stroke widths scale with ``size / 32``, at least 1 pixel.
    seed : int, default 0
        Seed; the same seed gives identical arrays.
    noise : float, default 0.05
        Standard deviation of the Gaussian pixel noise (>= 0); images are clipped to [0, 1].
        ``noise=0`` gives the clean drawings.
    jitter : float, default 1.0
        Strength of the jitter in [0, 1]: 1 draws position, scale (object fills 72-92% of the
        canvas), stroke width (1.2-1.9 px at size 32) and part placement from their full ranges;
        0 draws every object of a class the same way (scrambled faces still vary, and houses still
        put the door on either side).
    classes : sequence of str, optional
        Classes to draw, in this order (default ``CLASS_NAMES``: face, scrambled face, house,
        cart, car).

    Returns
    -------
    PartsImages
        ``images`` (n, 1, size, size) float32, ``labels`` (n,) int64, ``part_present``
        (n, n_parts) bool, ``part_masks`` (n, n_parts, size, size) bool, ``orientation``
        (n, size, size) float32, with ``n = n_per_class * len(classes)`` in shuffled order.
        ``part_names`` is always the full ``PART_NAMES``.

    Raises
    ------
    NichelabError
        If ``n_per_class`` < 1, ``size`` < 16, ``noise`` < 0, ``jitter`` outside [0, 1], or a class
        name is unknown.

    References
    ----------
    Bau, Zhou, Khosla, Oliva & Torralba (2017), Network Dissection (units scored against
    per-pixel concept masks). Lee, Grosse, Ranganath & Ng (2009), convolutional deep belief
    networks (edges, object parts, objects by depth).

    Examples
    --------
    >>> data = generate_parts(n_per_class=10, seed=1)
    >>> data.images.shape, data.class_names[:2]
    ((50, 1, 32, 32), ['face', 'scrambled face'])
    """
    n_per_class = check_positive_int("n_per_class", n_per_class)
    size = _check_size(size)
    seed = check_positive_int("seed", seed, minimum=0)
    noise = _check_float("noise", noise, 0.0)
    jitter = _check_float("jitter", jitter, 0.0, 1.0)
    classes = _check_classes(classes)

    streams = np.random.SeedSequence(seed).spawn(len(CLASS_NAMES) + 2)
    n = n_per_class * len(classes)
    images = np.empty((n, size, size), np.float32)
    masks = np.empty((n, len(PART_NAMES), size, size), bool)
    orientation = np.empty((n, size, size), np.float32)
    labels = np.repeat(np.arange(len(classes), dtype=np.int64), n_per_class)
    present = np.zeros((n, len(PART_NAMES)), bool)
    for label, name in enumerate(classes):
        rng = np.random.default_rng(streams[CLASS_NAMES.index(name)])
        width = np.mean(_WIDTH) + _u(rng, n_per_class, (_WIDTH[1] - _WIDTH[0]) / 2, jitter)
        width = np.maximum(1.0, width * size / 32)
        segs, names = _BUILDERS[name](rng, n_per_class, jitter)
        parts = np.concatenate([np.full(s.shape[1], _P[p]) for s, p in zip(segs, names)])
        pixels = _place(np.concatenate(segs, axis=1), size, width, rng, jitter)
        sl = slice(label * n_per_class, (label + 1) * n_per_class)
        images[sl], masks[sl], orientation[sl] = rasterize(pixels, width, size, parts, len(PART_NAMES))
        present[sl, [_P[p] for p in CLASS_PARTS[name]]] = True

    if noise > 0:
        images += noise * np.random.default_rng(streams[-2]).standard_normal(images.shape, np.float32)
        np.clip(images, 0.0, 1.0, out=images)
    order = np.random.default_rng(streams[-1]).permutation(n)
    return PartsImages(images[order, None], labels[order], list(classes), list(PART_NAMES),
                       present[order], masks[order], orientation[order], seed, noise, jitter)


def load_parts(n_per_class: int = 300, size: int = 32, seed: int = 0, noise: float = 0.05, *,
               jitter: float = 1.0, classes: Sequence[str] | None = None) -> Dataset:
    """The parts-and-objects images of :func:`generate_parts` as a :class:`Dataset`.

    Parameters
    ----------
    n_per_class, size, seed, noise, jitter, classes
        As in :func:`generate_parts`.

    Returns
    -------
    Dataset
        ``X`` (n, 1, size, size) float32 in [0, 1], ``y`` (n,) int64, ``name="parts"``, and
        ``meta`` with ``part_names`` (list of str), ``part_present`` (n, n_parts) bool,
        ``part_masks`` (n, n_parts, size, size) bool, ``orientation`` (n, size, size) float32
        (NaN off the strokes), ``image_shape`` (1, size, size), ``seed``, ``noise``, ``jitter``.

    Raises
    ------
    NichelabError
        As :func:`generate_parts`.
    """
    d = generate_parts(n_per_class, size, seed, noise, jitter, classes)
    meta = {"part_names": d.part_names, "part_present": d.part_present, "part_masks": d.part_masks,
            "orientation": d.orientation, "image_shape": (1, size, size), "seed": d.seed,
            "noise": d.noise, "jitter": d.jitter, "source": "nichelab.data.parts.generate_parts"}
    return Dataset(d.images, d.labels, d.class_names, "parts", meta)


def _angles(n_angles) -> np.ndarray:
    n_angles = check_positive_int("n_angles", n_angles)
    return np.arange(n_angles) * np.pi / n_angles


def oriented_bars(size: int = 32, n_angles: int = 12, width: float = 2.0,
                  offsets: Sequence[float] | None = None, length: float | None = None):
    """Bright bars on black at evenly spaced orientations and positions (orientation-tuning probe).

    Parameters
    ----------
    size : int, default 32
        Image side in pixels (>= 16).
    n_angles : int, default 12
        Orientations ``k * pi / n_angles``, k = 0 .. n_angles - 1 (0 horizontal, pi/2 vertical,
        counter-clockwise as displayed).
    width : float, default 2.0
        Bar width in pixels (> 0), anti-aliased like the parts' strokes.
    offsets : sequence of float, optional
        Shifts of the bar from the image centre, perpendicular to it, in pixels
        (default 5 shifts evenly spaced in ``[-size/4, size/4]``).
    length : float, optional
        Bar length in pixels (default: crosses the whole image).

    Returns
    -------
    images : np.ndarray of shape (n_angles * n_offsets, 1, size, size), float32
        In [0, 1], angle-major: image ``a * n_offsets + o`` has angle ``a`` and offset ``o``.
    angles : np.ndarray of shape (n_angles * n_offsets,), float64
        Orientation of each image's bar in radians, in [0, pi).

    Raises
    ------
    NichelabError
        If ``size`` < 16, ``n_angles`` < 1, ``width`` <= 0 or ``length`` <= 0.

    References
    ----------
    Hubel & Wiesel (1962), orientation tuning of simple cells to bars.
    """
    size = _check_size(size)
    base = _angles(n_angles)
    width = _check_float("width", width, 0.0, strict=True)
    offsets = np.linspace(-size / 4, size / 4, 5) if offsets is None else np.asarray(offsets, float).ravel()
    if offsets.size == 0 or not np.all(np.isfinite(offsets)):
        raise NichelabError(
            f"offsets must be a non-empty list of finite numbers (pixels); got {offsets.tolist()}")
    half = size if length is None else _check_float("length", length, 0.0, strict=True) / 2
    angles = np.repeat(base, len(offsets))
    shift = np.tile(offsets, len(base))
    d = np.stack([np.cos(angles), -np.sin(angles)], 1)            # bar direction, y down
    normal = np.stack([np.sin(angles), np.cos(angles)], 1)
    mid = size / 2 + shift[:, None] * normal
    segs = np.stack([mid - half * d, mid + half * d], 1)[:, None]  # (n, 1, 2, 2)
    image, _, _ = rasterize(segs, width, size)
    return image[:, None], angles


def gratings(size: int = 32, n_angles: int = 12, frequencies: Sequence[float] = (1 / 16, 1 / 8, 1 / 4),
             phases: Sequence[float] = (0.0, np.pi / 2, np.pi, 3 * np.pi / 2)):
    """Sinusoidal gratings at evenly spaced orientations (orientation-tuning probe).

    Image value ``0.5 + 0.5 * cos(2 pi f <p - c, n> + phase)``, ``p`` the pixel centre, ``c`` the
    image centre and ``n`` the unit normal to the stripes; the stripes run at the angle reported.

    Parameters
    ----------
    size : int, default 32
        Image side in pixels (>= 16).
    n_angles : int, default 12
        Stripe orientations ``k * pi / n_angles`` (0 horizontal stripes, pi/2 vertical,
        counter-clockwise as displayed).
    frequencies : sequence of float, default (1/16, 1/8, 1/4)
        Spatial frequencies in cycles per pixel, each in (0, 0.5].
    phases : sequence of float, default (0, pi/2, pi, 3 pi/2)
        Phases in radians.

    Returns
    -------
    images : np.ndarray of shape (n_angles * n_freq * n_phase, 1, size, size), float32
        In [0, 1], ordered angle, then frequency, then phase (``images.reshape(n_angles, n_freq,
        n_phase, 1, size, size)``).
    angles : np.ndarray of shape (n_angles * n_freq * n_phase,), float64
        Stripe orientation of each image in radians, in [0, pi).

    Raises
    ------
    NichelabError
        If ``size`` < 16, ``n_angles`` < 1, a frequency is outside (0, 0.5] or a list is empty.
    """
    size = _check_size(size)
    base = _angles(n_angles)
    freqs = np.asarray(frequencies, float).ravel()
    phases = np.asarray(phases, float).ravel()
    if freqs.size == 0 or not np.all((freqs > 0) & (freqs <= 0.5)):
        raise NichelabError(
            f"frequencies must be non-empty, each in (0, 0.5] cycles per pixel; got {freqs.tolist()}")
    if phases.size == 0 or not np.all(np.isfinite(phases)):
        raise NichelabError(f"phases must be a non-empty list of finite numbers; got {phases.tolist()}")
    a, f, ph = (g.ravel() for g in np.meshgrid(base, freqs, phases, indexing="ij"))
    c = np.arange(size) + 0.5 - size / 2
    x, y = c[None, None, :], c[None, :, None]
    proj = x * np.sin(a)[:, None, None] + y * np.cos(a)[:, None, None]
    images = 0.5 + 0.5 * np.cos(2 * np.pi * f[:, None, None] * proj + ph[:, None, None])
    return images[:, None].astype(np.float32), a
