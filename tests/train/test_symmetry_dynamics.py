"""Identical units under gradient descent; dropout, noise and random init break the tie.

Separate copies (``make_symmetric``) receive the same gradient up to floating-point reduction
order (REFERENCES.md, "Symmetry"), and the symmetric point is unstable, so over a long run a
last-bit difference can grow until the copies are distinct -- on some CPUs and not others. The
tests therefore never rely on BLAS returning bit-identical rows: one gradient of separate copies
is bounded at rounding level (no time for growth), and "identical units stay identical" is checked
exactly on tied units (``tie_units``: one shared parameter vector), with every optimizer, in the
loop and in the ensemble.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nichelab.capture import capture
from nichelab.data import load_blobs
from nichelab.errors import NichelabError
from nichelab.nn import build_model, init_model
from nichelab.nn.init import make_symmetric, perturb
from nichelab.nn.tied import tie_units, untie
from nichelab.train import TrainConfig, train_ensemble, train_one
from nichelab.train.loop import state_numpy

BLOBS = load_blobs()
OPTS = [dict(optimizer="sgd", lr=0.1, batch_size=100),                      # full-batch gradient descent
        dict(optimizer="sgd", lr=0.05, momentum=0.9, weight_decay=0.01),    # minibatch SGD + momentum
        dict(optimizer="adam", lr=0.01),
        dict(optimizer="adam", lr=0.01, weight_decay=0.01)]


def _sym(spec="mlp 4-3", seed=0, **kw):
    return make_symmetric(build_model(spec, (2,), 4, seed=seed), **kw)


def _gap(W) -> float:
    """Largest difference between any unit's incoming weights and unit 0's (rows of W)."""
    W = np.asarray(W)
    return float(np.abs(W - W[..., :1, :]).max())


def test_make_symmetric_copies_incoming_and_outgoing_weights():
    m = _sym("mlp 4-3", source=2)
    W1, b1 = m.L1.linear.weight.detach(), m.L1.linear.bias.detach()
    W2, W3 = m.L2.linear.weight.detach(), m.L3.linear.weight.detach()
    fresh = build_model("mlp 4-3", (2,), 4, seed=0)
    assert torch.equal(W1, fresh.L1.linear.weight.detach()[2].expand(4, 2))
    assert torch.all(b1 == b1[0])
    assert torch.all(W2 == W2[0, 0])             # columns copied (L1's outgoing), then rows (L2's incoming)
    assert torch.all(W3 == W3[:, :1])            # L2's outgoing columns
    assert not torch.all(W3 == W3[0, 0])         # output units (classes) are left alone


def test_make_symmetric_cnn_units_compute_identical_maps():
    m = make_symmetric(build_model("cnn 3-4 fc=5", (1, 8, 8), 3, seed=1))
    acts = capture(m, torch.rand(6, 1, 8, 8), ["L1", "L2", "L3"])
    for a in acts.values():
        assert np.abs(a - a[:, :1]).max() == 0


def test_make_symmetric_and_perturb_reject_bad_input():
    m = build_model("mlp 4", (2,), 4)
    with pytest.raises(NichelabError, match="output layer"):
        make_symmetric(m, layers=["L2"])
    with pytest.raises(NichelabError, match="did you mean"):
        make_symmetric(m, layers=["L11"])
    with pytest.raises(NichelabError, match="source"):
        make_symmetric(m, source=4)
    for bad in (-1e-3, float("nan"), "x"):
        with pytest.raises(NichelabError, match="eps"):
            perturb(m, bad)


def test_init_scheme_symmetric():
    m = init_model(build_model("mlp 5", (2,), 4), "symmetric", seed=3)
    assert _gap(m.L1.linear.weight.detach()) == 0 and _gap(m.L2.linear.weight.detach().T) == 0


def test_identical_copies_get_the_same_gradient_up_to_rounding():
    """One gradient, no time for growth: copies' gradients agree to a few ulps of their size."""
    for dtype, rel in ((torch.float32, 1e-5), (torch.float64, 1e-13)):
        m = _sym("mlp 6", seed=3).to(dtype)
        loss = F.cross_entropy(m(torch.as_tensor(BLOBS.X).to(dtype)), torch.as_tensor(BLOBS.y))
        loss.backward()
        g = m.L1.linear.weight.grad.double().numpy()
        assert np.abs(g).max() > 0
        assert _gap(g) <= rel * np.abs(g).max(), dtype


def _tied(spec="mlp 4-3", seed=0, **kw):
    return tie_units(build_model(spec, (2,), 4, seed=seed), **kw)


@pytest.mark.parametrize("opt", OPTS, ids=["gd", "sgd+momentum+wd", "adam", "adam+wd"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tied_units_stay_exactly_identical(opt, dtype):
    cfg = TrainConfig(epochs=25, dtype=dtype, **opt)
    one = train_one(_tied(seed=1), BLOBS.X, BLOBS.y, cfg, seed=1).model
    ens = train_ensemble(lambda s: _tied(seed=s), BLOBS.X, BLOBS.y, cfg, [1, 2])
    for m, p in [(one, {k: v[None] for k, v in state_numpy(one).items()}), (ens.template, ens.params)]:
        full = untie(m, p)
        for k in ("L1.linear.weight", "L2.linear.weight", "L3.linear.weight"):
            W = full[k] if k == "L1.linear.weight" else np.swapaxes(full[k], -1, -2)
            assert _gap(W) == 0, k                                  # exactly: one set of numbers
        start = untie(m, {k: v.detach().numpy()[None] for k, v in _tied(seed=1).named_parameters()})
        assert np.abs(full["L1.linear.weight"][0] - start["L1.linear.weight"][0]).max() > 1e-3   # it did train


def test_tied_units_stay_exactly_identical_with_many_seeds():
    ens = train_ensemble(lambda s: _tied("mlp 6", seed=s), BLOBS.X, BLOBS.y, TrainConfig(epochs=10), range(80))
    assert ens.params["L1.linear.weight"].shape == (80, 1, 2)
    assert _gap(untie(ens.template, ens.params)["L1.linear.weight"]) == 0


def _gaps_after(build, cfg):
    ens = train_ensemble(build, BLOBS.X, BLOBS.y, cfg, [0, 1])
    return [_gap(w) for w in untie(ens.template, ens.params)["L1.linear.weight"]]


def test_dropout_breaks_the_tie():
    cfg = TrainConfig(epochs=5)
    assert max(_gaps_after(lambda s: _tied("mlp 4", s), cfg)) == 0
    assert min(_gaps_after(lambda s: _sym("mlp 4 dropout=0.2", s), cfg)) > 1e-3


def test_perturbation_breaks_the_tie_and_zero_perturbation_does_not():
    cfg = TrainConfig(epochs=60, dtype="float64")
    m = _sym("mlp 4", 0).double()
    before = {k: v.detach().clone() for k, v in m.named_parameters()}
    perturb(m, 0.0)
    assert all(torch.equal(before[k], v) for k, v in m.named_parameters())      # eps = 0 changes nothing
    start = _gap(perturb(_sym("mlp 4", 0).double(), 1e-6, torch.Generator().manual_seed(0)).L1.linear.weight.detach())
    assert 1e-7 < start < 1e-5
    grown = _gaps_after(lambda s: perturb(_sym("mlp 4", s).double(), 1e-6, torch.Generator().manual_seed(s)), cfg)
    assert min(grown) > 10 * start


def test_random_init_units_differ():
    gaps = _gaps_after(lambda s: build_model("mlp 4", (2,), 4, seed=s), TrainConfig(epochs=2))
    assert min(gaps) > 0.1


def test_zero_init_gives_zero_hidden_gradients_and_only_output_bias_learns():
    m = build_model("mlp 4-3", (2,), 4, init="zeros")
    loss = F.cross_entropy(m(torch.as_tensor(BLOBS.X)), torch.as_tensor(BLOBS.y))
    loss.backward()
    for name, p in m.named_parameters():
        if name != "L3.linear.bias":
            assert torch.count_nonzero(p.grad) == 0, name
    ens = train_ensemble(lambda s: build_model("mlp 4-3", (2,), 4, init="zeros", seed=s), BLOBS.X, BLOBS.y,
                         TrainConfig(epochs=10), [0, 1])
    for name, v in ens.params.items():
        assert (np.count_nonzero(v) > 0) == (name == "L3.linear.bias"), name


def test_symmetric_network_computes_a_one_unit_function():
    """H identical units with outgoing column v equal one unit with outgoing H * v, exactly up to rounding."""
    H = 5
    m = _sym(f"mlp {H}", seed=4).double()
    one = build_model("mlp 1", (2,), 4).double()
    with torch.no_grad():
        one.L1.linear.weight.copy_(m.L1.linear.weight[:1])
        one.L1.linear.bias.copy_(m.L1.linear.bias[:1])
        one.L2.linear.weight.copy_(H * m.L2.linear.weight[:, :1])
        one.L2.linear.bias.copy_(m.L2.linear.bias)
        x = torch.as_tensor(BLOBS.X, dtype=torch.float64)
        np.testing.assert_allclose(m(x).numpy(), one(x).numpy(), rtol=1e-12, atol=1e-12)
