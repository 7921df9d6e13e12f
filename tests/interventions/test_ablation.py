"""Single-unit ablation: a hand-built model where one unit alone carries one class."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from nichelab.errors import NichelabError
from nichelab.interventions import AblationResult, ablate_units


def _hand_built():
    """x = one-hot(class) + small noise -> hidden ReLU(I x) -> logits I h + (0.5, 0, 0).

    Class 0 is also carried by the output bias, so ablating hidden unit 0 changes nothing;
    ablating unit 1 (or 2) sends every class-1 (class-2) sample to class 0.
    """
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 3))
    with torch.no_grad():
        model[0].weight.copy_(torch.eye(3))
        model[0].bias.zero_()
        model[2].weight.copy_(torch.eye(3))
        model[2].bias.copy_(torch.tensor([0.5, 0.0, 0.0]))
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [10, 12, 8])
    x = (np.eye(3)[y] + rng.uniform(0, 0.1, size=(30, 3))).astype(np.float32)
    return model, x, y


@pytest.mark.parametrize("mode", ["zero", "mean"])
@pytest.mark.parametrize("batch_size", [1024, 7])
def test_one_unit_carries_one_class(mode, batch_size):
    model, x, y = _hand_built()
    res = ablate_units(model, "1", x, y, mode=mode, batch_size=batch_size)
    assert isinstance(res, AblationResult)
    assert res.baseline_acc == 1.0
    np.testing.assert_array_equal(res.baseline_class_acc, [1, 1, 1])
    np.testing.assert_array_equal(res.class_counts, [10, 12, 8])
    np.testing.assert_array_equal(res.delta_class_acc, [[0, 0, 0], [0, -1, 0], [0, 0, -1]])
    np.testing.assert_allclose(res.acc, [1.0, 18 / 30, 22 / 30])
    assert res.unit_names == ["1:0", "1:1", "1:2"]


def test_units_subset_and_training_flag_restored():
    model, x, y = _hand_built()
    model.train()
    res = ablate_units(model, "1", torch.from_numpy(x), y, units=[2])
    np.testing.assert_array_equal(res.units, [2])
    np.testing.assert_array_equal(res.delta_class_acc, [[0, 0, -1]])
    assert model.training and model[0].training
    assert all(not m._forward_hooks for m in model.modules())


class Wrapped(nn.Module):
    def __init__(self, seq):
        super().__init__()
        self.seq = seq

    def forward(self, x):
        return self.seq(x)


def _reference(model, layer, x, y, mode, n_classes):
    """One plain forward per unit, no stacking: accuracy per class."""
    module = model.get_submodule(layer)
    xt = torch.from_numpy(x)
    with torch.no_grad():
        store = {}
        h = module.register_forward_hook(lambda m, a, o: store.setdefault("out", o.clone()))
        model(xt)
        h.remove()
        mean = store["out"].double().mean(0).float()
        out = []
        for u in range(store["out"].shape[1]):
            def hook(m, a, o, u=u):
                o = o.clone()
                o[:, u] = 0 if mode == "zero" else mean[u]
                return o
            h = module.register_forward_hook(hook)
            pred = model(xt).argmax(1).numpy()
            h.remove()
            out.append([np.mean(pred[y == c] == c) for c in range(n_classes)])
    return np.array(out)


@pytest.mark.parametrize("mode", ["zero", "mean"])
@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_matches_unit_by_unit_reference(mode, kind):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    if kind == "mlp":
        model = nn.Sequential(nn.Linear(4, 9), nn.ReLU(), nn.Linear(9, 3))
        x = rng.normal(size=(37, 4)).astype(np.float32)
    else:
        model = nn.Sequential(nn.Conv2d(1, 5, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(5 * 16, 3))
        x = rng.normal(size=(37, 1, 4, 4)).astype(np.float32)
    y = rng.integers(0, 3, 37)
    ref = _reference(model, "1", x, y, mode, 3)
    wrapped = Wrapped(model)             # not a plain Sequential: the hook path
    for batch_size in (16, 100, 1000):   # one unit per pass; 2 units + partial chunk; 27 units
        fast = ablate_units(model, "1", x, y, mode=mode, batch_size=batch_size)
        hooked = ablate_units(wrapped, "seq.1", x, y, mode=mode, batch_size=batch_size)
        np.testing.assert_allclose(fast.class_acc, ref)
        np.testing.assert_allclose(hooked.class_acc, ref)
        assert fast.baseline_acc == hooked.baseline_acc


def test_hooks_removed_when_forward_raises():
    class Boom(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc, self.calls = nn.Linear(2, 2), 0

        def forward(self, x):
            self.calls += 1
            if self.calls > 1:
                raise RuntimeError("boom")
            return self.fc(x)

    model = Boom()
    with pytest.raises(NichelabError, match="ablating layer 'fc' failed.*boom"):
        ablate_units(model, "fc", np.zeros((4, 2), np.float32), [0, 1, 0, 1])
    assert not model.fc._forward_hooks


def test_bad_arguments():
    model, x, y = _hand_built()
    with pytest.raises(NichelabError, match="did you mean '1'"):
        ablate_units(model, "1x", x, y)
    with pytest.raises(NichelabError, match=r"units must be in \[0, 3\)"):
        ablate_units(model, "1", x, y, units=[3])
    with pytest.raises(NichelabError, match="mode must be"):
        ablate_units(model, "1", x, y, mode="noise")
    with pytest.raises(NichelabError, match="< 3"):
        ablate_units(model, "1", x, np.full(30, 3))
    with pytest.raises(NichelabError, match=r"x and y must have the same number of samples"):
        ablate_units(model, "1", x, y[:5])


# ------------------------------------------------------------------------ reused modules, per call
class ReusedReLU(nn.Module):
    """ResNet-style: one ``nn.ReLU`` called twice; ``relu`` after fc1, ``relu#1`` after fc2 + skip."""

    def __init__(self, d=4, k=3):
        super().__init__()
        self.fc1, self.fc2, self.out, self.relu = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, k), nn.ReLU()

    def forward(self, x):
        h = self.relu(self.fc1(x))
        return self.out(self.relu(self.fc2(h) + x))


def _np_forward(model, x, call=None, unit=None, fill=None):
    """float64 reference forward with unit ``unit`` of ReLU call ``call`` set to ``fill`` (0 by default)."""
    W = {n: (m.weight.detach().double().numpy(), m.bias.detach().double().numpy())
         for n, m in [("fc1", model.fc1), ("fc2", model.fc2), ("out", model.out)]}
    x = x.astype(np.float64)
    h = np.maximum(x @ W["fc1"][0].T + W["fc1"][1], 0)
    if call == 0:
        h[:, unit] = 0 if fill is None else fill
    h2 = np.maximum(h @ W["fc2"][0].T + W["fc2"][1] + x, 0)
    if call == 1:
        h2[:, unit] = 0 if fill is None else fill
    return h2 @ W["out"][0].T + W["out"][1]


def test_reused_module_ablated_per_call_matches_reference():
    torch.manual_seed(3)
    model = ReusedReLU()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4)).astype(np.float32)
    y = _np_forward(model, x).argmax(1)
    y[::7] = (y[::7] + 1) % 3                                  # some errors: baseline below 100 %
    first, second = ablate_units(model, "relu", x, y), ablate_units(model, "relu#1", x, y, batch_size=64)
    assert first.layer == "relu" and second.layer == "relu#1"
    assert first.n_calls == 2 and second.n_calls == 2
    for res, call in ((first, 0), (second, 1)):
        ref = [np.mean(_np_forward(model, x, call, k).argmax(1) == y) for k in range(4)]
        np.testing.assert_allclose(res.acc, ref, atol=1e-12)
    assert not np.allclose(first.acc, second.acc)
    # mean mode fills with that call's own mean
    mean2 = ablate_units(model, "relu#1", x, y, mode="mean")
    with torch.no_grad():
        h2 = torch.relu(model.fc2(torch.relu(model.fc1(torch.from_numpy(x)))) + torch.from_numpy(x)).double().numpy()
    ref = [np.mean(_np_forward(model, x, 1, k, fill=h2[:, k].mean()).argmax(1) == y) for k in range(4)]
    np.testing.assert_allclose(mean2.acc, ref, atol=1e-12)


def test_token_inputs_and_sequence_units():
    """Dict inputs; units of an (n, seq, d) output are its last axis."""
    class Tok(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb, self.fc, self.head = nn.Embedding(6, 3), nn.Linear(3, 3), nn.Linear(3, 2)

        def forward(self, input_ids, attention_mask):
            h = torch.relu(self.fc(self.emb(input_ids)))          # (n, seq, 3)
            return self.head((h * attention_mask[..., None]).sum(1))

    torch.manual_seed(0)
    model = Tok()
    rng = np.random.default_rng(0)
    ids, mask = rng.integers(0, 6, size=(40, 5)), np.ones((40, 5), np.int64)
    with torch.no_grad():
        y = model(torch.from_numpy(ids), torch.from_numpy(mask)).argmax(1).numpy()
    res = ablate_units(model, "fc", {"input_ids": ids, "attention_mask": mask}, y)
    assert res.baseline_acc == 1.0 and res.units.tolist() == [0, 1, 2]
    with torch.no_grad():
        for k in range(3):
            h = torch.relu(model.fc(model.emb(torch.from_numpy(ids))).index_fill(2, torch.tensor([k]), 0.0))
            ref = (model.head(h.sum(1)).argmax(1).numpy() == y).mean()
            assert res.acc[k] == pytest.approx(ref)
