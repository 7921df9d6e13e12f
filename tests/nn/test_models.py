import math

import numpy as np
import pytest
import torch

from nichelab.errors import NichelabError
from nichelab.nn import build_model, parse_spec


def test_lab_model_names_and_shapes():
    m = build_model("mlp 2", (2,), 4)
    names = [n for n, _ in m.named_modules()]
    assert {"L1", "L1.linear", "L1.act", "L2", "L2.linear"} <= set(names)
    assert m.hidden == ["L1"] and m.output == "L2"
    assert m(torch.zeros(5, 2)).shape == (5, 4)


def test_glorot_init_matches_keras_rule():
    m = build_model("mlp 64", (64,), 10, init="glorot", seed=3)
    w = m.L1.linear.weight.detach().numpy()
    limit = math.sqrt(6 / (64 + 64))
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.9 * limit
    assert np.all(m.L1.linear.bias.detach().numpy() == 0)
    assert abs(w.std() - limit / math.sqrt(3)) < 0.05 * limit


def test_torch_init_bounds_and_nonzero_bias():
    m = build_model("mlp 64", (16,), 10, init="torch", seed=3)
    w, b = m.L1.linear.weight.detach().numpy(), m.L1.linear.bias.detach().numpy()
    assert np.abs(w).max() <= 0.25 and np.abs(b).max() <= 0.25 and np.abs(b).max() > 0.1


def test_same_seed_same_weights_and_different_seed_differs():
    a, b, c = (build_model("mlp 8", (2,), 4, seed=s).L1.linear.weight for s in (1, 1, 2))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_cnn_spec_and_forward():
    m = build_model("cnn 4-8 fc=16", (1, 8, 8), 10)
    assert m.hidden == ["L1", "L2", "L3"] and m.output == "L4"
    assert m(torch.zeros(2, 1, 8, 8)).shape == (2, 10)


@pytest.mark.parametrize("text,match", [
    ("mlp", "must look like"), ("rnn 4", "mlp' or 'cnn"), ("mlp 4-x", "positive integers"),
    ("mlp 0", ">= 1"), ("mlp 4 dropout=2", "dropout"), ("mlp 4 foo=1", "unknown option"),
])
def test_bad_specs(text, match):
    with pytest.raises(NichelabError, match=match):
        parse_spec(text)


def test_cnn_needs_images():
    with pytest.raises(NichelabError, match="image inputs"):
        build_model("cnn 4", (64,), 10)
