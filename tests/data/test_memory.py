"""Streaming large data: memory-mapped pages released, blockwise checks, row selections read batch by batch.

Each streamed path is checked against the plain in-memory computation (the same values), and the
page release against the process's own resident file pages (/proc/self/status, RssFile).
"""
import numpy as np
import pytest
import torch
from torch import nn

from nichelab.capture import Rows, capture
from nichelab.data import _memory
from nichelab.data.loaders import load_npz
from nichelab.metrics.probes import linear_probe
from nichelab.train import TrainConfig, train_one


def _rss_file_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("RssFile"):
            return int(line.split()[1]) / 1024
    pytest.skip("no /proc/self/status")


@pytest.fixture
def big_npz(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 784), dtype=np.float32)      # 63 MB
    y = rng.integers(0, 10, len(X))
    np.savez(tmp_path / "d.npz", X=X, y=y)
    return tmp_path / "d.npz", X, y


def test_npz_is_mapped_and_a_pass_over_it_does_not_keep_its_pages(big_npz):
    path, X, _ = big_npz
    d = load_npz(path)
    assert _memory.mapping_of(d.X) is not None and _memory.mapping_of(np.array(d.X[:3])) is None
    _memory.release(d.X)
    before = _rss_file_mb()
    model = nn.Sequential(nn.Linear(784, 8), nn.ReLU())
    acts = capture(model, d.X, ["1"], batch_size=512)["1"]
    # without the release the whole 63 MB file would stay mapped; the release leaves at most one block
    assert _rss_file_mb() - before < 63 / 2
    np.testing.assert_allclose(acts, torch.relu(model[0](torch.from_numpy(X))).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_release_keeps_the_values(big_npz):
    path, X, _ = big_npz
    d = load_npz(path)
    first = np.array(d.X[100:200])
    _memory.release(d.X)
    np.testing.assert_array_equal(d.X[100:200], first)
    np.testing.assert_array_equal(first, X[100:200])
    _memory.release(np.zeros(3))        # not mapped: nothing happens


@pytest.mark.parametrize("block", [4096, 3136 * 7 + 1, 2**30])
def test_count_nonfinite_matches_the_naive_count_across_blocks(monkeypatch, block):
    monkeypatch.setattr(_memory, "BLOCK_BYTES", block)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((1000, 784)).astype(np.float32)
    X[rng.integers(0, 1000, 37), rng.integers(0, 784, 37)] = np.nan
    X[999, 783] = np.inf
    X[0, 0] = -np.inf
    assert _memory.count_nonfinite(X) == int(X.size - np.isfinite(X).sum())
    assert _memory.count_nonfinite(np.zeros((0, 3))) == 0
    assert _memory.count_nonfinite(np.ones((4, 2), np.int64)) == 0


def test_rows_capture_equals_capture_of_the_copy():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((1000, 20)).astype(np.float32)
    idx = np.sort(rng.choice(1000, 333, replace=False))
    model = nn.Sequential(nn.Linear(20, 16), nn.Tanh(), nn.Linear(16, 4))
    a = capture(model, Rows(X, idx), ["1"], batch_size=64)["1"]
    b = capture(model, X[idx], ["1"], batch_size=64)["1"]
    w, c = (t.detach().double().numpy() for t in (model[0].weight, model[0].bias))
    ref = np.tanh(X[idx].astype(np.float64) @ w.T + c)
    assert a.shape == (333, 16) and a.dtype == np.float32
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(a, ref, rtol=1e-5, atol=1e-6)
    r = Rows(X, idx)
    assert len(r) == 333 and r.shape == (333, 20)
    np.testing.assert_array_equal(np.asarray(r), X[idx])
    np.testing.assert_array_equal(r[5:9], X[idx[5:9]])


def test_forward_logits_on_rows_equals_the_copy():
    from nichelab.studies.analyze.prepare import forward_logits
    rng = np.random.default_rng(3)
    X = rng.standard_normal((700, 10)).astype(np.float32)
    idx = rng.permutation(700)[:450]
    model = nn.Sequential(nn.Linear(10, 5))
    a = forward_logits(model, X, rows=idx, batch_size=128)
    b = forward_logits(model, X[idx], batch_size=128)
    ref = X[idx].astype(np.float64) @ model[0].weight.detach().double().numpy().T + model[0].bias.detach().double().numpy()
    assert a.shape == (450, 5) and a.dtype == np.float64
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(a, ref, rtol=1e-4, atol=1e-5)


def test_train_one_on_rows_is_training_on_the_copy():
    from nichelab.nn import build_model
    rng = np.random.default_rng(4)
    X = rng.standard_normal((600, 8)).astype(np.float32)
    y = rng.integers(0, 3, 600)
    rows = np.sort(rng.choice(600, 400, replace=False))
    cfg = TrainConfig(epochs=3, batch_size=32)
    a = train_one(build_model("mlp 12", (8,), 3, seed=0), X, y[rows], cfg, seed=5, rows=rows)
    b = train_one(build_model("mlp 12", (8,), 3, seed=0), X[rows], y[rows], cfg, seed=5)
    np.testing.assert_allclose(a.loss, b.loss, rtol=1e-5)
    for (k, p), q in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-4, atol=1e-6, err_msg=k)


def test_linear_probe_equals_the_sklearn_pipeline_and_leaves_its_input_alone():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 400)
    X = (rng.standard_normal((400, 6)) + y[:, None]).astype(np.float32)
    keep = X.copy()
    res = linear_probe(X, y, seed=7)
    np.testing.assert_array_equal(X, keep)
    x_tr, x_te, y_tr, y_te = train_test_split(X.astype(np.float64), y, test_size=120, random_state=7, stratify=y)
    ref = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x_tr, y_tr)
    assert res.n_train == 280 and res.n_test == 120
    assert abs(res.train_acc - ref.score(x_tr, y_tr)) <= 1 / 280 and abs(res.test_acc - ref.score(x_te, y_te)) <= 1 / 120


def test_top_example_pictures_read_on_demand_equal_the_copy():
    from nichelab.studies.analyze.pipeline import _limits, _Pictures
    rng = np.random.default_rng(6)
    X = rng.standard_normal((50, 64)).astype(np.float32)
    idx = np.sort(rng.choice(50, 31, replace=False))
    rows = Rows(X, idx)
    images = X[idx].reshape(31, 1, 8, 8)
    pics = _Pictures(rows, (1, 8, 8))
    for p in (0, 7, 30):
        np.testing.assert_array_equal(pics[p], images[p])
    assert _limits(rows, block=7) == (float(images.min()), float(images.max()))


def test_training_on_rows_of_a_mapped_file_does_not_keep_its_pages(big_npz):
    from nichelab.nn import build_model
    path, _, _ = big_npz
    d = load_npz(path)
    _memory.release(d.X)
    before = _rss_file_mb()
    rows = np.arange(0, len(d), 2)              # every other row: each one faults in the pages around it
    res = train_one(build_model("mlp 4", (784,), 10, seed=0), d.X, d.y[rows], TrainConfig(epochs=1, batch_size=256),
                    seed=0, rows=rows)
    assert np.isfinite(res.loss).all()
    assert _rss_file_mb() - before < 63 / 2


def test_gather_of_scattered_rows_equals_fancy_indexing_and_releases_pages(big_npz):
    path, X, _ = big_npz
    d = load_npz(path)
    _memory.release(d.X)
    before = _rss_file_mb()
    idx = np.random.default_rng(7).permutation(len(X))[:5000]
    out = _memory.gather(d.X, idx, rows=256)
    assert _rss_file_mb() - before < 63 / 2
    np.testing.assert_array_equal(out, X[idx])
    np.testing.assert_array_equal(_memory.gather(X, idx[:10]), X[idx[:10]])     # not mapped: plain indexing


def test_take_reads_scattered_rows_from_the_file_without_mapping_them(big_npz, tmp_path):
    path, X, _ = big_npz
    d = load_npz(path)
    _memory.release(d.X)
    before = _rss_file_mb()
    rng = np.random.default_rng(3)
    for idx in (rng.permutation(len(X))[:3000], np.arange(17, 4000), np.array([5, 6, 7, 19_999, -1, 0, 0])):
        out = _memory.take(d.X, idx)
        np.testing.assert_array_equal(out, X[idx])
        assert out.flags.c_contiguous and out.dtype == X.dtype
    # none of those 7,000 rows (22 MB, spread over the whole file) stayed mapped
    assert _rss_file_mb() - before < 4
    # views of the map (a slice of the memmap, an ndarray view) and a .npy opened with np.load(mmap_mode="r")
    np.testing.assert_array_equal(_memory.take(d.X[100:300], [0, 5, 199]), X[100:300][[0, 5, 199]])
    np.testing.assert_array_equal(_memory.take(np.asarray(d.X)[10:], [0, 1, 2, 50]), X[10:][[0, 1, 2, 50]])
    np.save(tmp_path / "a.npy", X[:300])
    m = np.load(tmp_path / "a.npy", mmap_mode="r")
    np.testing.assert_array_equal(_memory.take(m[7:], [0, 292, 5]), X[7:300][[0, 292, 5]])
    np.testing.assert_array_equal(_memory.take(X, [3, 1]), X[[3, 1]])            # not mapped: plain indexing
    assert _memory.take(d.X, np.arange(0)).shape == (0, 784)
    with pytest.raises(IndexError):
        _memory.take(d.X, [len(X)])


def test_train_one_does_not_import_dynamo():
    """Any torch.optim optimizer imports torch._dynamo and sympy (about 70 MB resident); the loop does not."""
    import subprocess
    import sys
    code = ("import sys, numpy as np; from nichelab.nn import build_model; from nichelab.train import TrainConfig, "
            "train_one; X = np.ones((40, 6), np.float32); y = np.arange(40) % 2; "
            "train_one(build_model('mlp 4', (6,), 2, seed=0), X, y, TrainConfig(epochs=1, batch_size=8), seed=0); "
            "print('torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_train_one_uses_torch_optim_arithmetic():
    """The one-seed loop's updates equal torch.optim.Adam / SGD's bit for bit (checked against a plain
    torch.optim loop)."""
    import copy
    import torch.nn.functional as F
    from nichelab.nn import build_model
    from nichelab.train.config import epoch_orders, make_optimizer
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 20)).astype(np.float32)
    y = rng.integers(0, 3, 300)
    for kw in (dict(optimizer="adam", lr=3e-2, weight_decay=1e-3), dict(optimizer="sgd", lr=0.1, momentum=0.9,
                                                                         weight_decay=1e-4)):
        cfg = TrainConfig(epochs=2, batch_size=32, **kw)
        model = build_model("mlp 16-8", (20,), 3, seed=0)
        ref = copy.deepcopy(model)
        res = train_one(model, X, y, cfg, seed=1)
        opt = make_optimizer(list(ref.parameters()), cfg)
        ref.train()
        orders = epoch_orders(1, len(y), cfg.epochs)
        for epoch in range(cfg.epochs):
            for start in range(0, len(y), 32):
                idx = torch.as_tensor(orders[epoch, start:start + 32])
                loss = F.cross_entropy(ref(torch.from_numpy(X)[idx]), torch.as_tensor(y)[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
        for (k, a), b in zip(res.model.state_dict().items(), ref.state_dict().values()):
            assert torch.equal(a, b), k


def test_probe_of_float32_equals_the_probe_of_its_float64_copy():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 4, 600)
    a = (rng.standard_normal((600, 40)) + y[:, None] * 0.3).astype(np.float32) * np.float32(3e-30)
    a[:, 5] = 0.0                                       # a constant column
    ref = linear_probe(a.astype(np.float64), y, seed=2)
    assert linear_probe(a, y, seed=2) == ref
    assert linear_probe(a.astype(np.float16).astype(np.float32), y, seed=2).n_test == ref.n_test
    bad = a.copy()
    bad[3, 3] = np.nan
    with pytest.raises(Exception, match="acts"):
        linear_probe(bad, y)
