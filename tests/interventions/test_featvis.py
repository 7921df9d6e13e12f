"""Feature visualisation: known optima of hand-built units, seeding, pre-activation, hooks and errors."""
from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn

from nichelab.errors import NichelabError
from nichelab.interventions.featvis import visualize_units
from nichelab.nn import build_model
from nichelab.nn.models import ConvBlock


def _linear_model(w, b=0.0):
    fc = nn.Linear(16, 1)
    with torch.no_grad():
        fc.weight[:] = torch.tensor(w, dtype=torch.float32).reshape(1, 16)
        fc.bias[:] = b
    return nn.Sequential(OrderedDict(flatten=nn.Flatten(), fc=fc))


def test_a_linear_unit_is_driven_to_the_corner_of_the_box():
    w = np.random.default_rng(0).standard_normal(16)
    model = _linear_model(w, 0.3)
    res = visualize_units(model, ["fc:0"], input_shape=(1, 4, 4), steps=300, lr=0.1, jitter=0, tv=0, l2=0)
    np.testing.assert_allclose(res.images[0].ravel(), (w > 0).astype(float), atol=1e-6)
    assert res.activation[0] == pytest.approx(w[w > 0].sum() + 0.3, rel=1e-5)
    assert res.unit_names == ["fc:0"] and res.history.shape == (300, 1)
    assert res.history[-1, 0] > res.history[0, 0]


def _edge_net():
    """L1 = ConvBlock whose channel 0 is a vertical edge detector and channel 1 a horizontal one."""
    net = nn.Sequential(OrderedDict(L1=ConvBlock(1, 2, 3)))
    k = torch.tensor([[-1.0, 0, 1]] * 3)
    with torch.no_grad():
        net.L1.conv.weight[:] = torch.stack([k, k.T])[:, None]
        net.L1.conv.bias.zero_()
    return net


def test_a_hand_built_edge_unit_wants_an_edge_in_its_receptive_field():
    res = visualize_units(_edge_net(), ["L1:0", "L1:1"], input_shape=(1, 9, 9), steps=200, jitter=0,
                          tv=0.1, l2=0.05, baseline=0.5)
    c = 4                                                     # centre cell of the 9x9 map
    v, h = res.images[0, 0], res.images[1, 0]
    assert v[c - 1:c + 2, c + 1].mean() > 0.9 and v[c - 1:c + 2, c - 1].mean() < 0.1   # bright right, dark left
    assert h[c + 1, c - 1:c + 2].mean() > 0.9 and h[c - 1, c - 1:c + 2].mean() < 0.1   # bright below, dark above
    assert res.activation == pytest.approx([3.0, 3.0], abs=0.05)


def test_a_given_cell_is_maximised_there():
    res = visualize_units(_edge_net(), ["L1:0"], input_shape=(1, 9, 9), steps=150, jitter=0, tv=0.1, l2=0.05,
                          baseline=0.5, positions=[(2, 6)])
    img = res.images[0, 0]
    assert img[1:4, 7].mean() > 0.9 and img[1:4, 5].mean() < 0.1       # the edge sits around row 2, column 6
    assert res.activation[0] == pytest.approx(3.0, abs=0.05)
    with pytest.raises(NichelabError, match="position"):
        visualize_units(_edge_net(), ["L1:0"], input_shape=(1, 9, 9), steps=2, positions=[(9, 0)])


def test_a_silent_relu_unit_still_gets_a_gradient_through_its_pre_activation():
    net = _edge_net()
    with torch.no_grad():
        net.L1.conv.bias[:] = -2.5                           # silent on any image near the 0.5 baseline
    on = visualize_units(net, ["L1:0"], input_shape=(1, 9, 9), steps=150, jitter=0, baseline=0.5)
    off = visualize_units(net, ["L1:0"], input_shape=(1, 9, 9), steps=150, jitter=0, baseline=0.5,
                          pre_activation=False)
    assert on.activation[0] > 0.2
    assert off.activation[0] == 0.0


def test_same_seed_same_images_other_seed_other_images_and_model_left_as_it_was():
    model = build_model("cnn 4-8 fc=8", (1, 12, 12), 3, seed=0)
    model.train()
    kw = dict(steps=20, jitter=[0, 1, 2])
    a = visualize_units(model, ["L1:1", "L2:3", "L3:0"], seed=1, **kw)
    b = visualize_units(model, ["L1:1", "L2:3", "L3:0"], seed=1, **kw)
    c = visualize_units(model, ["L1:1", "L2:3", "L3:0"], seed=2, **kw)
    np.testing.assert_array_equal(a.images, b.images)
    assert not np.array_equal(a.images, c.images)
    assert a.images.shape == (3, 1, 12, 12) and a.images.min() >= 0 and a.images.max() <= 1
    assert model.training
    assert all(not m._forward_hooks for m in model.modules())
    assert all(p.grad is None for p in model.parameters())


def test_hooks_are_removed_when_the_forward_pass_fails():
    model = build_model("cnn 4 fc=8", (1, 8, 8), 2, seed=0)
    with pytest.raises(Exception):
        visualize_units(model, ["L2:0"], input_shape=(1, 5, 7), steps=2)   # wrong input size for L2
    assert all(not m._forward_hooks for m in model.modules())


@pytest.mark.parametrize("units,kw,words", [
    (["L9:0"], {}, "unknown layer 'L9'.*did you mean"),
    (["L1:99"], {}, "out of range; it has 4 units"),
    (["L1-3"], {}, "LAYER:UNIT"),
    ([], {}, "at least one unit"),
    (["L1:0"], {"reduce": "median"}, "reduce must be one of"),
    (["L1:0"], {"value_range": (1, 0)}, "value_range"),
    (["L1:0"], {"jitter": [1, 2]}, "one per unit"),
    (["L1:0"], {"tv": -1.0}, "tv must be"),
])
def test_bad_input_names_the_argument(units, kw, words):
    model = build_model("cnn 4 fc=8", (1, 8, 8), 2, seed=0)
    with pytest.raises(NichelabError, match=words):
        visualize_units(model, units, steps=2, **kw)


def test_models_without_input_shape_need_one():
    with pytest.raises(NichelabError, match="input_shape"):
        visualize_units(_edge_net(), ["L1:0"], steps=2)
