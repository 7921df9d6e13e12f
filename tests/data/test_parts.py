"""Tests for the procedural parts-and-objects images (nichelab.data.parts)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from nichelab.data.base import Dataset
from nichelab.data.parts import (
    CLASS_NAMES,
    PART_NAMES,
    generate_parts,
    gratings,
    load_parts,
    oriented_bars,
    rasterize,
)
from nichelab.errors import NichelabError

# The designed part inventory, written out here rather than read from the module.
INVENTORY = {
    "face": {"outline", "eye", "nose", "mouth"},
    "scrambled face": {"outline", "eye", "nose", "mouth"},
    "house": {"wall", "roof", "door", "window"},
    "cart": {"body", "wheel", "handle"},
    "car": {"body", "cabin", "window", "wheel"},
}


@pytest.fixture(scope="module")
def clean():
    """Noise-free images, 40 per class."""
    return generate_parts(n_per_class=40, seed=3, noise=0.0)


def mask_of(data, part, cls=None):
    m = data.part_masks[:, PART_NAMES.index(part)]
    return m if cls is None else m[data.labels == data.class_names.index(cls)]


def angle_diff(a, b):
    """Distance between orientations in [0, pi) (period pi)."""
    d = np.mod(np.asarray(a) - np.asarray(b), np.pi)
    return np.minimum(d, np.pi - d)


def structure_tensor_orientation(images, sigma=1.5):
    """Dominant stripe orientation of each whole image (n, H, W), from Gaussian-derivative gradients.

    Independent of the rasteriser: the gradient is perpendicular to the stripes; y points up.
    """
    out = []
    for img in np.asarray(images, dtype=np.float64):
        gx = ndimage.gaussian_filter(img, sigma, order=(0, 1))
        gy = -ndimage.gaussian_filter(img, sigma, order=(1, 0))
        jxx, jyy, jxy = (gx * gx).sum(), (gy * gy).sum(), (gx * gy).sum()
        out.append(np.mod(0.5 * np.arctan2(2 * jxy, jxx - jyy) + np.pi / 2, np.pi))
    return np.array(out)


def above(masks_a, masks_b):
    """Per image: every pixel of mask a lies on a row above every pixel of mask b."""
    rows = np.arange(masks_a.shape[1])
    a_bottom = np.where(masks_a.any(2), rows, -1).max(1)
    b_top = np.where(masks_b.any(2), rows, masks_b.shape[1]).min(1)
    return a_bottom < b_top


# --------------------------------------------------------------------------- shapes and seeds

def test_shapes_dtypes_and_ranges():
    d = generate_parts(n_per_class=7, size=24, seed=0)
    n, p = 7 * len(CLASS_NAMES), len(PART_NAMES)
    assert d.images.shape == (n, 1, 24, 24) and d.images.dtype == np.float32
    assert d.labels.shape == (n,) and d.labels.dtype == np.int64
    assert d.part_present.shape == (n, p) and d.part_present.dtype == bool
    assert d.part_masks.shape == (n, p, 24, 24) and d.part_masks.dtype == bool
    assert d.orientation.shape == (n, 24, 24) and d.orientation.dtype == np.float32
    assert d.class_names == CLASS_NAMES == ["face", "scrambled face", "house", "cart", "car"]
    assert d.part_names == PART_NAMES and len(d) == n and d.seed == 0
    assert 0.0 <= d.images.min() and d.images.max() <= 1.0
    assert np.array_equal(np.bincount(d.labels), [7] * len(CLASS_NAMES))
    theta = d.orientation[np.isfinite(d.orientation)]
    assert theta.size and theta.min() >= 0.0 and theta.max() < np.pi


def test_same_seed_same_arrays_other_seed_other_arrays():
    a, b, c = (generate_parts(n_per_class=5, seed=s) for s in (1, 1, 2))
    for field in ("images", "labels", "part_present", "part_masks"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    assert np.array_equal(a.orientation, b.orientation, equal_nan=True)
    assert not np.array_equal(a.images, c.images)
    assert not np.array_equal(a.part_masks, c.part_masks)


def test_noise_leaves_geometry_alone_and_has_the_asked_std():
    quiet = generate_parts(n_per_class=30, seed=4, noise=0.0)
    noisy = generate_parts(n_per_class=30, seed=4, noise=0.1)
    assert np.array_equal(quiet.part_masks, noisy.part_masks)
    assert np.array_equal(quiet.labels, noisy.labels)
    background = quiet.images == 0
    # clip(N(0, s), 0, 1) on a 0 background has mean s / sqrt(2 pi)
    assert noisy.images[background].mean() == pytest.approx(0.1 / np.sqrt(2 * np.pi), rel=0.05)


def test_a_class_does_not_change_with_the_other_classes_requested():
    alone = generate_parts(n_per_class=10, seed=5, noise=0.0, classes=["house"])
    everything = generate_parts(n_per_class=10, seed=5, noise=0.0)
    houses = everything.images[everything.labels == CLASS_NAMES.index("house")]
    assert alone.class_names == ["house"] and np.all(alone.labels == 0)
    assert sorted(x.tobytes() for x in alone.images) == sorted(x.tobytes() for x in houses)


def test_jitter_zero_draws_every_face_alike():
    d = generate_parts(n_per_class=6, seed=0, noise=0.0, jitter=0.0, classes=["face", "scrambled face"])
    faces = d.images[d.labels == 0]
    assert np.all(faces == faces[0])
    assert len({x.tobytes() for x in d.images[d.labels == 1]}) > 1      # scrambles still vary


# --------------------------------------------------------------------------- ground truth

def test_masks_match_the_clean_images(clean):
    ink, anywhere = clean.images[:, 0], clean.part_masks.any(axis=1)
    assert np.all(ink[anywhere] >= 0.5)                          # inside a mask: bright
    assert np.all(ink[~anywhere] < 0.5)                          # outside: at most the anti-aliased rim
    rim = ndimage.binary_dilation(anywhere, structure=np.ones((1, 5, 5), bool))
    assert np.all(ink[~rim] == 0.0)                              # beyond the rim: background
    assert np.array_equal(np.isfinite(clean.orientation), anywhere)
    assert np.array_equal(clean.part_masks.any(axis=(2, 3)), clean.part_present)


def test_part_inventory_is_as_designed(clean):
    for c, name in enumerate(clean.class_names):
        expected = np.isin(PART_NAMES, sorted(INVENTORY[name]))
        assert np.all(clean.part_present[clean.labels == c] == expected), name


@pytest.mark.parametrize("cls, part", [("face", "eye"), ("cart", "wheel"), ("car", "wheel")])
def test_paired_parts_are_drawn_twice(clean, cls, part):
    counts = [ndimage.label(m, structure=np.ones((3, 3)))[1] for m in mask_of(clean, part, cls)]
    assert set(counts) == {2}


def test_scrambled_eyes_are_two_rings_that_rarely_touch():
    d = generate_parts(n_per_class=200, seed=0, noise=0.0, classes=["scrambled face"])
    counts = np.array([ndimage.label(m, structure=np.ones((3, 3)))[1] for m in mask_of(d, "eye")])
    assert set(counts) <= {1, 2} and np.mean(counts == 2) > 0.95


def test_scrambled_faces_have_the_face_parts_at_the_same_size(clean):
    for part in ("outline", "eye", "nose", "mouth"):
        face = mask_of(clean, part, "face").sum((1, 2)).mean()
        scrambled = mask_of(clean, part, "scrambled face").sum((1, 2)).mean()
        assert scrambled == pytest.approx(face, rel=0.15), part


def face_relations(data, cls):
    eye, nose, mouth = (mask_of(data, p, cls) for p in ("eye", "nose", "mouth"))
    return np.stack([above(eye, nose), above(eye, mouth), above(nose, mouth)], axis=1)


@pytest.mark.parametrize("size", [32, 48])
def test_face_layout_holds_for_faces_and_breaks_for_every_scramble(size):
    d = generate_parts(n_per_class=150, size=size, seed=11, noise=0.0, classes=["face", "scrambled face"])
    assert face_relations(d, "face").all()                          # eyes > nose > mouth, by pixels
    scrambled = face_relations(d, "scrambled face")
    assert not scrambled.all(axis=1).any()                          # each breaks at least one relation
    eyes_above_mouth = scrambled[:, 1].mean()
    assert 0.2 < eyes_above_mouth < 0.9                              # broken for a fraction only


def test_face_parts_are_centred_and_eyes_either_side(clean):
    cols = np.arange(clean.images.shape[-1])
    def centre_x(m):
        return (m.sum(1) * cols).sum(1) / m.sum((1, 2))
    eye, nose, mouth, outline = (mask_of(clean, p, "face") for p in ("eye", "nose", "mouth", "outline"))
    mid = centre_x(outline)
    assert np.all(np.abs(centre_x(mouth) - mid) < 2) and np.all(np.abs(centre_x(nose) - mid) < 2.5)
    left, right = eye & (cols < mid[:, None, None]), eye & (cols > mid[:, None, None])
    assert np.all(left.any((1, 2)) & right.any((1, 2)))


def test_house_roof_is_slanted_and_rectangles_are_upright(clean):
    theta, masks = clean.orientation, clean.part_masks
    others = masks.sum(axis=1) > 1
    for part in ("wall", "door", "window"):
        own = mask_of(clean, part, "house") & ~others[clean.labels == 2]
        t = theta[clean.labels == 2][own]
        assert np.mean(np.minimum(angle_diff(t, 0), angle_diff(t, np.pi / 2)) < 1e-3) > 0.95, part
    roof = mask_of(clean, "roof", "house") & ~others[clean.labels == 2]
    t = theta[clean.labels == 2][roof]
    slant = np.minimum(angle_diff(t, np.pi / 4), angle_diff(t, 3 * np.pi / 4))
    assert np.mean(slant < np.deg2rad(20)) > 0.9


def test_orientation_map_agrees_with_the_image_gradients(clean):
    errors = []
    for img, theta in zip(clean.images[:, 0].astype(np.float64), clean.orientation):
        gx = ndimage.gaussian_filter(img, 1.0, order=(0, 1))
        gy = -ndimage.gaussian_filter(img, 1.0, order=(1, 0))
        j = [ndimage.gaussian_filter(g, 1.5) for g in (gx * gx, gy * gy, gx * gy)]
        local = np.mod(0.5 * np.arctan2(2 * j[2], j[0] - j[1]) + np.pi / 2, np.pi)
        on = np.isfinite(theta)
        errors.append(angle_diff(local[on], theta[on]))
    assert np.median(np.concatenate(errors)) < np.deg2rad(10)


def test_objects_stay_inside_the_canvas(clean):
    anywhere = clean.part_masks.any(axis=1)
    assert not anywhere[:, [0, -1], :].any() and not anywhere[:, :, [0, -1]].any()


# --------------------------------------------------------------------------- rasteriser

def test_rasterize_orientation_of_hand_built_strokes():
    segs = np.array([[[[3.0, 5.5], [13.0, 5.5]],       # horizontal
                      [[24.5, 3.0], [24.5, 13.0]],     # vertical
                      [[4.0, 28.0], [12.0, 20.0]],     # '/': up and to the right on screen
                      [[20.0, 20.0], [28.0, 28.0]]]])  # '\'
    image, masks, theta = rasterize(segs, 2.0, 32, segment_parts=[0, 1, 2, 3])
    expected = [0.0, np.pi / 2, np.pi / 4, 3 * np.pi / 4]
    for k, angle in enumerate(expected):
        own = masks[0, k] & (masks[0].sum(0) == 1)
        assert own.sum() >= 10
        np.testing.assert_allclose(theta[0][own], angle, atol=1e-5)
    assert masks[0, 0, 5, 3:13].all() and not masks[0, 0, 7].any()  # row 5 inked, 2 rows down not
    assert masks[0, 1, 3:13, 24].all()


def test_rasterize_matches_a_naive_distance_formula():
    rng = np.random.default_rng(0)
    segs = rng.uniform(0, 20, (3, 4, 2, 2))
    width = np.array([1.0, 1.7, 3.0])
    image, masks, _ = rasterize(segs, width, 20)
    ys, xs = np.mgrid[0:20, 0:20] + 0.5
    for i in range(3):
        dist = np.full((20, 20), np.inf)
        for a, b in segs[i]:
            v = b - a
            t = np.clip(((xs - a[0]) * v[0] + (ys - a[1]) * v[1]) / (v @ v), 0, 1)
            dist = np.minimum(dist, np.hypot(xs - a[0] - t * v[0], ys - a[1] - t * v[1]))
        np.testing.assert_allclose(image[i], np.clip(width[i] / 2 + 0.5 - dist, 0, 1), atol=2e-3)
        near = np.abs(dist - width[i] / 2) < 1e-3                     # rounding may go either way
        assert np.array_equal(masks[i, 0][~near], (dist <= width[i] / 2)[~near])


def test_rasterize_draws_a_dot_for_a_zero_length_segment():
    image, masks, _ = rasterize(np.full((1, 1, 2, 2), 8.0), 3.0, 16)
    assert masks[0, 0].sum() == 4 and image[0].max() > 0.5           # the 4 pixels around (8, 8)


# --------------------------------------------------------------------------- probes

def test_oriented_bars_have_the_reported_orientation():
    images, angles = oriented_bars(size=32, n_angles=12, width=2.0)
    assert images.shape == (60, 1, 32, 32) and images.dtype == np.float32 and angles.shape == (60,)
    np.testing.assert_allclose(np.unique(angles), np.arange(12) * np.pi / 12)
    assert np.all(angle_diff(structure_tensor_orientation(images[:, 0]), angles) < np.deg2rad(3))
    assert images.max() == 1.0 and images.min() == 0.0


def test_oriented_bars_offsets_and_length():
    images, angles = oriented_bars(size=20, n_angles=4, offsets=[0.0], length=6.0)
    assert images.shape == (4, 1, 20, 20)
    assert np.all((images[:, 0] > 0).sum((1, 2)) < 40)               # a short bar, not a full line
    np.testing.assert_allclose(angles, [0, np.pi / 4, np.pi / 2, 3 * np.pi / 4])


def test_gratings_orientation_order_and_range():
    freqs, phases = (1 / 16, 1 / 8, 1 / 4), (0.0, np.pi / 2)
    images, angles = gratings(size=32, n_angles=6, frequencies=freqs, phases=phases)
    assert images.shape == (6 * 3 * 2, 1, 32, 32) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert np.all(angle_diff(structure_tensor_orientation(images[:, 0], 1.0), angles) < np.deg2rad(1))
    grid = images.reshape(6, 3, 2, 32, 32)
    expected = np.broadcast_to(np.arange(6)[:, None, None] * np.pi / 6, (6, 3, 2))
    np.testing.assert_allclose(angles.reshape(6, 3, 2), expected)
    # phase pi/2 apart, same angle and frequency: quadrature pair, so the energies add to a constant
    energy = (grid[:, :, 0] - 0.5) ** 2 + (grid[:, :, 1] - 0.5) ** 2
    np.testing.assert_allclose(energy, 0.25, atol=1e-5)
    # the frequency axis: horizontal stripes (angle 0) repeat every 1 / f rows
    for k, f in enumerate(freqs):
        period = int(round(1 / f))
        np.testing.assert_allclose(grid[0, k, 0, :-period], grid[0, k, 0, period:], atol=1e-5)


# --------------------------------------------------------------------------- Dataset and errors

def test_load_parts_returns_a_dataset():
    ds = load_parts(n_per_class=4, size=32, seed=2, noise=0.05)
    d = generate_parts(n_per_class=4, size=32, seed=2, noise=0.05)
    assert isinstance(ds, Dataset) and ds.name == "parts" and ds.class_names == CLASS_NAMES
    assert ds.X.shape == (20, 1, 32, 32) and ds.X.dtype == np.float32 and ds.y.dtype == np.int64
    assert np.array_equal(ds.X, d.images) and np.array_equal(ds.y, d.labels)
    assert np.array_equal(ds.meta["part_masks"], d.part_masks)
    assert ds.meta["part_names"] == PART_NAMES and ds.meta["image_shape"] == (1, 32, 32)
    assert ds.meta["part_present"].shape == (20, len(PART_NAMES))
    assert ds.meta["orientation"].shape == (20, 32, 32)


@pytest.mark.parametrize("kwargs, words", [
    ({"size": 8}, ["size", ">= 16", "8"]),
    ({"size": 15.5}, ["size", "integer", "15.5"]),
    ({"n_per_class": 0}, ["n_per_class", ">= 1", "0"]),
    ({"noise": -0.1}, ["noise", ">= 0", "-0.1"]),
    ({"noise": float("nan")}, ["noise", "finite", "nan"]),
    ({"jitter": 1.5}, ["jitter", "[0, 1]", "1.5"]),
    ({"seed": -3}, ["seed", ">= 0", "-3"]),
    ({"classes": ["fase"]}, ["classes", "'fase'", "did you mean 'face'"]),
])
def test_bad_arguments_name_the_argument_the_rule_and_the_value(kwargs, words):
    with pytest.raises(NichelabError) as info:
        generate_parts(**kwargs)
    for word in words:
        assert word in str(info.value)
    with pytest.raises(NichelabError):
        load_parts(**kwargs)


@pytest.mark.parametrize("call, words", [
    (lambda: oriented_bars(size=10), ["size", ">= 16", "10"]),
    (lambda: oriented_bars(n_angles=0), ["n_angles", ">= 1", "0"]),
    (lambda: oriented_bars(width=0), ["width", "> 0", "0"]),
    (lambda: gratings(frequencies=(0.7,)), ["frequencies", "(0, 0.5]", "0.7"]),
    (lambda: gratings(phases=()), ["phases", "non-empty"]),
    (lambda: rasterize(np.zeros((2, 3, 2)), 1.0, 16), ["segments", "(n, S, 2, 2)", "(2, 3, 2)"]),
    (lambda: rasterize(np.zeros((1, 2, 2, 2)), -1.0, 16), ["width", "> 0", "-1"]),
    (lambda: rasterize(np.zeros((1, 2, 2, 2)), 1.0, 16, [0]), ["segment_parts", "2", "(1,)"]),
])
def test_probe_and_rasteriser_errors(call, words):
    with pytest.raises(NichelabError) as info:
        call()
    for word in words:
        assert word in str(info.value)
