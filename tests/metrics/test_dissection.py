"""Network Dissection: bilinear upsampling, thresholds, IoU by hand, and hand-built part detectors."""
import numpy as np
import pytest
import torch

from nichelab.data.parts import generate_parts
from nichelab.errors import NichelabError
from nichelab.metrics.dissection import (IOU_THRESHOLD, activation_thresholds, dissect, iou_scores, mask_iou,
                                         unit_masks, upsample_bilinear)


@pytest.mark.parametrize("shape,size", [((2, 3, 4, 4), (16, 16)), ((1, 2, 5, 7), (32, 29)), ((2, 1, 8, 8), (4, 4)),
                                        ((1, 1, 1, 1), (3, 3))])
def test_upsampling_matches_torch_bilinear(shape, size):
    a = np.random.default_rng(0).standard_normal(shape)
    ref = torch.nn.functional.interpolate(torch.tensor(a), size=size, mode="bilinear", align_corners=False).numpy()
    np.testing.assert_allclose(upsample_bilinear(a, size), ref, atol=1e-12)


def test_upsampling_a_constant_map_keeps_it_and_same_size_is_identity():
    a = np.random.default_rng(1).random((2, 2, 6, 6))
    np.testing.assert_allclose(upsample_bilinear(a, 6), a)
    np.testing.assert_allclose(upsample_bilinear(np.full((1, 1, 3, 3), 2.5), 12), 2.5)


def test_thresholds_are_the_top_half_percent_quantile():
    a = np.random.default_rng(2).standard_normal((10, 3, 8, 8))
    t = activation_thresholds(a)
    for k in range(3):
        assert t[k] == pytest.approx(np.quantile(a[:, k], 0.995))
        assert np.mean(a[:, k] >= t[k]) == pytest.approx(0.005, abs=1 / a[:, k].size)


def test_a_silent_unit_selects_nothing_and_a_sparse_one_only_where_it_fires():
    a = np.zeros((4, 2, 8, 8))
    a[0, 1, 2, 3] = 5.0                       # fires on 1 of 256 positions (< 0.5%)
    t = activation_thresholds(a)
    m = unit_masks(a, t, 8)
    assert not m[:, 0].any()
    assert m[:, 1].sum() == 1 and m[0, 1, 2, 3]


def test_iou_summed_over_images_by_hand():
    # unit map at input size; threshold given explicitly so masks are known
    maps = np.zeros((2, 1, 4, 4))
    maps[0, 0, :2, :2] = 1.0                  # image 0: unit on a 2x2 block (4 px)
    maps[1, 0, 0, :] = 1.0                    # image 1: unit on the top row (4 px)
    concept = np.zeros((2, 1, 4, 4), bool)
    concept[0, 0, :2, :] = True               # image 0: top two rows (8 px), overlap 4
    concept[1, 0, 3, :] = True                # image 1: bottom row (4 px), overlap 0
    iou = iou_scores(maps, concept, thresholds=[0.5])
    # intersection 4 + 0; union (4 + 8 - 4) + (4 + 4 - 0) = 16
    assert iou[0, 0] == pytest.approx(4 / 16)
    assert mask_iou(maps[:, 0] > 0.5, concept[:, 0]) == pytest.approx(4 / 16)


def test_iou_is_nan_only_when_unit_and_concept_are_both_empty():
    maps = np.zeros((2, 1, 4, 4))
    concept = np.zeros((2, 2, 4, 4), bool)
    concept[0, 1, 0, 0] = True
    iou = iou_scores(maps, concept)
    assert np.isnan(iou[0, 0]) and iou[0, 1] == 0.0
    assert np.isnan(mask_iou(np.zeros(3, bool), np.zeros(3, bool)))


def test_chunked_iou_equals_a_naive_float64_count(monkeypatch):
    import nichelab.metrics.dissection as d
    rng = np.random.default_rng(3)
    maps = rng.random((7, 3, 4, 4))
    concept = rng.random((7, 2, 16, 16)) < 0.2
    t = activation_thresholds(maps, 0.8)
    up = np.stack([[torch.nn.functional.interpolate(torch.tensor(maps[i:i + 1]), size=16, mode="bilinear",
                                                    align_corners=False).numpy()[0] for i in range(7)]])[0]
    mk = up >= t[None, :, None, None]
    naive = np.array([[(mk[:, k] & concept[:, c]).sum() / (mk[:, k] | concept[:, c]).sum() for c in range(2)]
                      for k in range(3)])
    monkeypatch.setattr(d, "_CHUNK_ELEMENTS", 300)      # several chunks of 1 image
    np.testing.assert_allclose(iou_scores(maps, concept, t), naive)


def _avg_pool(x: np.ndarray, f: int) -> np.ndarray:
    n, c, h, w = x.shape
    return x.reshape(n, c, h // f, f, w // f, f).mean(axis=(3, 5))


def test_hand_built_units_that_copy_part_masks_detect_those_parts():
    d = generate_parts(n_per_class=6, seed=4, noise=0.0)
    masks = d.part_masks                                     # (30, 12, 32, 32)
    eye, wheel = d.part_names.index("eye"), d.part_names.index("wheel")
    # a full-resolution layer copying the eye and wheel masks
    res = dissect(masks[:, [eye, wheel]].astype(float), masks, concept_names=d.part_names)
    assert res.best_names() == ["eye", "wheel"]
    assert res.detector.all() and (res.best_iou > 0.9).all() and res.detector_fraction == 1.0
    # a coarse layer (stride 2, as after pooling): blurred copies, upsampled back before the IoU
    coarse = dissect(_avg_pool(masks[:, [wheel, eye]].astype(float), 2), masks, concept_names=d.part_names)
    assert coarse.best_names() == ["wheel", "eye"]
    assert coarse.detector.all() and (coarse.best_iou > IOU_THRESHOLD).all()


def test_a_noise_unit_detects_nothing():
    d = generate_parts(n_per_class=4, seed=5)
    noise = np.random.default_rng(0).random((len(d), 1, 32, 32))
    res = dissect(noise, d.part_masks, concept_names=d.part_names)
    assert not res.detector[0] and res.best_iou[0] < IOU_THRESHOLD


@pytest.mark.parametrize("call,words", [
    (lambda: dissect(np.zeros((2, 3, 4)), np.zeros((2, 1, 4, 4), bool)), "maps must have shape"),
    (lambda: dissect(np.zeros((2, 1, 4, 4)), np.zeros((3, 1, 4, 4), bool)), "same number of samples"),
    (lambda: dissect(np.zeros((2, 1, 4, 4)), np.full((2, 1, 4, 4), 0.5)), "boolean"),
    (lambda: dissect(np.full((2, 1, 4, 4), np.nan), np.zeros((2, 1, 4, 4), bool)), "maps must not contain NaN or inf"),
    (lambda: dissect(np.zeros((2, 1, 4, 4)), np.zeros((2, 1, 4, 4), bool), concept_names=["a", "b"]), "concept_names"),
    (lambda: activation_thresholds(np.zeros((2, 1, 4, 4)), 1.5), "quantile"),
    (lambda: unit_masks(np.zeros((2, 2, 4, 4)), [0.1], 8), "thresholds"),
])
def test_bad_input_names_the_argument(call, words):
    with pytest.raises(NichelabError, match=words):
        call()
