"""Tests for nichelab.capture: values against a manual forward, batching, hooks, names."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from nichelab.capture import capture, default_layers, hooks, layer_names
from nichelab.errors import NichelabError


class Block(nn.Module):
    """Same layout as the built-in blocks: ``.linear`` then ``.act``."""

    def __init__(self, d_in, d_out, act=True):
        super().__init__()
        self.linear = nn.Linear(d_in, d_out)
        self.act = nn.ReLU() if act else nn.Identity()

    def forward(self, x):
        return self.act(self.linear(x))


class BlockNet(nn.Sequential):
    def __init__(self):
        super().__init__()
        self.add_module("L1", Block(3, 5))
        self.add_module("L2", Block(5, 4))
        self.add_module("L3", Block(4, 2, act=False))
        self.output = "L3"


class SharedReLU(nn.Module):
    """One ReLU instance applied after two different layers."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.act = nn.Linear(3, 4), nn.Linear(4, 2), nn.ReLU()

    def forward(self, x):
        return self.act(self.fc2(self.act(self.fc1(x))))


class FailsOnSecondBatch(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc, self.act, self.calls = nn.Linear(3, 2), nn.ReLU(), 0

    def forward(self, x):
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("boom")
        return self.act(self.fc(x))


def _data(n=23, d=3, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def _no_hooks(model):
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


@pytest.fixture
def net():
    torch.manual_seed(0)
    return BlockNet()


def test_values_match_manual_forward(net):
    x = _data()
    acts = capture(net, x, ["L1", "L2", "L1.linear"])
    with torch.no_grad():
        t = torch.from_numpy(x)
        pre1 = net.L1.linear(t)
        h1 = torch.relu(pre1)
        h2 = torch.relu(net.L2.linear(h1))
    np.testing.assert_allclose(acts["L1"], h1.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(acts["L2"], h2.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(acts["L1.linear"], pre1.numpy(), rtol=1e-6, atol=1e-7)
    assert all(a.dtype == np.float32 for a in acts.values())
    assert acts["L1"].shape == (23, 5)


def test_default_layers_blocks_without_output(net):
    assert default_layers(net) == ["L1", "L2"]
    assert list(capture(net, _data())) == ["L1", "L2"]


def test_default_layers_generic_models():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2))
    assert default_layers(seq) == ["1", "3"]
    no_act = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    assert default_layers(no_act) == ["0", "1"]


def test_batches_equal_single_batch(net):
    x = _data(n=50)
    whole = capture(net, x, batch_size=1000)
    parts = capture(net, x, batch_size=7)
    for k in whole:
        np.testing.assert_allclose(parts[k], whole[k], rtol=1e-6, atol=1e-7)


def test_dataloader_tensor_and_generator_inputs(net):
    x = _data(n=40)
    ref = capture(net, x)
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.zeros(40)), batch_size=16)
    from_loader = capture(net, loader)
    from_tensor = capture(net, torch.from_numpy(x).double(), batch_size=9)
    from_gen = capture(net, (torch.from_numpy(x[i:i + 10]) for i in range(0, 40, 10)))
    for k in ref:
        np.testing.assert_allclose(from_loader[k], ref[k], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(from_tensor[k], ref[k], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(from_gen[k], ref[k], rtol=1e-6, atol=1e-7)


def test_reused_module_records_every_call():
    torch.manual_seed(1)
    model = SharedReLU()
    x = _data(n=11)
    acts = capture(model, x, ["act"], batch_size=4)
    assert list(acts) == ["act", "act#1"]
    with torch.no_grad():
        h1 = torch.relu(model.fc1(torch.from_numpy(x)))
        h2 = torch.relu(model.fc2(h1))
    np.testing.assert_allclose(acts["act"], h1.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(acts["act#1"], h2.numpy(), rtol=1e-6, atol=1e-7)


def test_hooks_removed_and_mode_restored_when_forward_raises():
    model = FailsOnSecondBatch()
    model.train()
    msg = r"capturing layers \['act'\] failed on a batch of shape \(4, 3\): boom"
    with pytest.raises(NichelabError, match=msg):
        capture(model, _data(n=10), ["act"], batch_size=4)
    assert _no_hooks(model)
    assert model.training and model.fc.training


def test_shape_mismatch_names_expected_input(net):
    with pytest.raises(NichelabError, match="expects 3 features") as err:
        capture(net, np.zeros((4, 7), np.float32))
    assert "(4, 7)" in str(err.value)
    assert _no_hooks(net)


def test_conv_shape_mismatch_names_channels():
    model = nn.Sequential(nn.Conv2d(3, 2, 3), nn.ReLU())
    with pytest.raises(NichelabError, match="3 input channels"):
        capture(model, np.zeros((2, 1, 5, 5), np.float32))


def test_training_flags_restored(net):
    net.train()
    net.L2.eval()   # mixed flags survive
    capture(net, _data())
    assert net.training and net.L1.training and net.L1.linear.training
    assert not net.L2.training and not net.L2.linear.training
    assert _no_hooks(net)


def test_eval_mode_during_capture():
    model = nn.Sequential(nn.Linear(3, 50), nn.Dropout(0.5), nn.ReLU())
    model.train()
    x = _data()
    a, b = capture(model, x, ["2"]), capture(model, x, ["2"])
    np.testing.assert_array_equal(a["2"], b["2"])


def test_unknown_layer_suggests_close_name(net):
    with pytest.raises(NichelabError, match=r"unknown layer 'L22'.*did you mean 'L2'") as err:
        capture(net, _data(), ["L1", "L22"])
    assert "L1.linear" in str(err.value)   # lists the model's layers
    assert _no_hooks(net)


def test_predicate_and_single_name(net):
    acts = capture(net, _data(), lambda name, m: isinstance(m, nn.Linear))
    assert list(acts) == ["L1.linear", "L2.linear", "L3.linear"]
    assert list(capture(net, _data(), "L2")) == ["L2"]


def test_layer_names(net):
    assert layer_names(net)[:3] == ["L1", "L1.linear", "L1.act"]
    assert "" not in layer_names(net)


def test_conv_unflattened_and_reduced():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU())
    x = np.random.default_rng(0).normal(size=(6, 2, 5, 5)).astype(np.float32)
    full = capture(model, x, ["1"])["1"]
    assert full.shape == (6, 3, 5, 5)
    np.testing.assert_allclose(capture(model, x, ["1"], reduce="mean")["1"], full.mean(axis=(2, 3)),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(capture(model, x, ["1"], reduce="max")["1"], full.max(axis=(2, 3)))


def test_sequence_output_not_flattened():
    model = nn.Sequential(nn.Linear(3, 4), nn.GELU())
    x = np.random.default_rng(0).normal(size=(5, 7, 3)).astype(np.float32)
    assert capture(model, x, ["1"])["1"].shape == (5, 7, 4)


def test_pre_activation(net):
    x = _data()
    pre = capture(net, x, ["L1"], pre_activation=True)["L1"]
    np.testing.assert_allclose(pre, capture(net, x, ["L1.linear"])["L1.linear"], rtol=1e-6)
    assert pre.min() < 0


def test_inplace_activation_does_not_change_record():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 6), nn.ReLU(inplace=True))
    x = _data()
    acts = capture(model, x, ["0", "1"])
    assert acts["0"].min() < 0
    np.testing.assert_array_equal(np.maximum(acts["0"], 0), acts["1"])
    pre = capture(model, x, ["1"], pre_activation=True)["1"]
    np.testing.assert_array_equal(pre, acts["0"])


def test_hooks_context_manager(net):
    with hooks(net, ["L1"]) as cache:
        net(torch.from_numpy(_data(n=4)))
        assert cache["L1"].shape == (4, 5)
        net(torch.from_numpy(_data(n=2)))
        assert list(cache) == ["L1"] and cache["L1"].shape == (2, 5)
    assert _no_hooks(net)


def test_hooks_removed_when_body_raises(net):
    with pytest.raises(KeyError):
        with hooks(net, ["L1", "L2"]):
            raise KeyError("x")
    assert _no_hooks(net)


@pytest.mark.parametrize("kwargs, match", [
    ({"reduce": "sum"}, "reduce must be"),
    ({"batch_size": 0}, "batch_size must be"),
    ({"layers": []}, "at least one layer"),
])
def test_bad_arguments(net, kwargs, match):
    with pytest.raises(NichelabError, match=match):
        capture(net, _data(), **kwargs)


def test_empty_inputs_and_unused_layer(net):
    with pytest.raises(NichelabError, match="no samples"):
        capture(net, np.zeros((0, 3), np.float32))
    model = FailsOnSecondBatch()        # its forward never calls .unused
    model.unused = nn.ReLU()
    with pytest.raises(NichelabError, match=r"layers \['unused'\] never ran"):
        capture(model, _data(n=3), ["fc", "unused"])


def test_docstring_examples():
    import doctest

    import importlib

    module = importlib.import_module("nichelab.capture")  # `nichelab.capture` the attribute is the function

    assert doctest.testmod(module).failed == 0


def test_fixed_batch_pads_and_trims(net):
    class OnlyFour(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            if x.shape[0] != 4:
                raise RuntimeError(f"static batch 4, got {x.shape[0]}")
            return self.inner(x)

    x = _data(n=10)
    model = OnlyFour(net)
    with pytest.raises(NichelabError, match="static batch 4"):
        capture(model, x, ["inner.L1"])
    fixed = capture(model, x, ["inner.L1"], fixed_batch=4)["inner.L1"]
    np.testing.assert_allclose(fixed, capture(net, x, ["L1"])["L1"], rtol=1e-6, atol=1e-7)
    loader = DataLoader(TensorDataset(torch.from_numpy(x)), batch_size=6)   # re-cut 6 -> 4 + 2
    np.testing.assert_allclose(capture(model, loader, ["inner.L1"], fixed_batch=4)["inner.L1"], fixed)


def test_default_layers_of_loaded_torchscript_and_one_line_errors(tmp_path):
    from collections import OrderedDict

    from nichelab.capture import default_layers
    from nichelab.errors import NichelabError
    from nichelab.nn.loading import load_model

    torch.manual_seed(0)
    ref = nn.Sequential(OrderedDict(fc=nn.Linear(4, 3), relu=nn.ReLU(), out=nn.Linear(3, 2))).eval()
    torch.jit.save(torch.jit.script(ref), str(tmp_path / "m.pt"))
    module = load_model(tmp_path / "m.pt").module
    assert default_layers(module) == ["relu"]
    x = np.random.default_rng(0).normal(size=(7, 4)).astype(np.float32)
    got = capture(module, x)["relu"]
    np.testing.assert_allclose(got, torch.relu(ref.fc(torch.as_tensor(x))).detach().numpy(), atol=1e-6)
    with pytest.raises(NichelabError) as info:
        capture(module, np.zeros((3, 5), np.float32))
    msg = str(info.value)
    assert "\n" not in msg and "Traceback" not in msg and "expects 4 features" in msg


def test_layer_names_skip_torchscript_internals(tmp_path):
    from nichelab.capture import layer_names
    from nichelab.nn.loading import load_model

    ref = nn.Sequential(nn.Linear(4, 3), nn.ReLU()).eval()
    torch.jit.save(torch.jit.script(ref), str(tmp_path / "m.pt"))
    assert layer_names(load_model(tmp_path / "m.pt").module) == ["0", "1"]


# --------------------------------------------------------------------- the hook primitive, per call
class RaisesInside(nn.Module):
    """Raises in the middle of the forward pass, after the hooked layer ran."""

    def __init__(self):
        super().__init__()
        self.fc, self.act = nn.Linear(3, 2), nn.ReLU()

    def forward(self, x):
        self.act(self.fc(x))
        raise RuntimeError("mid-forward")


def test_hooks_removed_when_forward_raises_mid_forward():
    model = RaisesInside()
    for kwargs in ({}, {"edit": lambda key, t: t * 0}, {"keep_graph": True, "stop": False}):
        with pytest.raises(RuntimeError, match="mid-forward"):
            with hooks(model, ["fc", "act"], **kwargs) as rec:
                model(torch.zeros(2, 3))
        assert set(rec) == {"fc", "act"}
        assert _no_hooks(model)


def test_per_call_keys_and_call_counts():
    torch.manual_seed(0)
    model = SharedReLU()
    x = _data()
    every = capture(model, x, ["act"])
    only_second = capture(model, x, ["act#1"])
    only_first = capture(model, x, ["act#0"])
    assert list(every) == ["act", "act#1"] and list(only_second) == ["act#1"] and list(only_first) == ["act"]
    np.testing.assert_array_equal(only_second["act#1"], every["act#1"])
    xt = torch.from_numpy(x)
    with torch.no_grad():
        np.testing.assert_allclose(every["act#1"], torch.relu(model.fc2(torch.relu(model.fc1(xt)))).numpy(), rtol=1e-6)
    from nichelab.capture import call_counts
    assert call_counts(every) == {"act": 2}
    with hooks(model, ["act", "fc1"]) as rec:
        model(xt)
    assert rec.calls == {"act": 2, "fc1": 1}


def test_edit_changes_one_call_only():
    torch.manual_seed(0)
    model = SharedReLU()
    xt = torch.from_numpy(_data())
    with torch.no_grad():
        with hooks(model, ["act#1"], record=False, edit=lambda key, t: torch.zeros_like(t)):
            out = model(xt)
        ref = model.fc2(torch.relu(model.fc1(xt))) * 0        # second call zeroed: output is 0
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    assert _no_hooks(model)


class DictModel(nn.Module):
    """Keyword inputs, a tuple output from an inner layer."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.pair = PairOut()

    def forward(self, input_ids, attention_mask=None):
        h, _ = self.pair(self.emb(input_ids))
        return h.mean(1)


class PairOut(nn.Module):
    def forward(self, h):
        return h * 2, torch.ones(h.shape[0])


def test_dict_batches_token_mean_and_tuple_select():
    torch.manual_seed(0)
    model = DictModel()
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 10, size=(7, 5))
    mask = np.ones((7, 5), np.int64)
    mask[:, 3:] = 0
    mask[0, 1:] = 0
    inputs = {"input_ids": ids, "attention_mask": mask}
    emb = model.emb.weight.detach().numpy()[ids] * 2                        # (7, 5, 4)
    ref_mean = (emb * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    acts = capture(model, inputs, ["pair"], unit_axis=-1, batch_size=3)
    np.testing.assert_allclose(acts["pair"], ref_mean, rtol=1e-5)
    first = capture(model, inputs, ["pair"], unit_axis=-1, tokens="first")["pair"]
    np.testing.assert_allclose(first, emb[:, 0], rtol=1e-6)
    every = capture(model, inputs, ["pair"], unit_axis=-1, tokens="all")["pair"]
    np.testing.assert_allclose(every, emb.transpose(0, 2, 1), rtol=1e-6)
    # an Embedding is features-last: no unit_axis needed; an iterable of dicts works the same
    batches = [{"input_ids": ids[:4], "attention_mask": mask[:4]}, {"input_ids": ids[4:], "attention_mask": mask[4:]}]
    e = capture(model, batches, ["emb"])["emb"]
    np.testing.assert_allclose(e, ref_mean / 2, rtol=1e-5)
    second = capture(model, inputs, ["pair"], select=1)["pair"]
    np.testing.assert_array_equal(second, np.ones(7))


def test_ambiguous_unit_axis_names_layer_shape_and_options():
    class Act3d(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc, self.act = nn.Linear(3, 4), nn.GELU()

        def forward(self, x):
            return self.act(self.fc(x))

    x = np.random.default_rng(0).normal(size=(5, 7, 3)).astype(np.float32)
    with pytest.raises(NichelabError, match=r"layer 'act' \(GELU\) outputs shape \(5, 7, 4\).*unit_axis=1 or unit_axis=-1"):
        capture(Act3d(), x, ["act"], reduce="mean")
    model = Act3d()
    full = capture(model, x, ["act"])["act"]                               # unreduced: left as it is
    assert full.shape == (5, 7, 4)
    np.testing.assert_allclose(capture(model, x, ["act"], reduce="mean", unit_axis=-1)["act"], full.mean(1),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(capture(model, x, ["fc"], reduce="mean")["fc"].shape, (5, 4))
    # in a Sequential the Linear before the activation decides: features last
    seq = nn.Sequential(nn.Linear(3, 4), nn.GELU())
    assert capture(seq, x, ["1"], reduce="mean")["1"].shape == (5, 4)
    conv = nn.Sequential(nn.Conv1d(7, 2, 1), nn.ReLU())                   # channels first: (n, 2, 3)
    assert capture(conv, x, ["1"], reduce="mean")["1"].shape == (5, 2)


def test_channels_last_unit_axis_moves_units_first():
    class ChannelsLast(nn.Module):
        def forward(self, x):                                               # (n, H, W, C) out
            return x * 1.0

    model = nn.Sequential()
    model.add_module("cl", ChannelsLast())
    x = np.random.default_rng(1).normal(size=(4, 3, 3, 6)).astype(np.float32)
    a = capture(model, x, ["cl"], unit_axis=-1, reduce="mean")["cl"]
    np.testing.assert_allclose(a, x.mean(axis=(1, 2)), rtol=1e-6)
    assert capture(model, x, ["cl"], unit_axis={"cl": 3})["cl"].shape == (4, 6, 3, 3)
    with pytest.raises(NichelabError, match="unit_axis for layer 'cl'"):
        capture(model, x, ["cl"], unit_axis=0)


def test_inputs_cast_to_model_dtype_and_device():
    model = nn.Sequential(nn.Linear(3, 2)).double()
    acts = capture(model, _data(n=4), ["0"])
    assert acts["0"].dtype == np.float32
    ids = capture(nn.Sequential(nn.Embedding(5, 2)), np.array([[1], [2]]), ["0"])["0"]
    assert ids.shape == (2, 1, 2)
