"""Orientation tuning: OSI of hand-built curves, and hand-built edge filters shown bars and gratings."""
import numpy as np
import pytest
import torch

from nichelab.data.parts import gratings, oriented_bars
from nichelab.errors import NichelabError
from nichelab.metrics.tuning import OSI_THRESHOLD, orientation_selectivity, orientation_tuning, tuning_curves

TH = np.arange(12) * np.pi / 12


@pytest.mark.parametrize("a", [1.0, 1.5, 3.0])
def test_osi_of_a_cosine_tuned_unit_is_one_over_2a(a):
    curve = a + np.cos(2 * (TH - np.pi / 3))
    osi, pref = orientation_selectivity(curve[:, None], TH)
    assert osi[0] == pytest.approx(1 / (2 * a))
    assert pref[0] == pytest.approx(np.pi / 3)


def test_osi_extremes_and_a_dead_unit():
    one_angle = np.zeros(12)
    one_angle[7] = 2.0
    osi, pref = orientation_selectivity(np.stack([one_angle, np.ones(12), np.zeros(12)], 1), TH)
    assert osi[0] == pytest.approx(1.0) and pref[0] == pytest.approx(TH[7])
    assert osi[1] == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(osi[2]) and np.isnan(pref[2])


def test_preferred_angle_wraps_around_pi():
    curve = np.exp(np.cos(2 * (TH - np.radians(172))) * 3)
    _, pref = orientation_selectivity(curve[:, None], TH)
    assert np.degrees(pref[0]) == pytest.approx(172, abs=0.5)


def test_threshold_decides_selective_and_the_fraction_counts_dead_units_as_not():
    curves = np.stack([1.2 + np.cos(2 * TH), 3.0 + np.cos(2 * TH), np.zeros(12)], 1)   # OSI 0.42, 0.17, NaN
    res = orientation_tuning(curves, TH)
    assert res.selective.tolist() == [True, False, False]
    assert res.selective_fraction == pytest.approx(1 / 3) and res.threshold == OSI_THRESHOLD


def test_curves_average_repeats_and_take_each_units_best_condition():
    angles = np.repeat(TH[:2], 4)                       # two angles x (2 conditions x 2 repeats)
    cond = np.tile([0, 0, 1, 1], 2)
    r = np.array([[1, 0], [3, 0], [10, 1], [10, 1],     # angle 0: cond 0 mean 2, cond 1 mean 10
                  [0, 5], [2, 5], [0, 2], [0, 2]], float)  # angle 1: cond 0 mean 1, cond 1 mean 0
    th, curves, best = tuning_curves(r, angles, cond)
    np.testing.assert_allclose(th, TH[:2])
    np.testing.assert_allclose(curves[:, 0], [10, 0])  # unit 0: condition 1 has the larger mean
    np.testing.assert_allclose(curves[:, 1], [0, 5])   # unit 1: condition 0
    assert best.tolist() == [1, 0]


def _edge_unit_responses(kernel, stimuli):
    """ReLU(conv(kernel)) on the stimuli, maximum over the cells away from the zero-padded border."""
    conv = torch.nn.Conv2d(1, 1, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight[:] = torch.tensor(kernel, dtype=torch.float32)[None, None]
        out = torch.relu(conv(torch.tensor(stimuli))).numpy()[:, 0, 2:-2, 2:-2]
    return out.reshape(len(out), -1).max(axis=1)[:, None]


VERTICAL = [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]        # dark left, bright right: a vertical edge
HORIZONTAL = np.array(VERTICAL).T.tolist()             # a horizontal edge
DIAGONAL = [[0, 1, 1], [-1, 0, 1], [-1, -1, 0]]        # bright upper right: an edge running like "\\"


@pytest.mark.parametrize("stim", ["bars", "gratings"])
@pytest.mark.parametrize("kernel,angle", [(VERTICAL, 90), (HORIZONTAL, 0), (DIAGONAL, 135)])
def test_a_hand_built_edge_filter_is_selective_at_the_right_angle(stim, kernel, angle):
    if stim == "bars":
        images, angles = oriented_bars(32, 12, width=2.0)
        cond = None
    else:
        images, angles = gratings(32, 12, frequencies=(1 / 8, 1 / 4))
        cond = np.tile(np.repeat([1 / 8, 1 / 4], 4), 12)
    res = orientation_tuning(_edge_unit_responses(kernel, images), angles, cond)
    assert res.selective[0] and res.osi[0] > OSI_THRESHOLD    # a 3x3 edge filter scores about 0.32-0.41
    diff = abs((np.degrees(res.preferred[0]) - angle + 90) % 180 - 90)
    assert diff < 8


def test_an_isotropic_filter_is_not_selective():
    images, angles = oriented_bars(32, 12, width=2.0)
    res = orientation_tuning(_edge_unit_responses([[0, 1, 0], [1, 1, 1], [0, 1, 0]], images), angles)
    assert not res.selective[0] and res.osi[0] < 0.15


@pytest.mark.parametrize("call,words", [
    (lambda: orientation_tuning(-np.ones((12, 1)), TH), "non-negative"),
    (lambda: orientation_tuning(np.ones((12, 1)), TH[:5]), "one angle per stimulus"),
    (lambda: orientation_tuning(np.full((12, 1), np.nan), TH), "responses must not contain NaN or inf"),
    (lambda: orientation_tuning(np.ones((12, 2, 2)), TH), "shape"),
    (lambda: tuning_curves(np.ones((4, 1)), TH[[0, 0, 1, 1]], [0, 1, 0, 0]), "every condition"),
])
def test_bad_input_names_the_argument(call, words):
    with pytest.raises(NichelabError, match=words):
        call()
