"""Tied units (nn.tied): identical by construction, checked exactly and against naive float64 formulas.

No test here relies on a matrix-multiply routine returning bit-identical rows: tied units are one
set of numbers, so their gap is exactly 0 whatever BLAS does; their function and gradients are
checked against hand-written float64 formulas to rounding.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nichelab.data import load_blobs
from nichelab.errors import NichelabError
from nichelab.nn import build_model
from nichelab.nn.init import make_symmetric
from nichelab.nn.tied import TiedLinear, tie_units, tied_layers, untie

BLOBS = load_blobs()
X64 = np.asarray(BLOBS.X, np.float64)
Y = np.asarray(BLOBS.y)


def _tied(H=4, seed=0, source=1, spec=None):
    return tie_units(build_model(spec or f"mlp {H}", (2,), 4, seed=seed), source=source).double()


def test_tie_units_shares_one_row_and_one_column_and_starts_as_make_symmetric():
    base = build_model("mlp 5", (2,), 4, seed=3)
    t = tie_units(base, source=2)
    assert set(tied_layers(t)) == {"L1.linear", "L2.linear"}
    assert tuple(t.L1.linear.weight.shape) == (1, 2) and tuple(t.L1.linear.bias.shape) == (1,)
    assert tuple(t.L2.linear.weight.shape) == (4, 1) and tuple(t.L2.linear.bias.shape) == (4,)
    assert type(base.L1.linear) is torch.nn.Linear                     # the input model is not modified
    sym = make_symmetric(build_model("mlp 5", (2,), 4, seed=3), source=2, outgoing="split")
    full = untie(t, dict(t.named_parameters()))
    for k, v in sym.named_parameters():
        assert np.array_equal(full[k], v.detach().numpy()), k          # same numbers, exactly
    x = torch.as_tensor(BLOBS.X)
    np.testing.assert_allclose(t(x).detach().numpy(), sym(x).detach().numpy(), rtol=1e-6, atol=1e-7)


def test_two_tied_hidden_layers_share_a_scalar_between_them():
    t = tie_units(build_model("mlp 4-3", (2,), 4, seed=0))
    assert tuple(t.L2.linear.weight.shape) == (1, 1) and tuple(t.L3.linear.weight.shape) == (4, 1)


def test_tied_network_equals_one_unit_network_with_outgoing_H_times_v():
    """H units reading one row (w, b), each sending v, compute the one-unit network with outgoing H*v."""
    H = 6
    t = _tied(H, seed=4)
    w, b = t.L1.linear.weight.detach().numpy(), t.L1.linear.bias.detach().numpy()
    v, c = t.L2.linear.weight.detach().numpy(), t.L2.linear.bias.detach().numpy()
    naive = np.maximum(X64 @ w.T + b, 0) @ (H * v).T + c              # (n, 1) @ (1, C)
    got = t(torch.as_tensor(X64)).detach().numpy()
    np.testing.assert_allclose(got, naive, rtol=1e-12, atol=1e-12)


def _naive_grads(w, b, v, c, H):
    """Per-copy gradients of the mean cross-entropy of H identical copies (float64, by hand).

    Every copy has incoming (w, b) and outgoing column v; logits = H relu(Xw + b) v + c.
    Returns the gradient of ONE copy's w, b, v and of c -- what the shared numbers must receive.
    """
    z = X64 @ w.ravel() + b[0]
    h = np.maximum(z, 0)
    logits = H * h[:, None] * v.ravel()[None, :] + c
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    delta = p.copy()
    delta[np.arange(len(Y)), Y] -= 1
    delta /= len(Y)                                                   # d loss / d logits, (n, C)
    back = (delta @ v.ravel()) * (z > 0)                              # d loss / d z of one copy, (n,)
    return back @ X64, np.array([back.sum()]), (delta.T @ h)[:, None], delta.sum(axis=0)


def test_tied_gradients_are_one_copys_gradient():
    H = 5
    t = _tied(H, seed=2)
    loss = F.cross_entropy(t(torch.as_tensor(X64)), torch.as_tensor(Y))
    loss.backward()
    want = _naive_grads(*(p.detach().numpy() for p in (t.L1.linear.weight, t.L1.linear.bias,
                                                       t.L2.linear.weight, t.L2.linear.bias)), H)
    got = [p.grad.numpy() for p in (t.L1.linear.weight, t.L1.linear.bias, t.L2.linear.weight, t.L2.linear.bias)]
    for g, ref in zip(got, want):
        np.testing.assert_allclose(g.reshape(ref.shape), ref, rtol=1e-10, atol=1e-14)


def test_tied_sgd_follows_exactly_identical_copies_in_exact_arithmetic():
    """Full-batch SGD on the tied network = a naive float64 loop moving every copy by its own gradient."""
    from nichelab.train import TrainConfig, train_one
    H, lr, steps = 4, 0.5, 30
    t = _tied(H, seed=1)
    w, b, v, c = (p.detach().numpy().copy() for p in (t.L1.linear.weight, t.L1.linear.bias,
                                                      t.L2.linear.weight, t.L2.linear.bias))
    cfg = TrainConfig(epochs=steps, optimizer="sgd", lr=lr, batch_size=len(Y), dtype="float64")
    trained = train_one(t, BLOBS.X, BLOBS.y, cfg, seed=0).model
    for _ in range(steps):
        gw, gb, gv, gc = _naive_grads(w, b, v, c, H)
        w, b, v, c = w - lr * gw, b - lr * gb, v - lr * gv, c - lr * gc
    assert np.abs(w - t.L1.linear.weight.detach().numpy()).max() > 0   # not trivially equal: both moved
    for ref, p in zip((w, b, v, c), (trained.L1.linear.weight, trained.L1.linear.bias,
                                     trained.L2.linear.weight, trained.L2.linear.bias)):
        np.testing.assert_allclose(p.detach().numpy().reshape(ref.shape), ref, rtol=1e-9, atol=1e-12)


def test_untie_keeps_leading_axes_and_leaves_untied_models_alone():
    t = _tied(3)
    stacked = {k: np.stack([v.detach().numpy()] * 2) for k, v in t.named_parameters()}
    full = untie(t, stacked)
    assert full["L1.linear.weight"].shape == (2, 3, 2) and full["L2.linear.weight"].shape == (2, 4, 3)
    assert np.all(full["L1.linear.weight"] == full["L1.linear.weight"][:, :1])
    plain = build_model("mlp 3", (2,), 4)
    p = {k: v.detach().numpy() for k, v in plain.named_parameters()}
    assert all(np.array_equal(untie(plain, p)[k], p[k]) for k in p)


def test_tie_units_rejects_bad_input():
    with pytest.raises(NichelabError, match="nn.Linear"):
        tie_units(build_model("cnn 3 fc=4", (1, 8, 8), 3))
    with pytest.raises(NichelabError, match="nn.Linear"):
        tie_units(tie_units(build_model("mlp 3", (2,), 4)))
    with pytest.raises(NichelabError, match="source"):
        tie_units(build_model("mlp 3", (2,), 4), source=3)
    with pytest.raises(NichelabError, match="output layer"):
        tie_units(build_model("mlp 3", (2,), 4), layers=["L2"])
    assert isinstance(_tied().L1.linear, TiedLinear)
