"""Identical units stay identical under gradient descent; dropout, noise and random init break the tie.

Hand-built symmetric networks (``make_symmetric``) trained by the loop and by the ensemble, with
every optimizer: the gap between units must stay at rounding level (REFERENCES.md, "Symmetry":
identical "up to floating-point reduction order"). Matrix-multiply kernels may sum identical rows
in different orders on some CPUs, so the tests never rely on BLAS returning bit-identical rows:
they bound the gap far below what a broken tie gives (> 1e-3 after a few epochs, see the
dropout test).
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
from nichelab.train import TrainConfig, train_ensemble, train_one

BLOBS = load_blobs()
#: Largest gap between tied units that rounding alone can explain over these short runs (a broken
#: tie is > 1e-3): a few hundred ulps of weights of order 1, amplified by the unstable symmetric point.
ROUNDING = {"float32": 1e-4, "float64": 1e-10}
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


@pytest.mark.parametrize("opt", OPTS, ids=["gd", "sgd+momentum+wd", "adam", "adam+wd"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_identical_units_stay_identical(opt, dtype):
    cfg = TrainConfig(epochs=25, dtype=dtype, **opt)
    build = lambda s: _sym("mlp 4-3", seed=s)   # noqa: E731
    one = train_one(build(1), BLOBS.X, BLOBS.y, cfg, seed=1).model
    ens = train_ensemble(build, BLOBS.X, BLOBS.y, cfg, [1, 2])
    for W1, W2 in [(one.L1.linear.weight.detach().numpy(), one.L2.linear.weight.detach().numpy()),
                   (ens.params["L1.linear.weight"], ens.params["L2.linear.weight"])]:
        tol = ROUNDING[dtype]
        assert _gap(W1) <= tol and _gap(W2) <= tol
        assert np.abs(W1 - build(1).L1.linear.weight.detach().numpy()).max() > 1e-3   # it did train


def test_identical_units_stay_identical_with_many_seeds():
    """The seed-minor fast path (many seeds) keeps the tie too."""
    ens = train_ensemble(lambda s: _sym("mlp 6", seed=s), BLOBS.X, BLOBS.y, TrainConfig(epochs=10), range(80))
    assert _gap(ens.params["L1.linear.weight"]) <= ROUNDING["float32"]


def _gaps_after(build, cfg):
    ens = train_ensemble(build, BLOBS.X, BLOBS.y, cfg, [0, 1])
    return [_gap(w) for w in ens.params["L1.linear.weight"]]


def test_dropout_breaks_the_tie():
    cfg = TrainConfig(epochs=5)
    assert max(_gaps_after(lambda s: _sym("mlp 4", s), cfg)) <= ROUNDING["float32"]
    assert min(_gaps_after(lambda s: _sym("mlp 4 dropout=0.2", s), cfg)) > 1e-3


def test_perturbation_breaks_the_tie_and_zero_perturbation_does_not():
    cfg = TrainConfig(epochs=60, dtype="float64")
    eps0 = _gaps_after(lambda s: perturb(_sym("mlp 4", s).double(), 0.0), cfg)
    assert max(eps0) <= ROUNDING["float64"]
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
