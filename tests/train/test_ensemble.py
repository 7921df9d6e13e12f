"""The many-seed trainer against the one-seed loop, for every combination of model, optimizer and init."""
import numpy as np
import pytest
import torch

from nichelab.data import load_blobs
from nichelab.errors import NichelabError
from nichelab.nn import build_model
from nichelab.nn.init import make_symmetric, perturb
from nichelab.train import TrainConfig, ensemble_forward, train_ensemble, train_one
from nichelab.train.stacked import StackedMLP, mlp_plan

BLOBS = load_blobs()
_rng = np.random.default_rng(0)
X6 = _rng.normal(size=(90, 6)).astype(np.float32)
Y6 = (X6[:, 0] + X6[:, 1] * X6[:, 2] > 0).astype(np.int64) + 2 * (X6[:, 3] > 0.5)
IMGS = _rng.uniform(size=(40, 1, 6, 6)).astype(np.float32)
YIMG = (IMGS[:, 0, :3].mean(axis=(1, 2)) > IMGS[:, 0, 3:].mean(axis=(1, 2))).astype(np.int64)

OPTIMIZERS = {
    "adam": dict(optimizer="adam", lr=0.01),
    "adam+wd": dict(optimizer="adam", lr=0.01, weight_decay=0.01),
    "sgd": dict(optimizer="sgd", lr=0.1),
    "sgd+momentum+wd": dict(optimizer="sgd", lr=0.05, momentum=0.9, weight_decay=0.01),
}


def _builder(spec, X, n_classes, init="glorot", eps=0.0, dtype=torch.float32):
    def build(seed):
        m = build_model(spec, X.shape[1:], n_classes, init="glorot" if init == "symmetric+eps" else init, seed=seed)
        m = m.to(dtype)
        if init == "symmetric+eps":
            perturb(make_symmetric(m), eps, torch.Generator().manual_seed(100 + seed))
        return m
    return build


def _compare(build, X, y, cfg, seeds, backend="auto", atol=2e-5):
    ens = train_ensemble(build, X, y, cfg, seeds, backend=backend)
    for i, s in enumerate(seeds):
        one = train_one(build(s), X, y, cfg, seed=s)
        for name, p in one.model.named_parameters():
            np.testing.assert_allclose(ens.params[name][i], p.detach().numpy(), atol=atol, rtol=1e-5,
                                       err_msg=f"{name}, seed {s}")
        np.testing.assert_allclose(ens.loss[i], one.loss, rtol=1e-5, atol=atol)
    return ens


@pytest.mark.parametrize("opt", list(OPTIMIZERS))
@pytest.mark.parametrize("spec", ["mlp 2", "mlp 6-5-4", "mlp 5 act=tanh", "mlp 4-3 act=gelu dropout=0.3",
                                  "mlp 4 act=sigmoid dropout=0.2"])
def test_stacked_equals_loop(spec, opt):
    X, y = (BLOBS.X, BLOBS.y) if spec == "mlp 2" else (X6, Y6)
    cfg = TrainConfig(epochs=4, batch_size=16, **OPTIMIZERS[opt])
    ens = _compare(_builder(spec, X, 4), X, y, cfg, [3, 8])
    assert ens.backend == "stacked"


@pytest.mark.parametrize("init", ["glorot", "torch", "zeros", "symmetric", "symmetric+eps"])
@pytest.mark.parametrize("opt", ["adam", "sgd+momentum+wd"])
def test_inits_equal_loop_in_float64(init, opt):
    cfg = TrainConfig(epochs=3, batch_size=16, dtype="float64", **OPTIMIZERS[opt])
    build = _builder("mlp 5-4 dropout=0.2", X6, 4, init, eps=1e-6, dtype=torch.float64)
    ens = _compare(build, X6, Y6, cfg, [1, 2], atol=1e-11)
    assert ens.params["L1.linear.weight"].dtype == np.float64


def test_seed_minor_layout_equals_seed_major_and_loop():
    """70 lab networks use the seed-minor layout; both layouts and the loop agree."""
    build = _builder("mlp 2 dropout=0.25", BLOBS.X, 4)
    models = [build(s) for s in range(70)]
    from torch.func import stack_module_state
    params, _ = stack_module_state(models)
    plan = mlp_plan(models[0])
    assert StackedMLP(plan, params, set(params), torch.float32).layout == "seed_minor"
    cfg = TrainConfig(epochs=5)
    ens = train_ensemble(build, BLOBS.X, BLOBS.y, cfg, range(70))
    for s in (0, 69):
        one = train_one(build(s), BLOBS.X, BLOBS.y, cfg, seed=s)
        for name, p in one.model.named_parameters():
            np.testing.assert_allclose(ens.params[name][s], p.detach().numpy(), atol=2e-5, rtol=1e-5)
    small = train_ensemble(build, BLOBS.X, BLOBS.y, cfg, [0, 69])   # 2 seeds: seed-major
    for name in small.params:
        np.testing.assert_allclose(small.params[name], ens.params[name][[0, 69]], atol=2e-5, rtol=1e-5)


@pytest.mark.parametrize("opt", ["adam", "sgd+momentum+wd"])
def test_vmap_backend_equals_loop_for_cnn_with_dropout(opt):
    cfg = TrainConfig(epochs=2, batch_size=8, **OPTIMIZERS[opt])
    ens = _compare(_builder("cnn 3 fc=4 dropout=0.2", IMGS, 2), IMGS, YIMG, cfg, [0, 5])
    assert ens.backend == "vmap"


def test_vmap_backend_equals_loop_for_mlp():
    cfg = TrainConfig(epochs=3, batch_size=16)
    ens = _compare(_builder("mlp 4-3 dropout=0.3", X6, 4), X6, Y6, cfg, [4, 9], backend="vmap")
    assert ens.backend == "vmap"


@pytest.mark.parametrize("backend", ["stacked", "vmap"])
def test_frozen_parameters_stay_bit_identical(backend):
    def build(seed):
        m = build_model("mlp 5-4", (6,), 4, seed=seed)
        m.L1.linear.weight.requires_grad_(False)
        return m
    cfg = TrainConfig(epochs=3, batch_size=16, weight_decay=0.1)
    ens = _compare(build, X6, Y6, cfg, [0, 1], backend=backend)
    for i, s in enumerate([0, 1]):
        np.testing.assert_array_equal(ens.params["L1.linear.weight"][i],
                                      build(s).L1.linear.weight.detach().numpy())
    assert not np.allclose(ens.params["L1.linear.bias"], 0)


def test_on_step_snapshots_and_forward():
    seen = []
    cfg = TrainConfig(epochs=3, snapshot_epochs=(0, 2, 3))
    ens = train_ensemble(_builder("mlp 3", BLOBS.X, 4), BLOBS.X, BLOBS.y, cfg, [0, 1],
                         on_step=lambda k, p: seen.append((k, p["L1.linear.weight"].shape)))
    assert [k for k, _ in seen] == list(range(13))          # 100 samples / 32 = 4 steps per epoch
    assert all(shape == (2, 3, 2) for _, shape in seen)
    assert sorted(ens.snapshots) == [0, 2, 3]
    np.testing.assert_array_equal(ens.snapshots[3]["L1.linear.weight"], ens.params["L1.linear.weight"])
    logits = ensemble_forward(ens.template, ens.params, BLOBS.X)
    with torch.no_grad():
        ref = ens.model(1)(torch.as_tensor(BLOBS.X)).numpy()
    np.testing.assert_allclose(logits[1], ref, atol=1e-5)


def test_thread_count_is_restored():
    before = torch.get_num_threads()
    train_ensemble(_builder("mlp 2", BLOBS.X, 4), BLOBS.X, BLOBS.y, TrainConfig(epochs=1), [0])
    assert torch.get_num_threads() == before


def test_bad_backend_and_seeds():
    build = _builder("cnn 3", IMGS, 2)
    with pytest.raises(NichelabError, match="plain MLP"):
        train_ensemble(build, IMGS, YIMG, TrainConfig(epochs=1), [0], backend="stacked")
    with pytest.raises(NichelabError, match="backend"):
        train_ensemble(build, IMGS, YIMG, TrainConfig(epochs=1), [0], backend="fast")
    with pytest.raises(NichelabError, match="^seeds must be >= 1"):
        train_ensemble(build, IMGS, YIMG, TrainConfig(epochs=1), [])
    with pytest.raises(NichelabError, match="dtype"):
        TrainConfig(dtype="float16")
