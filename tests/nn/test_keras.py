"""Keras 3 models on the torch backend: files written by Keras itself, captured by Keras layer names."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from nichelab.capture import capture, layer_names
from nichelab.errors import NichelabError

pytestmark = pytest.mark.skipif(importlib.util.find_spec("keras") is None, reason="needs nichelab[keras]")


@pytest.fixture(scope="module")
def keras():
    from nichelab.nn.keras import import_keras
    k = import_keras()
    k.utils.set_random_seed(0)
    return k


def _lab_model(keras):
    """The Machine Learning Specialization lab's model."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="relu", name="L1"),
                              keras.layers.Dense(4, activation="linear", name="L2")])
    return model


def _weights(layer):
    w, b = (np.asarray(v.numpy() if hasattr(v, "numpy") else v) for v in layer.get_weights())
    return w.astype(np.float64), b.astype(np.float64)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_lab_model_file_dense_outputs_match_numpy(keras, tmp_path, suffix):
    from nichelab.nn.loading import load_model
    model = _lab_model(keras)
    path = tmp_path / f"lab{suffix}"
    model.save(str(path))
    loaded = load_model(path)
    assert loaded.kind == "keras"
    assert layer_names(loaded.module) == ["L1", "L2"]
    x = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    acts = capture(loaded.module, x)                       # default layers: every layer but the output
    assert list(acts) == ["L1"]
    w1, b1 = _weights(model.get_layer("L1"))
    w2, b2 = _weights(model.get_layer("L2"))
    h = np.maximum(x @ w1 + b1, 0)
    np.testing.assert_allclose(acts["L1"], h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(capture(loaded.module, x, ["L2"])["L2"], h @ w2 + b2, rtol=1e-5, atol=1e-6)


def test_lab_unit_splits_match_builtin_net_with_same_weights(keras):
    """The Keras lab model and nichelab's own Net with the same weights give the same unit splits."""
    from nichelab.data.blobs import load_blobs
    from nichelab.metrics.partitions import active_classes
    from nichelab.nn import build_model, parse_spec
    from nichelab.nn.keras import wrap_keras
    data = load_blobs()
    model = _lab_model(keras)                       # trained by the learner, as in the lab
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.Adam(0.01))
    model.fit(data.X, data.y, epochs=40, verbose=0)
    wrapped = wrap_keras(model)
    net = build_model(parse_spec("mlp 2"), data.input_shape, 4, seed=0)
    w1, b1 = _weights(model.get_layer("L1"))
    w2, b2 = _weights(model.get_layer("L2"))
    with torch.no_grad():
        net.L1.linear.weight.copy_(torch.from_numpy(w1.T))
        net.L1.linear.bias.copy_(torch.from_numpy(b1))
        net.L2.linear.weight.copy_(torch.from_numpy(w2.T))
        net.L2.linear.bias.copy_(torch.from_numpy(b2))
    a_keras = capture(wrapped, data.X, ["L1"])["L1"]
    a_net = capture(net, data.X, ["L1"])["L1"]
    np.testing.assert_allclose(a_keras, a_net, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(active_classes(a_keras, data.y, 4), active_classes(a_net, data.y, 4))


def test_functional_cnn_channels_last_units(keras, tmp_path):
    from nichelab.nn.loading import load_model
    L = keras.layers
    inp = keras.Input((6, 6, 3))
    c = L.Conv2D(4, 3, activation="relu", name="conv2d_1")(inp)
    p = L.MaxPooling2D(name="pool")(c)
    f = L.Flatten(name="flat")(p)
    d = L.Dropout(0.5, name="drop")(f)
    out = L.Dense(2, name="out")(d)
    model = keras.Model(inp, out)
    path = tmp_path / "cnn.keras"
    model.save(str(path))
    module = load_model(path).module
    assert layer_names(module) == ["conv2d_1", "pool", "flat", "drop", "out"]
    x_nhwc = np.random.default_rng(0).normal(size=(5, 6, 6, 3)).astype(np.float32)
    x_nchw = np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2))
    ref = np.asarray(model.get_layer("conv2d_1")(x_nhwc).detach().cpu().numpy())     # (5, 4, 4, 4) NHWC
    for x in (x_nhwc, x_nchw):                             # both layouts accepted
        acts = capture(module, x, ["conv2d_1", "pool", "drop", "out"])
        np.testing.assert_allclose(acts["conv2d_1"], ref.transpose(0, 3, 1, 2), rtol=1e-5, atol=1e-6)
        assert acts["pool"].shape == (5, 4, 2, 2) and acts["drop"].shape == (5, 16)
        red = capture(module, x, ["conv2d_1"], reduce="mean")["conv2d_1"]
        np.testing.assert_allclose(red, ref.mean(axis=(1, 2)), rtol=1e-5, atol=1e-6)   # units = channels
        np.testing.assert_allclose(acts["out"], model(x_nhwc, training=False).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert module.input_shape == (3, 6, 6)
    with pytest.raises(NichelabError, match=r"expects images of shape \(n, 6, 6, 3\).*data gives samples of shape \(1, 6, 6\)"):
        capture(module, np.zeros((2, 1, 6, 6), np.float32))


def test_lambda_layer_refused_without_trust(keras, tmp_path):
    from nichelab.nn.loading import load_model
    model = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(lambda t: t * 2, name="lam"),
                              keras.layers.Dense(1, name="d")])
    for suffix in (".keras", ".h5"):
        path = tmp_path / f"lam{suffix}"
        model.save(str(path))
        with pytest.raises(NichelabError, match="Lambda layer.*--trust-pickle"):
            load_model(path)
        assert layer_names(load_model(path, trust_pickle=True).module) == ["lam", "d"]


def test_garbage_keras_file(keras, tmp_path):
    from nichelab.nn.loading import load_model
    path = tmp_path / "bad.keras"
    path.write_bytes(b"not a zip")
    with pytest.raises(NichelabError, match="bad.keras.*could not be read as a Keras model"):
        load_model(path)


def test_ablation_on_keras_dense_layer(keras):
    from nichelab.interventions import ablate_units
    from nichelab.nn.keras import wrap_keras
    model = _lab_model(keras)
    wrapped = wrap_keras(model)
    x = np.random.default_rng(1).normal(size=(80, 2)).astype(np.float32)
    w1, b1 = _weights(model.get_layer("L1"))
    w2, b2 = _weights(model.get_layer("L2"))
    h = np.maximum(x @ w1 + b1, 0)
    y = (h @ w2 + b2).argmax(1)
    res = ablate_units(wrapped, "L1", x, y)
    for k in range(2):
        hk = h.copy()
        hk[:, k] = 0
        assert res.acc[k] == pytest.approx(np.mean((hk @ w2 + b2).argmax(1) == y))
